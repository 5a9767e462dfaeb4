"""Trusts, directorates, people and their memberships, invitations.

Trust-owned models use a scoped default manager (django-scopes): a query on them raises
unless it runs inside `scope(trust=...)` (every trust page enters one, see `scoping.py`)
or an explicit `scopes_disabled()` block. A query that forgets the trust fails instead of
leaking another trust's rows.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_scopes import ScopedManager

from .identity import normalise_email


class ProfessionalGroup(models.TextChoices):
    CLINICAL = "clinical", "Clinical"
    MANAGERIAL = "managerial", "Managerial"


class Level(models.TextChoices):
    BOARD = "board", "Board"
    OPERATIONAL = "operational", "Operational"


class Role(models.TextChoices):
    MEDICAL_DIRECTOR = "medical_director", "Medical director"
    CHIEF_EXECUTIVE = "chief_executive", "Chief executive"
    CLINICAL_DIRECTOR = "clinical_director", "Clinical director"
    CONSULTANT = "consultant", "Consultant"
    DIRECTORATE_MANAGER = "directorate_manager", "Directorate manager"
    BOARD_MEMBER = "board_member", "Board member"
    ADMINISTRATOR = "administrator", "Trust administrator"


# What each role implies about professional group and level (None: either). These follow
# the Davies groups of DESIGN.md §1; imports and forms reject a contradiction.
ROLE_RULES = {
    Role.MEDICAL_DIRECTOR: (ProfessionalGroup.CLINICAL, Level.BOARD),
    Role.CHIEF_EXECUTIVE: (ProfessionalGroup.MANAGERIAL, Level.BOARD),
    Role.CLINICAL_DIRECTOR: (ProfessionalGroup.CLINICAL, Level.OPERATIONAL),
    Role.CONSULTANT: (ProfessionalGroup.CLINICAL, Level.OPERATIONAL),
    Role.DIRECTORATE_MANAGER: (ProfessionalGroup.MANAGERIAL, Level.OPERATIONAL),
    Role.BOARD_MEMBER: (None, Level.BOARD),
    Role.ADMINISTRATOR: (None, None),
}


def role_contradiction(role, professional_group, level):
    """A sentence saying why the role does not fit the group/level, or '' when it fits."""
    want_group, want_level = ROLE_RULES.get(role, (None, None))
    wrong = []
    if want_group and professional_group != want_group:
        wrong.append(f"professional_group {want_group.value}")
    if want_level and level != want_level:
        wrong.append(f"level {want_level.value}")
    if not wrong:
        return ""
    return f"role {role} needs " + " and ".join(wrong)


class UserManager(BaseUserManager):
    use_in_migrations = True

    @staticmethod
    def normalize_email(email):
        return normalise_email(email)

    def get_by_natural_key(self, username):
        # Stored addresses are normalised (User.save), so an exact match on the normalised
        # input is the case-insensitive sign-in, with no database-specific case rules.
        return self.get(email=self.normalize_email(username))

    def create_user(self, email, password=None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)  # None gives an unusable password
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person; signs in with their email address. Trust roles live on Membership."""

    email = models.EmailField("email address", max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the Django admin.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = User.objects.normalize_email(self.email)

    def save(self, *args, **kwargs):
        self.email = User.objects.normalize_email(self.email)  # however the row was written
        super().save(*args, **kwargs)

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


trust_code_validator = RegexValidator(
    r"^[A-Z0-9]{3,5}$", "A trust code is 3 to 5 capital letters or digits, like the ODS code RXX."
)


class Trust(models.Model):
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=5, unique=True, validators=[trust_code_validator], help_text="ODS code")
    timezone = models.CharField(max_length=64, default="Europe/London")
    min_group_size = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(3)],
        help_text="No result from a group of fewer people is ever shown, exported or emailed.",
    )
    min_comment_group_size = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(3)],
        help_text="Comments are shown only for groups of at least this many people (never below min_group_size).",
    )
    round_opens_day = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="Day of the month each rating round opens.",
    )
    round_closes_day = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="Day of the month each rating round closes (inclusive).",
    )
    # Divergence thresholds (DESIGN.md §5): divergent when q < q_threshold and |gap| >= divergent_gap;
    # watch when |gap| >= watch_gap.
    divergent_gap = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("1.00"))
    watch_gap = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0.50"))
    q_threshold = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.050"))
    # Retention of comment text (issue #23): comments of rounds older than this are erased;
    # scores and every aggregate stay.
    comment_retention_months = models.PositiveSmallIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="Comment text of rounds more than this many months old is erased; scores stay.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(min_group_size__gte=3), name="trust_min_group_size_gte_3"),
            models.CheckConstraint(
                condition=models.Q(watch_gap__gt=0, divergent_gap__gte=models.F("watch_gap"), q_threshold__gt=0)
                & models.Q(q_threshold__lt=1),
                name="trust_thresholds_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(round_opens_day__gte=1, round_closes_day__lte=28)
                & models.Q(round_closes_day__gte=models.F("round_opens_day")),
                name="trust_round_days_valid",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class TrustSettingChange(models.Model):
    """One change of a trust's analysis setting: who, when, old -> new (DESIGN.md §5).

    Shown on the Settings page to board members; never edited. `changed_by_name` keeps the
    name as it was, so the record survives the person's erasure."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="setting_changes")
    changed_by = models.ForeignKey(
        "Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="setting_changes"
    )
    changed_by_name = models.CharField(max_length=200, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    field = models.CharField(max_length=40)
    old_value = models.CharField(max_length=40)
    new_value = models.CharField(max_length=40)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["trust", "-changed_at"], name="setting_change_trust_time")]

    def __str__(self):
        return f"{self.trust_id} {self.field}: {self.old_value} -> {self.new_value}"


class Directorate(models.Model):
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="directorates")
    name = models.CharField(max_length=200)

    objects = ScopedManager(trust="trust")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("trust", Lower("name"), name="directorate_name_unique_per_trust"),
        ]

    def __str__(self):
        return self.name


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


def _choices_check(field, choices, name):
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


class Membership(models.Model):
    """A person's place in one trust: the group and level that every result is split by."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="memberships")
    directorate = models.ForeignKey(
        Directorate, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    professional_group = models.CharField(max_length=16, choices=ProfessionalGroup.choices)
    level = models.CharField(max_length=16, choices=Level.choices)
    role = models.CharField(max_length=32, choices=Role.choices)
    receives_board_report = models.BooleanField(default=False)
    receives_reminders = models.BooleanField(
        default=True, help_text="Round-open and closing reminders by email (the person still rates)."
    )
    is_active = models.BooleanField(default=True)
    # An account that already existed (in another trust) joins only by accepting its invitation:
    # until then the membership is inactive, and the trust sees only what it was told itself
    # (the address and `invited_name`), never the account's own name or whether it has a password.
    awaiting_acceptance = models.BooleanField(default=False)
    invited_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(trust="trust", _manager_class=models.Manager.from_queryset(MembershipQuerySet))

    class Meta:
        ordering = ["user__full_name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "trust"], name="membership_unique_user_trust"),
            _choices_check("professional_group", ProfessionalGroup, "membership_professional_group_valid"),
            _choices_check("level", Level, "membership_level_valid"),
            _choices_check("role", Role, "membership_role_valid"),
        ]
        indexes = [models.Index(fields=["trust", "is_active"], name="membership_trust_active")]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.trust.code}"

    @property
    def davies_group(self):
        """senior_clinical, senior_nonclinical, operational_clinical or operational_nonclinical."""
        seniority = "senior" if self.level == Level.BOARD else "operational"
        side = "clinical" if self.professional_group == ProfessionalGroup.CLINICAL else "nonclinical"
        return f"{seniority}_{side}"

    @property
    def is_administrator(self):
        return self.role == Role.ADMINISTRATOR

    @property
    def display_name(self):
        """The name this trust may show: the person's own once they are a member, the name the
        trust gave while an invitation to an existing account is not yet accepted."""
        return self.invited_name if self.awaiting_acceptance else self.user.full_name


def invitation_default_expiry():
    return timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Replaced by a newer invitation"


class Invitation(models.Model):
    """An emailed, signed, expiring link that lets a member set a password and sign in."""

    Status = InvitationStatus

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="invitations")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=invitation_default_expiry)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(trust="trust")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            _choices_check("status", InvitationStatus, "invitation_status_valid"),
            # At most one live invitation per membership: a new one revokes the old.
            models.UniqueConstraint(
                fields=["membership"],
                condition=models.Q(status=InvitationStatus.PENDING),
                name="invitation_one_pending_per_membership",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="invitation_status_expiry")]

    def __str__(self):
        return f"Invitation for {self.membership.user.email} to {self.trust.code} ({self.status})"

    @property
    def is_usable(self):
        return self.status == self.Status.PENDING and self.expires_at > timezone.now()
