"""Turning reminder emails off and on: the signed link in every reminder (no sign-in needed)
and the person's profile page. The rules live in services/reminders.py."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import FormView

from partnership.scoping import TrustScopedMixin

from .services.ratings import is_rater
from .services.reminders import reminders_membership_from_token, reminders_preference_set

ONE_CLICK = "One-Click"  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click"


@method_decorator(csrf_exempt, name="dispatch")
class ReminderOptOutView(View):
    """The opt-out link of a reminder email. Authenticated by its signed token, not by a sign-in.

    GET only shows a confirmation with one button, so a link scanner that fetches every link
    in an email unsubscribes nobody. POST turns reminders off. The view is CSRF-exempt only for
    the RFC 8058 one-click POST (sent by the mail client, authenticated by the token); the
    confirmation form's POST is CSRF-checked as usual.
    """

    template_name = "surveys/reminders_opt_out.html"

    def dispatch(self, request, trust_code, token):
        self.membership = reminders_membership_from_token(token)
        if self.membership is None or self.membership.trust.code != trust_code:
            return render(request, self.template_name, {"state": "invalid"}, status=404)
        return super().dispatch(request, trust_code, token)

    def _render(self, state):
        return render(
            self.request,
            self.template_name,
            {"state": state, "trust": self.membership.trust, "person": self.membership.user},
        )

    def get(self, request, trust_code, token):
        return self._render("confirm" if self.membership.receives_reminders else "done")

    def post(self, request, trust_code, token):
        if request.POST.get("List-Unsubscribe") == ONE_CLICK:
            return self._opt_out(request)
        return csrf_protect(self._opt_out)(request)

    def _opt_out(self, request):
        reminders_preference_set(membership=self.membership, receives=False)
        return self._render("done")


class ReminderPreferenceForm(forms.Form):
    receives_reminders = forms.BooleanField(
        label="Email me reminders to rate",
        required=False,
        help_text="When a round opens, and a week and two days before it closes if you have not finished.",
    )


class ProfileView(TrustScopedMixin, FormView):
    """A member's own page in this trust: who they are here, and whether they get reminders."""

    template_name = "surveys/profile.html"
    form_class = ReminderPreferenceForm

    def get_initial(self):
        return {"receives_reminders": self.membership.receives_reminders}

    def get_context_data(self, **kwargs):
        return super().get_context_data(person=self.request.user, is_rater=is_rater(self.membership), **kwargs)

    def form_valid(self, form):
        receives = form.cleaned_data["receives_reminders"]
        reminders_preference_set(membership=self.membership, receives=receives)
        if receives:
            messages.success(self.request, "Saved. You will get reminder emails to rate.")
        else:
            messages.success(self.request, "Saved. You will no longer get reminder emails; you can still rate.")
        return redirect("profile", trust_code=self.trust.code)
