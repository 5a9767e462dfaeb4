"""Objective pages. Thin: forms in, service calls, templates out; rules live in rules.py."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from partnership.scoping import TrustScopedMixin

from . import rules, services
from .forms import ObjectiveFilterForm, ObjectiveForm
from .models import Objective, Side, SignOff
from .panels import detail_panels_render
from .selectors import objective_history, objective_list


class ObjectiveMixin(TrustScopedMixin):
    """Loads the objective named by <ref> within the trust (404 if another trust's or hidden)."""

    def get_objective(self):
        queryset = Objective.objects.filter(services.objectives_visible_filter(self.membership)).select_related(
            "directorate", "clinical_lead__user", "managerial_lead__user", "proposed_by__user"
        )
        return get_object_or_404(queryset, ref=self.kwargs["ref"])


class ObjectiveListView(TrustScopedMixin, ListView):
    template_name = "objectives/objective_list.html"
    context_object_name = "objectives"
    paginate_by = 50

    def get_queryset(self):
        self.filter_form = ObjectiveFilterForm(self.request.GET or None, trust=self.trust)
        filters = self.filter_form.cleaned_data if self.filter_form.is_valid() else {}
        queryset, self.status_counts = objective_list(membership=self.membership, filters=filters)
        return queryset

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("status", None)
        return super().get_context_data(
            filter_form=self.filter_form,
            status_counts=self.status_counts,
            total=sum(count for _, _, count in self.status_counts),
            query_without_status=query.urlencode(),
            current_status=self.request.GET.get("status", ""),
            can_create=rules.can_create_any(self.membership),
            can_import=self.membership.is_administrator,
            **kwargs,
        )


class ObjectiveCreateView(TrustScopedMixin, FormView):
    template_name = "objectives/objective_form.html"
    form_class = ObjectiveForm

    def get_form(self, form_class=None):
        _require(rules.can_create_any(self.membership))
        return super().get_form(form_class)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "trust": self.trust, "membership": self.membership}

    def form_valid(self, form):
        fields = {name: value for name, value in form.cleaned_data.items() if name != "ref"}
        try:
            objective = services.objective_create(
                trust=self.trust, by=self.membership, ref=form.cleaned_data.get("ref", ""), **fields
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"{objective.ref} saved as a draft. Propose it when it is ready.")
        return redirect("objective_detail", trust_code=self.trust.code, ref=objective.ref)


class ObjectiveEditView(ObjectiveMixin, FormView):
    template_name = "objectives/objective_form.html"
    form_class = ObjectiveForm

    @cached_property
    def objective(self):
        objective = self.get_objective()
        _require(rules.can_edit(self.membership, objective))
        return objective

    def get_form(self, form_class=None):
        self.objective  # noqa: B018 -- 404/403 before building the form
        return super().get_form(form_class)

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "trust": self.trust,
            "membership": self.membership,
            "instance": Objective.objects.get(pk=self.objective.pk),  # a copy: the form mutates its instance
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(objective=self.objective, **kwargs)

    def form_valid(self, form):
        fields = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS if name in form.cleaned_data}
        try:
            reset = services.objective_update(
                objective=self.objective,
                by=self.membership,
                fields=fields,
                confirm_reset=form.cleaned_data.get("confirm_reset", False),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        if reset:
            messages.warning(
                self.request, f"{self.objective.ref} is back to proposed: both sides need to sign it off again."
            )
        else:
            messages.success(self.request, f"{self.objective.ref} saved.")
        return redirect("objective_detail", trust_code=self.trust.code, ref=self.objective.ref)


class ObjectiveDetailView(ObjectiveMixin, TemplateView):
    template_name = "objectives/objective_detail.html"

    def get_context_data(self, **kwargs):
        objective = self.get_objective()
        signoffs = {s.side: s for s in SignOff.objects.filter(objective=objective).select_related("membership__user")}
        sides = []
        for side in Side:
            awaiting = (
                []
                if side in signoffs or objective.status != "proposed"
                else [m for m in services.signers_needed(objective, exclude_sides=set(Side) - {side})]
            )
            sides.append({"side": side, "signoff": signoffs.get(side), "awaiting": awaiting})
        signed = set(signoffs)
        member = self.membership
        return super().get_context_data(
            objective=objective,
            sides=sides,
            history=objective_history(objective),
            panels=detail_panels_render(objective, member),
            can_edit=rules.can_edit(member, objective),
            can_propose=rules.can_propose(member, objective),
            can_sign_off=rules.can_sign_off(member, objective, signed),
            my_side=rules.signoff_side(member, objective),
            can_mark_achieved=rules.can_mark_achieved(member, objective),
            can_retire=rules.can_retire(member, objective),
            **kwargs,
        )


class ObjectiveActionView(ObjectiveMixin, View):
    """A lifecycle action: GET asks for confirmation, POST does it."""

    ACTIONS = {
        "propose": (
            rules.can_propose,
            services.objective_propose,
            "Propose this objective",
            "The people who must sign it off on each side will get an email. Your own sign-off counts for your side.",
            "{ref} proposed.",
        ),
        "sign-off": (
            lambda member, objective: rules.can_sign_off(
                member, objective, set(SignOff.objects.filter(objective=objective).values_list("side", flat=True))
            ),
            services.objective_sign_off,
            "Sign off this objective",
            "You agree to this objective's wording on behalf of your side.",
            "You signed off {ref}.",
        ),
        "achieve": (
            rules.can_mark_achieved,
            services.objective_mark_achieved,
            "Mark this objective achieved",
            "It will no longer be rated in future rounds.",
            "{ref} marked achieved.",
        ),
        "retire": (
            rules.can_retire,
            services.objective_retire,
            "Retire this objective",
            "It will no longer be rated; its history and past ratings are kept.",
            "{ref} retired.",
        ),
    }
    action = None

    def _load(self):
        self.objective = self.get_objective()
        self.allowed, self.perform, self.title, self.explanation, self.done = self.ACTIONS[self.action]
        _require(self.allowed(self.membership, self.objective))

    def get(self, request, trust_code, ref):
        self._load()
        context = {
            "trust": self.trust,
            "membership": self.membership,
            "objective": self.objective,
            "title": self.title,
            "explanation": self.explanation,
            "action": self.action,
        }
        return render(request, "objectives/objective_confirm.html", context)

    def post(self, request, trust_code, ref):
        self._load()
        try:
            objective = self.perform(objective=self.objective, by=self.membership)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("objective_detail", trust_code=self.trust.code, ref=self.objective.ref)
        message = self.done.format(ref=objective.ref)
        if objective.status == "agreed" and self.action == "sign-off":
            message += " Both sides have signed: it is now agreed."
        messages.success(request, message)
        return redirect("objective_detail", trust_code=self.trust.code, ref=objective.ref)


def _require(allowed):
    if not allowed:
        raise PermissionDenied("Your role does not allow this for this objective.")
