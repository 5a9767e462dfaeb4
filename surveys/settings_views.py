"""The trust's analysis settings page: minimum group size, divergence thresholds and the
rating calendar. Thin: the form checks the numbers, the service (services/trust_settings.py)
applies the rules, saves and logs; this view only translates its errors onto the form."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.views.generic import FormView

from partnership.models import Level
from partnership.permissions import membership_can
from partnership.scoping import TrustScopedMixin

from .services.trust_settings import (
    FIELDS,
    changes_described,
    responses_exist,
    setting_changes,
    trust_settings_update,
)
from .settings_forms import AnalysisSettingsForm


class AnalysisSettingsView(TrustScopedMixin, FormView):
    """Who may change the settings (administrators, MD, CEO) sees the form; every board-level
    member sees the settings and the record of every change (who, when, old -> new)."""

    template_name = "surveys/trust_settings.html"
    form_class = AnalysisSettingsForm

    @cached_property
    def can_change(self):
        return membership_can(self.membership, "settings.analysis")

    def get(self, request, *args, **kwargs):
        if not (self.can_change or self.membership.level == Level.BOARD):
            raise PermissionDenied("Your role in this trust does not allow this.")
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if not self.can_change:
            raise PermissionDenied("Your role in this trust does not allow changing its analysis settings.")
        return super().post(request, *args, **kwargs)

    @cached_property
    def locked(self):
        """True once people have rated: the minimum group size can then only go up."""
        return responses_exist(self.trust)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "trust": self.trust, "locked": self.locked}

    def get_context_data(self, **kwargs):
        labels = AnalysisSettingsForm.base_fields
        current = [(labels[field].label, getattr(self.trust, field)) for field in FIELDS]
        return super().get_context_data(
            current=current,
            locked=self.locked,
            can_change=self.can_change,
            changes=setting_changes(self.trust),
            can_manage_rounds=membership_can(self.membership, "rounds.manage"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            changes = trust_settings_update(trust=self.trust, by=self.membership, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        if changes:
            messages.success(self.request, f"Settings saved. Changed: {changes_described(changes)}.")
        else:
            messages.info(self.request, "Nothing changed: the settings were already as shown.")
        return redirect("analysis_settings", trust_code=self.trust.code)
