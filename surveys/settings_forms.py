"""The form of the trust's analysis settings page. It only checks that each value is a number;
the rules (ranges, never lowering the minimum group size once people have rated) are the
service's (services/trust_settings.py), so the page and every other caller share them."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Fieldset, Layout, Submit
from django import forms

from .services.trust_settings import (
    CALENDAR_FIRST_DAY,
    CALENDAR_LAST_DAY,
    GAP_MAX,
    MIN_GROUP_SIZE_CEILING,
    MIN_GROUP_SIZE_FLOOR,
    Q_CONVENTIONAL,
    Q_MAX,
    Q_MIN,
    RETENTION_MAX_MONTHS,
    RETENTION_MIN_MONTHS,
    SETTINGS,
    WATCH_GAP_MIN,
)


def _number(minimum, maximum, step):
    # Hints for the browser's number input only; the service decides what is allowed.
    return forms.NumberInput(attrs={"min": minimum, "max": maximum, "step": step, "inputmode": "decimal"})


class AnalysisSettingsForm(forms.Form):
    min_group_size = forms.IntegerField(
        label="Minimum group size",
        widget=_number(MIN_GROUP_SIZE_FLOOR, MIN_GROUP_SIZE_CEILING, 1),
        help_text=(
            "The fewest people whose answers are ever shown together. Any average, share or count that "
            "comes from a smaller group (say, the consultants of a small directorate) is hidden on the "
            "dashboard, in exports and in emails, so that nobody's answers can be picked out. "
            f"At least {MIN_GROUP_SIZE_FLOOR}. It can always be raised, but once anyone has rated it can "
            "never be lowered again, because that would reveal small groups in results people have "
            "already seen. Raise it with care."
        ),
    )
    min_comment_group_size = forms.IntegerField(
        label="Comment group size",
        widget=_number(MIN_GROUP_SIZE_FLOOR, MIN_GROUP_SIZE_CEILING, 1),
        help_text=(
            "The fewest people in a group before its comments are shown (without names or dates). A comment "
            "can say more about its writer than a score, so this is higher than the minimum group size: "
            "usually 10, and never below the minimum group size. Like it, it can be raised at any time but "
            "not lowered once anyone has rated."
        ),
    )
    watch_gap = forms.DecimalField(
        label="Watch gap",
        max_digits=3,
        decimal_places=2,
        widget=_number(WATCH_GAP_MIN, GAP_MAX, "0.01"),
        help_text=(
            "How far apart, on the 1 to 5 scale, the doctors' and the managers' average scores for an "
            "objective must be before the board sees it marked \u201cwatch\u201d: an early sign that the "
            "two groups see its progress differently, worth talking about. "
            f"Between {WATCH_GAP_MIN} and {GAP_MAX}; usually 0.50."
        ),
    )
    divergent_gap = forms.DecimalField(
        label="Divergent gap",
        max_digits=3,
        decimal_places=2,
        widget=_number(WATCH_GAP_MIN, GAP_MAX, "0.01"),
        help_text=(
            "The gap at which an objective is marked \u201cdivergent\u201d instead: doctors and managers "
            "clearly disagree about its progress, and the difference is unlikely to be chance (see the q "
            f"threshold). At least the watch gap and at most {GAP_MAX}; usually 1.00."
        ),
    )
    q_threshold = forms.DecimalField(
        label="q threshold",
        max_digits=4,
        decimal_places=3,
        widget=_number(Q_MIN, Q_MAX, "0.001"),
        help_text=(
            "How sure the analysis must be that a gap is real, not a fluke of who happened to answer, "
            "before calling it divergent. Each objective's gap gets a q value: its p value, adjusted "
            "because many objectives are tested at once. A gap is divergent only when q is below this "
            f"threshold. {Q_CONVENTIONAL.normalize()} is the conventional choice: of the objectives marked divergent, "
            "at most about 1 in 20 would be false alarms. Lower is stricter (fewer objectives marked). "
            f"Between {Q_MIN} and {Q_MAX}."
        ),
    )
    round_opens_day = forms.IntegerField(
        label="Rounds open on day",
        widget=_number(CALENDAR_FIRST_DAY, CALENDAR_LAST_DAY, 1),
        help_text=f"Day of the month each round opens, {CALENDAR_FIRST_DAY} to {CALENDAR_LAST_DAY}.",
    )
    round_closes_day = forms.IntegerField(
        label="Rounds close at the end of day",
        widget=_number(CALENDAR_FIRST_DAY, CALENDAR_LAST_DAY, 1),
        help_text=(
            f"Last day of the month people can answer (UK time), {CALENDAR_FIRST_DAY} to {CALENDAR_LAST_DAY}, "
            "not before the opening day."
        ),
    )
    comment_retention_months = forms.IntegerField(
        label="Keep comments for (months)",
        required=False,  # left blank: kept as it is
        widget=_number(RETENTION_MIN_MONTHS, RETENTION_MAX_MONTHS, 1),
        help_text=(
            "How long the text of comments is kept. Each day, comments from rounds older than this are "
            "erased for good; the scores, response rates and every result and board report stay. "
            f"{RETENTION_MIN_MONTHS} to {RETENTION_MAX_MONTHS}; usually 24."
        ),
    )

    def clean_comment_retention_months(self):
        value = self.cleaned_data.get("comment_retention_months")
        return self.trust.comment_retention_months if value is None else value

    def __init__(self, *args, trust, locked, **kwargs):
        kwargs["initial"] = {
            **{field: getattr(trust, field) for field in SETTINGS},
            **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)
        self.trust = trust
        if locked:
            self.fields[
                "min_group_size"
            ].help_text += (
                f" People have rated in this trust, so it can now only be raised (it is {trust.min_group_size})."
            )
        for field in (
            "min_group_size",
            "min_comment_group_size",
            "round_opens_day",
            "round_closes_day",
            "comment_retention_months",
        ):
            self.fields[field].widget.attrs["inputmode"] = "numeric"
        self.helper = FormHelper()
        self.helper.form_id = "analysis-settings"
        self.helper.layout = Layout(
            Fieldset("Anonymity", "min_group_size", "min_comment_group_size"),
            Fieldset(
                "Divergence thresholds",
                HTML(
                    '<p class="small text-body-secondary">They decide which objectives the board sees '
                    "marked divergent, watch or aligned. Changes apply to rounds whose board report has not "
                    "been built yet; a reported round keeps the settings it was reported with.</p>"
                ),
                "watch_gap",
                "divergent_gap",
                "q_threshold",
            ),
            Fieldset(
                "Rating calendar",
                HTML(
                    '<p class="small text-body-secondary">Changes apply to rounds created from now on. '
                    "Rounds that already exist keep their dates; change those on the rounds page.</p>"
                ),
                "round_opens_day",
                "round_closes_day",
            ),
            Fieldset("Comments", "comment_retention_months"),
        )
        self.helper.add_input(Submit("submit", "Save settings"))
