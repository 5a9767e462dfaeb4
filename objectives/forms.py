from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.db.models import Q

from partnership.models import Directorate, Membership, ProfessionalGroup

from . import rules
from .models import THEME_EXPLANATIONS, Objective, Status, Theme
from .services import EDITABLE_FIELDS


class LeadChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, membership):
        return f"{membership.user.full_name or membership.user.email} ({membership.get_role_display().lower()})"


def _leads(group):
    return (
        Membership.objects.active()
        .filter(professional_group=group)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


class ObjectiveForm(forms.ModelForm):
    theme = forms.ChoiceField(
        choices=[(theme.value, f"{theme.label}: {THEME_EXPLANATIONS[theme]}") for theme in Theme],
        widget=forms.RadioSelect,
        help_text="Which condition for a productive doctor–manager relationship this objective builds.",
    )
    # Declared, not generated: generating them would query trust-scoped models outside a scope.
    directorate = forms.ModelChoiceField(
        queryset=Directorate.objects.none(),
        required=False,
        empty_label="Trust-wide (no directorate)",
        help_text="Leave as trust-wide unless the objective belongs to one directorate.",
    )
    clinical_lead = LeadChoiceField(
        queryset=Membership.objects.none(), required=False, empty_label="Not chosen yet (needed to propose)"
    )
    managerial_lead = LeadChoiceField(
        queryset=Membership.objects.none(), required=False, empty_label="Not chosen yet (needed to propose)"
    )
    confirm_reset = forms.BooleanField(
        required=False,
        label="I understand that changing the wording returns this objective to proposed and clears its sign-offs",
    )

    class Meta:
        model = Objective
        fields = ["ref", *EDITABLE_FIELDS]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "success_measure": forms.Textarea(attrs={"rows": 2}),
            "target_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, trust, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.trust, self.membership = trust, membership
        editing = self.instance.pk is not None
        self.fields["ref"].required = False
        self.fields["ref"].label = "Reference"
        if editing:
            del self.fields["ref"]  # a reference never changes: reports and CSVs key on it
        directorates = Directorate.objects.filter(trust=trust)
        if not rules.can_author(membership):  # a clinical director / directorate manager: own directorate only
            directorates = directorates.filter(pk=membership.directorate_id)
            self.fields["directorate"].required = True
            self.fields["directorate"].empty_label = None
        self.fields["directorate"].queryset = directorates
        self.fields["clinical_lead"].queryset = _leads(ProfessionalGroup.CLINICAL)
        self.fields["managerial_lead"].queryset = _leads(ProfessionalGroup.MANAGERIAL)
        if not (editing and self.instance.status in (Status.PROPOSED, Status.AGREED)):
            del self.fields["confirm_reset"]
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save changes" if editing else "Save as draft"))


class ObjectiveFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status")] + Status.choices, required=False)
    theme = forms.ChoiceField(choices=[("", "Any theme")] + Theme.choices, required=False)
    directorate = forms.ChoiceField(required=False)
    lead = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False, empty_label="Any lead")

    def __init__(self, *args, trust, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["directorate"].choices = [("", "Any directorate"), ("trust-wide", "Trust-wide only")] + [
            (str(d.pk), d.name) for d in Directorate.objects.filter(trust=trust)
        ]
        self.fields["lead"].queryset = (
            Membership.objects.filter(trust=trust)
            .filter(Q(clinical_lead_objectives__isnull=False) | Q(managerial_lead_objectives__isnull=False))
            .select_related("user")
            .distinct()
            .order_by("user__full_name")
        )
        self.fields["lead"].label_from_instance = lambda m: m.user.full_name or m.user.email
