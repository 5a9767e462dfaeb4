"""Forms of the round pages: create a month's round, move a round's dates."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone

from .models import RatingRound
from .services.rounds import month_start, period_parse

MAX_MONTHS_AHEAD = 3


def months_between(start, end):
    """Whole calendar months from `start`'s month to `end`'s month (negative if earlier)."""
    return (end.year - start.year) * 12 + end.month - start.month


class RoundCreateForm(forms.Form):
    period = forms.CharField(
        label="Month",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"}),
        help_text=f"As YYYY-MM, for example 2026-03. Up to {MAX_MONTHS_AHEAD} months ahead.",
    )

    def __init__(self, *args, trust, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.trust = trust
        self.today = today or timezone.localdate()
        self.helper = FormHelper()
        self.helper.form_id = "round-create"
        self.helper.add_input(Submit("submit", "Create round"))

    def clean_period(self):
        try:
            period = period_parse(self.cleaned_data["period"])
        except ValueError:
            raise forms.ValidationError("Enter a month as YYYY-MM, for example 2026-03.") from None
        if months_between(month_start(self.today), period) > MAX_MONTHS_AHEAD:
            raise forms.ValidationError(
                f"A round can be created at most {MAX_MONTHS_AHEAD} months ahead (the latest is "
                f"{_add_months(month_start(self.today), MAX_MONTHS_AHEAD):%B %Y})."
            )
        existing = RatingRound.objects.filter(trust=self.trust, period=period).first()
        if existing is not None:
            raise forms.ValidationError(
                f"There is already a round for {existing.label} ({existing.opens_on.day} "
                f"{existing.opens_on:%b} to {existing.closes_on.day} {existing.closes_on:%b %Y}). "
                "Change its dates instead."
            )
        return period


def _add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


class RoundScheduleForm(forms.Form):
    opens_on = forms.DateField(
        label="Opens on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), help_text="First day."
    )
    closes_on = forms.DateField(
        label="Closes on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Last day people can answer (inclusive). Move it later to extend or re-open the round.",
    )

    def __init__(self, *args, round, **kwargs):
        kwargs["initial"] = {"opens_on": round.opens_on, "closes_on": round.closes_on, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.round = round
        self.helper = FormHelper()
        self.helper.form_id = "round-schedule"
        self.helper.add_input(Submit("submit", "Save dates"))
