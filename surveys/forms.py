"""The monthly rating form: every objective this person rates, plus the relationship pulse,
in one form. Fields are built per objective (score_<id>, comment_<id>)."""

from django import forms

from .models import SCORE_WORDS, Category, Outlook
from .services.ratings import MAX_COMMENT, Answer
from .statements import AGREEMENT, STATEMENTS

CANT_JUDGE = "x"
SCORE_CHOICES = [(str(score), word) for score, word in SCORE_WORDS.items()] + [(CANT_JUDGE, "Can't judge")]
SCALE = forms.RadioSelect(attrs={"class": "btn-check"})
QUALITY_WORDS = {1: "Poor", 2: "Fair", 3: "Good", 4: "Very good", 5: "Excellent"}


class CommentField(forms.CharField):
    """Browsers count a line break as one character against maxlength but send it as CRLF:
    normalise before the length check, so what fitted in the box is accepted."""

    def to_python(self, value):
        return super().to_python((value or "").replace("\r\n", "\n"))


class RatingForm(forms.Form):
    quality = forms.TypedChoiceField(
        label="How would you rate the relationship between doctors and managers in this trust today?",
        choices=[(str(k), v) for k, v in QUALITY_WORDS.items()],
        coerce=int,
        empty_value=None,
        required=False,
        widget=SCALE,
    )
    outlook = forms.ChoiceField(
        label="Over the next 12 months, do you expect the relationship to…",
        choices=Outlook.choices,
        required=False,
        widget=SCALE,
    )
    category = forms.ChoiceField(
        label="Which best describes the relationship here?",
        choices=Category.choices,
        required=False,
        widget=SCALE,
    )

    def __init__(self, *args, objectives, existing=None, pulse=None, **kwargs):
        """`existing`: {objective id: Rating} already saved this round; `pulse`: the saved PulseResponse."""
        initial = dict(kwargs.pop("initial", None) or {})
        for objective_id, rating in (existing or {}).items():
            initial[f"score_{objective_id}"] = CANT_JUDGE if rating.score is None else str(rating.score)
            initial[f"comment_{objective_id}"] = rating.comment
        if pulse is not None:
            initial.update(quality=pulse.quality, outlook=pulse.outlook, category=pulse.category)
            initial.update({f"statement_{key}": value for key, value in pulse.statements.items()})
        super().__init__(*args, initial=initial, **kwargs)
        self.objectives = list(objectives)
        for objective in self.objectives:
            self.fields[f"score_{objective.pk}"] = forms.ChoiceField(
                label=objective.title, choices=SCORE_CHOICES, required=False, widget=SCALE
            )
            self.fields[f"comment_{objective.pk}"] = CommentField(
                label=f"Comment on {objective.ref} (optional)",
                max_length=MAX_COMMENT,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2, "maxlength": MAX_COMMENT}),
            )
        for key, text in STATEMENTS.items():
            self.fields[f"statement_{key}"] = forms.TypedChoiceField(
                label=text,
                choices=[(str(k), v) for k, v in AGREEMENT.items()],
                coerce=int,
                empty_value=None,
                required=False,
                widget=SCALE,
            )

    def clean(self):
        data = super().clean()
        for objective in self.objectives:
            if data.get(f"comment_{objective.pk}", "").strip() and not data.get(f"score_{objective.pk}"):
                self.add_error(f"score_{objective.pk}", "Choose a score (or can't judge) to go with your comment.")
        return data

    def answers(self):
        """{objective id: Answer} for the objectives given a score or "can't judge"."""
        answers = {}
        for objective in self.objectives:
            choice = self.cleaned_data.get(f"score_{objective.pk}")
            if choice:
                score = None if choice == CANT_JUDGE else int(choice)
                answers[objective.pk] = Answer(score, self.cleaned_data.get(f"comment_{objective.pk}", ""))
        return answers

    def pulse(self):
        statements = {
            key: self.cleaned_data[f"statement_{key}"]
            for key in STATEMENTS
            if self.cleaned_data.get(f"statement_{key}") is not None
        }
        return {
            "quality": self.cleaned_data.get("quality"),
            "outlook": self.cleaned_data.get("outlook", ""),
            "category": self.cleaned_data.get("category", ""),
            "statements": statements,
        }

    def objective_rows(self):
        """(objective, score field, comment field) for the template, in order."""
        return [(o, self[f"score_{o.pk}"], self[f"comment_{o.pk}"]) for o in self.objectives]

    def statement_fields(self):
        return [self[f"statement_{key}"] for key in STATEMENTS]
