"""Monthly rating rounds, the ratings and the relationship pulse.

A rating keeps the professional group, level and directorate its rater held when rating,
so a later change of role never rewrites history. Nobody but the rater sees an individual
rating: every other view of these rows is an aggregate with small groups suppressed.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from objectives.models import Objective
from partnership.models import Directorate, Level, Membership, ProfessionalGroup, Trust

SCORE_WORDS = {
    1: "No progress",
    2: "Some progress",
    3: "About half way",
    4: "Good progress",
    5: "Achieved / fully on track",
}
SCORE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]


class Outlook(models.TextChoices):
    IMPROVE = "improve", "Improve"
    SAME = "same", "Stay the same"
    DETERIORATE = "deteriorate", "Deteriorate"


class Category(models.TextChoices):
    """The four relationship categories of the 2015 managers' survey (DESIGN.md §1)."""

    PARTNERSHIP = "partnership", "Partnership"
    TENSION = "tension", "Partnership with areas of tension"
    TOLERANCE = "tolerance", "Tolerance with frequent tensions"
    UNRESOLVED = "unresolved", "Persistent unresolved tensions"


class RoundQuerySet(models.QuerySet):
    def open_on(self, day):
        return self.filter(opens_on__lte=day, closes_on__gte=day)

    def closed_on(self, day):
        return self.filter(closes_on__lt=day)


class RatingRound(models.Model):
    """One trust's ratings for one calendar month. Open from `opens_on` to `closes_on`
    inclusive (dates in the trust's time zone); extending or re-opening moves `closes_on`."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="rounds")
    period = models.DateField(help_text="First day of the month rated.")
    opens_on = models.DateField()
    closes_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(trust="trust", _manager_class=models.Manager.from_queryset(RoundQuerySet))

    class Meta:
        ordering = ["-period"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "period"], name="round_unique_per_trust_period"),
            models.CheckConstraint(condition=models.Q(period__day=1), name="round_period_first_of_month"),
            models.CheckConstraint(
                condition=models.Q(closes_on__gte=models.F("opens_on")), name="round_closes_after_opens"
            ),
        ]

    def __str__(self):
        return f"{self.trust.code} {self.label}"

    @property
    def label(self):
        return self.period.strftime("%B %Y")

    @property
    def slug(self):
        return self.period.strftime("%Y-%m")

    def status_on(self, day):
        if day < self.opens_on:
            return "scheduled"
        return "open" if day <= self.closes_on else "closed"

    @property
    def status(self):
        return self.status_on(timezone.localdate())

    @property
    def is_open(self):
        return self.status == "open"


class SnapshotFields(models.Model):
    """Who the rater was when they answered: the groups every result is split by."""

    professional_group = models.CharField(max_length=16, choices=ProfessionalGroup.choices)
    level = models.CharField(max_length=16, choices=Level.choices)
    directorate = models.ForeignKey(Directorate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        abstract = True


class Rating(SnapshotFields):
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(RatingRound, on_delete=models.CASCADE, related_name="ratings")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="ratings")
    # SET_NULL: erasing a person keeps their anonymous score in the aggregates (issue #8).
    rater = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, related_name="ratings")
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=SCORE_VALIDATORS, help_text="Blank: can't judge"
    )
    comment = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(trust="trust")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "objective", "rater"], name="rating_once_per_round_objective_rater"
            ),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=1, score__lte=5),
                name="rating_score_1_to_5",
            ),
        ]
        indexes = [
            # The analysis counts a trust's rounds' scores per objective, group and level
            # (analysis._score_rows): an index-only scan of this index answers it. Why each
            # column is there: migration 0003_rating_score_counts.
            models.Index(
                fields=["round", "objective", "professional_group", "level", "score", "trust"],
                name="rating_score_counts",
            ),
            models.Index(fields=["rater", "round"], name="rating_rater_round"),
        ]

    def __str__(self):
        return f"Rating of {self.objective_id} in round {self.round_id}"


class PulseResponse(SnapshotFields):
    """The relationship pulse: today's relationship, the outlook, the 2015 category, and the
    optional statement bank (statement key -> 1..5 agreement)."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(RatingRound, on_delete=models.CASCADE, related_name="pulse_responses")
    rater = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, related_name="pulse_responses")
    quality = models.PositiveSmallIntegerField(null=True, blank=True, validators=SCORE_VALIDATORS)
    outlook = models.CharField(max_length=16, choices=Outlook.choices, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    statements = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(trust="trust")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "rater"], name="pulse_once_per_round_rater"),
            models.CheckConstraint(
                condition=models.Q(quality__isnull=True) | models.Q(quality__gte=1, quality__lte=5),
                name="pulse_quality_1_to_5",
            ),
            models.CheckConstraint(condition=models.Q(outlook__in=["", *Outlook.values]), name="pulse_outlook_valid"),
            models.CheckConstraint(
                condition=models.Q(category__in=["", *Category.values]), name="pulse_category_valid"
            ),
        ]

    def __str__(self):
        return f"Pulse response in round {self.round_id}"

    @property
    def is_empty(self):
        return self.quality is None and not self.outlook and not self.category and not self.statements


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class OutboxFields(models.Model):
    """One email that is due. The row is the guard against duplicates (a unique key says what
    it is for) and the record of what happened: workers claim pending rows with a token
    (surveys/outbox.py), send, then mark them sent; failures wait and retry."""

    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class ReminderKind(models.TextChoices):
    ROUND_OPEN = "round_open", "Round open"
    CLOSING_7 = "closing_7", "Closes in a week"
    CLOSING_2 = "closing_2", "Closes in two days"


