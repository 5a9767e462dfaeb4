"""Pages of the core app. Views translate HTTP to service calls; rules live in services/."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db.models import Case, Count, F, Q, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from .forms import InvitationAcceptForm, PersonInviteForm
from .home import home_panels_render
from .models import Invitation, Membership
from .permissions import membership_can
from .scoping import TrustScopedMixin, memberships_of
from .services.invitations import InvitationError, invitation_accept, invitation_create, invitation_from_token
from .services.people import PersonError, person_invite


def healthz(request):
    """Liveness for load balancers and compose: the process answers and reaches the database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_required
def home(request):
    """Send a member to their trust; a person in several trusts picks one."""
    memberships = memberships_of(request.user)
    if len(memberships) == 1:
        return redirect("trust_home", trust_code=memberships[0].trust.code)
    return render(request, "partnership/trust_pick.html", {"memberships": memberships})


class TrustHomeView(TrustScopedMixin, TemplateView):
    template_name = "partnership/trust_home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["panels"] = home_panels_render(self.membership)
        context["can_manage_people"] = membership_can(self.membership, "people.view")
        if context["can_manage_people"]:
            members = Membership.objects.active()
            context["group_counts"] = members.aggregate(
                total=Count("id"),
                senior_clinical=Count("id", filter=Q(level="board", professional_group="clinical")),
                senior_nonclinical=Count("id", filter=Q(level="board", professional_group="managerial")),
                operational_clinical=Count("id", filter=Q(level="operational", professional_group="clinical")),
                operational_nonclinical=Count("id", filter=Q(level="operational", professional_group="managerial")),
            )
            context["pending_invitations"] = Invitation.objects.filter(status=Invitation.Status.PENDING).count()
        return context


class PeopleListView(TrustScopedMixin, ListView):
    required_action = "people.view"
    template_name = "partnership/people_list.html"
    context_object_name = "people"
    paginate_by = 50

    def get_queryset(self):
        queryset = Membership.objects.select_related("user", "directorate").annotate(
            pending_invitations=Count("invitations", filter=Q(invitations__status=Invitation.Status.PENDING))
        )
        query = self.request.GET.get("q", "").strip()[:200]
        if query:
            # Names as the trust may see them (Membership.display_name): an existing account's own
            # name is neither shown nor searchable until it accepts the invitation.
            queryset = queryset.filter(
                Q(user__email__icontains=query)
                | Q(awaiting_acceptance=False, user__full_name__icontains=query)
                | Q(awaiting_acceptance=True, invited_name__icontains=query)
            )
        # Sorted by the name shown, so that not even a row's position hints at an unshown name.
        shown_name = Case(When(awaiting_acceptance=True, then=F("invited_name")), default=F("user__full_name"))
        return queryset.order_by(shown_name, "user__email")

    def get_context_data(self, **kwargs):
        return super().get_context_data(query=self.request.GET.get("q", "").strip()[:200], **kwargs)


class PersonInviteView(TrustScopedMixin, FormView):
    required_action = "people.invite"
    template_name = "partnership/person_invite.html"
    form_class = PersonInviteForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "trust": self.trust}

    def form_valid(self, form):
        try:
            invitation = person_invite(trust=self.trust, invited_by=self.request.user, **form.cleaned_data)
        except PersonError as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(self.request, f"Invitation sent to {invitation.membership.user.email}.")
        return redirect("people_list", trust_code=self.trust.code)


class PersonReinviteView(TrustScopedMixin, View):
    required_action = "people.invite"

    def post(self, request, trust_code, membership_id):
        membership = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id)
        invitation_create(membership=membership, invited_by=request.user)
        messages.success(request, f"A new invitation has been sent to {membership.user.email}.")
        return redirect("people_list", trust_code=self.trust.code)


class InvitationAcceptView(View):
    """The link in an invitation email: choose a password, then land on the trust's home.

    Opening the link (GET) changes nothing, so a mail scanner that follows links accepts no
    invitation: the person accepts with the page's button or form (POST, CSRF-checked)."""

    template_name = "partnership/invitation_accept.html"

    def dispatch(self, request, token):
        try:
            self.invitation = invitation_from_token(token)
        except InvitationError as exc:
            return render(request, "partnership/invitation_invalid.html", {"reason": str(exc)}, status=410)
        self.person = self.invitation.membership.user
        return super().dispatch(request, token)

    def trust_home(self):
        return reverse("trust_home", kwargs={"trust_code": self.invitation.trust.code})

    def get(self, request, token):
        if self.person.has_usable_password():
            return self._render(None)  # a "Join" button: the account keeps its password
        return self._render(InvitationAcceptForm(self.person))

    def post(self, request, token):
        if self.person.has_usable_password():
            return self._existing_account(request)
        form = InvitationAcceptForm(self.person, request.POST)
        if not form.is_valid():
            return self._render(form)
        try:
            user = invitation_accept(
                invitation=self.invitation,
                password=form.cleaned_data["new_password1"],
                full_name=form.cleaned_data["full_name"],
            )
        except InvitationError as exc:
            return render(request, "partnership/invitation_invalid.html", {"reason": str(exc)}, status=410)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to Common Ground, {user.get_short_name()}.")
        return redirect(self.trust_home())

    def _existing_account(self, request):
        """Someone who already has a password joins with the button, then signs in as usual;
        the link never resets the password."""
        try:
            invitation_accept(invitation=self.invitation)
        except InvitationError as exc:
            return render(request, "partnership/invitation_invalid.html", {"reason": str(exc)}, status=410)
        messages.info(request, f"You have joined {self.invitation.trust.name}. Sign in with your usual password.")
        if request.user.is_authenticated and request.user.pk == self.person.pk:
            return redirect(self.trust_home())
        return redirect(f"{reverse('login')}?next={self.trust_home()}")

    def _render(self, form):
        return render(
            self.request,
            self.template_name,
            {"form": form, "invitation": self.invitation, "person": self.person, "trust": self.invitation.trust},
        )
