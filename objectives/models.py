"""Shared objectives: what a trust's doctors and managers agree to work towards together.

An objective is *agreed* only when both sides have signed it off (see services.py for
who counts as each side). Every change to an objective or a sign-off is kept by
django-simple-history.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager
from simple_history.models import HistoricalRecords

from partnership.models import Directorate, Membership, Trust


class Theme(models.TextChoices):
    """The conditions for productive doctor–manager relationships (DESIGN.md §1), in order."""

    CLINICAL_FOCUS = "clinical-focus", "Clinical focus"
    LOCAL_INNOVATION = "local-innovation", "Local innovation"
    DEVOLVED_DECISIONS = "devolved-decisions", "Devolved decisions"
    CONTINUITY = "continuity", "Continuity"
    SEEKING_CHALLENGE = "seeking-challenge", "Seeking challenge"
    ALIGNED_INTERESTS = "aligned-interests", "Aligned interests"
    SHARED_ENVIRONMENT = "shared-environment", "Shared sense of the environment"
    DIALOGUE = "dialogue", "Dialogue and shared purpose"
    DIFFERENCES_AS_ASSET = "differences-as-asset", "Differences as an asset"
    MUTUAL_UNDERSTANDING = "mutual-understanding", "Mutual understanding"
    LEARNING_TOGETHER = "learning-together", "Learning and changing together"


THEME_EXPLANATIONS = {
    Theme.CLINICAL_FOCUS: "Decisions start from what is best for patients and the quality of clinical care.",
    Theme.LOCAL_INNOVATION: "Teams close to patients are free to try new ways of working and to learn from them.",
    Theme.DEVOLVED_DECISIONS: "Decisions are taken as close as possible to the services they affect.",
    Theme.CONTINUITY: "Leaders stay, and plans hold, long enough for change to be seen through.",
    Theme.SEEKING_CHALLENGE: "Leaders invite challenge from the other profession and act on it.",
    Theme.ALIGNED_INTERESTS: "Clinical and financial goals are arranged to pull in the same direction.",
    Theme.SHARED_ENVIRONMENT: "Doctors and managers read the pressures on the trust in the same way.",
    Theme.DIALOGUE: "Regular, open conversation between the professions builds a common purpose.",
    Theme.DIFFERENCES_AS_ASSET: "Different professional views are used to reach better decisions, not suppressed.",
    Theme.MUTUAL_UNDERSTANDING: "Each side understands the other's constraints, pressures and priorities.",
    Theme.LEARNING_TOGETHER: "Doctors and managers review what happened and change course together.",
}


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    AGREED = "agreed", "Agreed"
    ACHIEVED = "achieved", "Achieved"
    RETIRED = "retired", "Retired"


class Side(models.TextChoices):
    """The two sides whose sign-off makes an objective shared."""

    CLINICAL = "clinical", "Clinical"
    MANAGERIAL = "managerial", "Managerial"


class ObjectiveQuerySet(models.QuerySet):
    def trust_wide(self):
        return self.filter(directorate__isnull=True)

    def rateable(self):
        """Objectives people rate progress on: agreed ones."""
        return self.filter(status=Status.AGREED)


class Objective(models.Model):
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="objectives")
    ref = models.CharField(max_length=20, help_text="Short reference, e.g. OBJ-07; assigned if left blank.")
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=4000, blank=True)
    theme = models.CharField(max_length=32, choices=Theme.choices)
    directorate = models.ForeignKey(
        Directorate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="objectives",
        help_text="Leave blank for a trust-wide objective.",
    )
    clinical_lead = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="clinical_lead_objectives"
    )
    managerial_lead = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="managerial_lead_objectives"
    )
    success_measure = models.TextField(
        max_length=1000, blank=True, help_text="How both sides will know it has been achieved."
    )
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    proposed_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="proposed_objectives"
    )
    # Bumped each time the objective (re-)enters "proposed": sign-off requests are sent once per version.
    proposal_version = models.PositiveIntegerField(default=0)
    proposed_at = models.DateTimeField(null=True, blank=True)
    agreed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(trust="trust", _manager_class=models.Manager.from_queryset(ObjectiveQuerySet))
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["ref"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "ref"], name="objective_ref_unique_per_trust"),
            models.CheckConstraint(condition=models.Q(status__in=Status.values), name="objective_status_valid"),
            models.CheckConstraint(condition=models.Q(theme__in=Theme.values), name="objective_theme_valid"),
        ]
        indexes = [models.Index(fields=["trust", "status"], name="objective_trust_status")]

    def __str__(self):
        return f"{self.ref} {self.title}"

    @property
    def theme_explanation(self):
        return THEME_EXPLANATIONS.get(self.theme, "")

    @property
    def is_trust_wide(self):
        return self.directorate_id is None


class SignOff(models.Model):
    """One side's agreement to an objective's current wording."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="+")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="signoffs")
    side = models.CharField(max_length=16, choices=Side.choices)
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="signoffs")
    signed_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(trust="trust")
    history = HistoricalRecords()

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            # One sign-off per side: the first eligible person of each side settles it.
            models.UniqueConstraint(fields=["objective", "side"], name="signoff_one_per_side"),
            models.CheckConstraint(condition=models.Q(side__in=Side.values), name="signoff_side_valid"),
        ]

    def __str__(self):
        return f"{self.get_side_display()} sign-off of {self.objective.ref} by {self.membership.user}"


class SignOffRequest(models.Model):
    """An email asking someone to sign off a proposal. One row per (objective, person,
    proposal version), written in the transaction that proposes: the row is the guard
    that the email is sent at most once; `sent_at` is claimed before sending."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="+")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="signoff_requests")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="signoff_requests")
    proposal_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(trust="trust")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["objective", "membership", "proposal_version"], name="signoff_request_once"
            ),
        ]
        indexes = [models.Index(fields=["sent_at"], name="signoff_request_unsent")]

    def __str__(self):
        return f"Sign-off request for {self.objective.ref} (v{self.proposal_version}) to {self.membership.user}"