class ReminderLog(OutboxFields):
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(RatingRound, on_delete=models.CASCADE, related_name="reminders")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)

    objects = ScopedManager(trust="trust")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "membership", "kind"], name="reminder_once_per_round_person_kind"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="reminder_due")]

    def __str__(self):
        return f"{self.get_kind_display()} reminder for round {self.round_id} to membership {self.membership_id}"


class DivergenceReport(models.Model):
    """A round's board report, frozen when built: `data` is the snapshot every view, email
    and attachment of it is rendered from, so it never changes after it is sent."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="reports")
    round = models.OneToOneField(RatingRound, on_delete=models.PROTECT, related_name="report")
    period = models.DateField()
    built_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField()
    csv = models.TextField()
    pulse_csv = models.TextField()
    pdf = models.FileField(upload_to="reports/", blank=True)

    objects = ScopedManager(trust="trust")

    class Meta:
        ordering = ["-period"]
        constraints = [models.UniqueConstraint(fields=["trust", "period"], name="report_unique_per_trust_period")]

    def __str__(self):
        return f"{self.trust.code} report {self.period:%Y-%m}"

    @property
    def slug(self):
        return self.period.strftime("%Y-%m")


class ReportDelivery(OutboxFields):
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="+")
    report = models.ForeignKey(DivergenceReport, on_delete=models.CASCADE, related_name="deliveries")
    membership = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, related_name="report_deliveries")
    email = models.EmailField()

    objects = ScopedManager(trust="trust")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "email"], name="delivery_once_per_report_email")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self):
        return f"Delivery of report {self.report_id} to {self.email}"


class CommentDecision(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    PUBLISH = "publish", "Publish as written"
    REDACT = "redact", "Publish with the found details removed"
    WITHHOLD = "withhold", "Withhold"


class CommentReview(models.Model):
    """The safety review of one flagged rating comment (issue #23): while `pending` or
    `withhold` the comment is shown nowhere. `found` holds what the detector found as
    [{kind, start, end}] (spans in the comment, never the text); `text_digest` tells a changed
    comment from a re-saved one. The comment itself is never edited; the decision says how it
    may be shown."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="+")
    rating = models.OneToOneField(Rating, on_delete=models.CASCADE, related_name="comment_review")
    found = models.JSONField(default=list)
    text_digest = models.CharField(max_length=64)
    decision = models.CharField(max_length=10, choices=CommentDecision.choices, default=CommentDecision.PENDING)
    decided_by = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_by_name = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(trust="trust")

    class Meta:
        indexes = [models.Index(fields=["trust", "decision"], name="comment_review_queue")]

    def __str__(self):
        return f"Comment review {self.pk} ({self.decision})"


class CommentReviewer(models.Model):
    """A member an administrator has named a comment reviewer (administrators always are)."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="+")
    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="comment_reviewer")
    named_by_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(trust="trust")

    def __str__(self):
        return f"Comment reviewer {self.membership_id}"
