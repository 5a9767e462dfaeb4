"""Import a trust's staff list from CSV (DESIGN.md §6), all or nothing.

`people_import_plan` reads and validates every row first and returns a plan: the rows,
the errors by line number, and what applying it would change. `people_import_apply` writes
a valid plan in one transaction with bulk queries, so a national-size list is a handful of
statements. Re-applying the same file changes nothing. People who are in the trust but
not in the file are left as they are.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django_scopes import scope

from ..csv_import import ImportFileError, RowError, check_file, clean_text, decode_upload, import_writes
from ..identity import name_key, normalise_email
from ..models import Directorate, Level, Membership, ProfessionalGroup, Role, User, role_contradiction
from .invitations import invitation_create

__all__ = ["COLUMNS", "ImportFileError", "decode_upload", "people_import_apply", "people_import_plan"]

COLUMNS = ["email", "full_name", "professional_group", "level", "role", "directorate", "receives_board_report"]
YES_NO = {"yes": True, "no": False, "": False}
MAX_NAME = 200
MAX_EMAIL = 254


@dataclass(frozen=True)
class PersonRow:
    line: int
    email: str
    full_name: str
    professional_group: str
    level: str
    role: str
    directorate: str
    receives_board_report: bool


@dataclass
class ImportPlan:
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    new_people: int = 0
    new_memberships: int = 0
    changed_memberships: int = 0
    unchanged: int = 0
    new_directorates: list = field(default_factory=list)

    @property
    def is_valid(self):
        return not self.errors

    def summary(self):
        # How many addresses already have an account (in another trust) is not said: that would
        # tell this trust something about people who have not joined it.
        text = (
            f"{len(self.rows)} row(s): {self.new_memberships} new member(s), "
            f"{self.changed_memberships} updated, {self.unchanged} unchanged"
        )
        if self.new_directorates:
            text += f"; new directorate(s): {', '.join(self.new_directorates)}"
        return text


def _validate_row(line, raw):
    """A PersonRow, or a list of messages saying what is wrong with the row."""
    errors = []
    email = normalise_email(raw["email"])
    try:
        if len(email) > MAX_EMAIL:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        errors.append(f"email {raw['email']!r} is not a valid email address" if email else "email is blank")
    full_name = clean_text(raw["full_name"])
    if not full_name:
        errors.append("full_name is blank")
    elif len(full_name) > MAX_NAME:
        errors.append(f"full_name is longer than {MAX_NAME} characters")
    group, level, role = (raw[c].strip().lower() for c in ("professional_group", "level", "role"))
    for column, value, vocabulary in (
        ("professional_group", group, ProfessionalGroup),
        ("level", level, Level),
        ("role", role, Role),
    ):
        if value not in vocabulary.values:
            errors.append(f"unknown {column} {value!r} (one of: {', '.join(vocabulary.values)})")
    if not errors:
        problem = role_contradiction(role, group, level)
        if problem:
            errors.append(problem)
    directorate = clean_text(raw["directorate"])
    if len(directorate) > MAX_NAME:
        errors.append(f"directorate is longer than {MAX_NAME} characters")
    report = raw["receives_board_report"].strip().lower()
    if report not in YES_NO:
        errors.append(f"receives_board_report must be yes or no, not {raw['receives_board_report']!r}")
    if errors:
        return errors
    return PersonRow(line, email, full_name, group, level, role, directorate, YES_NO[report])


def people_import_plan(*, trust, text, progress=None):
    """Validate every row of `text` against `trust`; nothing is written.

    `progress(done, total)` is called as rows are checked (for long files).
    """
    plan = ImportPlan()
    rows, plan.errors = check_file(text, COLUMNS, _validate_row, progress)
    first_line_of, spellings = {}, {}
    for row in rows:
        if row.email in first_line_of:
            message = f"duplicate email {row.email} (first on line {first_line_of[row.email]})"
            plan.errors.append(RowError(row.line, message))
            continue
        first_line_of[row.email] = row.line
        if row.directorate:
            first = spellings.setdefault(name_key(row.directorate), (row.directorate, row.line))
            if _spelt_differently(row.directorate, first[0]):
                plan.errors.append(
                    RowError(row.line, _clash_message(row.directorate, f"{first[0]!r} on line {first[1]}"))
                )
                continue
        plan.rows.append(row)
    plan.errors.sort(key=lambda error: error.line)
    if plan.is_valid:
        _compare_with_database(trust, plan)
    return plan


def _spelt_differently(name, other):
    """Two names with one key (partnership.identity.name_key) that are more than a difference of
    plain case apart, like "IT" and "İT": the database may hold them as one name, a person
    would read them as one, yet they are not the same text."""
    return name.lower() != other.lower()


def _clash_message(name, other):
    return (
        f"directorate {name!r} differs from {other} only by case or accents; "
        "spell each directorate one way (directorate names are compared without case and accents)"
    )


def _existing(trust, rows):
    """Existing users by email, memberships by user id and directorates by lower name."""
    emails = [row.email for row in rows]
    users = {}
    for start in range(0, len(emails), 5000):
        batch = emails[start : start + 5000]
        for user in User.objects.filter(email__in=batch):  # stored normalised, like the rows
            users[user.email] = user
    with scope(trust=trust):
        memberships = {m.user_id: m for m in Membership.objects.filter(user_id__in=[u.pk for u in users.values()])}
        directorates = {name_key(d.name): d for d in Directorate.objects.all()}
    return users, memberships, directorates


def _membership_values(row, directorate, membership=None, existing_account=False):
    """The fields the row sets on a membership. A membership of an account that existed before
    (`existing_account`, for a new membership) waits, inactive, for its invitation to be
    accepted, and keeps waiting through re-imports (membership_upsert's rule)."""
    awaiting = membership.awaiting_acceptance if membership is not None else existing_account
    return {
        "professional_group": row.professional_group,
        "level": row.level,
        "role": row.role,
        "directorate_id": directorate.pk if directorate else None,
        "receives_board_report": row.receives_board_report,
        "is_active": not awaiting,
        "awaiting_acceptance": awaiting,
        "invited_name": row.full_name if awaiting else "",
    }


def _differs(membership, values):
    return any(getattr(membership, name) != value for name, value in values.items())


def _compare_with_database(trust, plan):
    users, memberships, directorates = _existing(trust, plan.rows)
    new_directorates = {}
    for row in list(plan.rows):
        key = name_key(row.directorate)
        existing = directorates.get(key)
        if row.directorate and existing is not None and _spelt_differently(row.directorate, existing.name):
            plan.errors.append(
                RowError(row.line, _clash_message(row.directorate, f"the directorate {existing.name!r}"))
            )
            continue
        if row.directorate and existing is None and key not in new_directorates:
            new_directorates[key] = row.directorate
        user = users.get(row.email)
        membership = memberships.get(user.pk) if user else None
        if user is None:
            plan.new_people += 1
        if membership is None:
            plan.new_memberships += 1
        elif (
            _differs(membership, _membership_values(row, directorates.get(key), membership)) or key in new_directorates
        ):
            plan.changed_memberships += 1
        else:
            plan.unchanged += 1
    plan.new_directorates = list(new_directorates.values())
    if plan.errors:
        plan.errors.sort(key=lambda error: error.line)
        plan.new_people = plan.new_memberships = plan.changed_memberships = plan.unchanged = 0


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    directorates_created: int
    invited: int

    def summary(self):
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.directorates_created} directorate(s) created, {self.invited} invitation(s) sent"
        )


@import_writes
def people_import_apply(*, trust, plan, invite=False, invited_by=None, progress=None):
    """Write a valid plan in one transaction. With `invite`, people who have never set a
    password and have no pending invitation are emailed one (after commit)."""
    if not plan.is_valid:
        raise ValueError("Refusing to apply an import plan with errors.")
    created = updated = unchanged = invited = 0
    with transaction.atomic(), scope(trust=trust):
        users, memberships, directorates = _existing(trust, plan.rows)
        to_create_dirs = []
        for name in plan.new_directorates:
            if name_key(name) not in directorates:
                to_create_dirs.append(Directorate(trust=trust, name=name))
        for directorate in Directorate.objects.bulk_create(to_create_dirs):
            directorates[name_key(directorate.name)] = directorate

        new_users = [
            User(email=row.email, full_name=row.full_name, password="!")  # "!" = unusable until invited
            for row in plan.rows
            if row.email not in users
        ]
        for user in new_users:
            user.set_unusable_password()
        for user in User.objects.bulk_create(new_users, batch_size=2000):
            users[user.email] = user

        new_user_ids = {user.pk for user in new_users}
        to_create, to_update = [], []
        for index, row in enumerate(plan.rows, start=1):
            user = users[row.email]
            membership = memberships.get(user.pk)
            values = _membership_values(
                row,
                directorates.get(name_key(row.directorate)),
                membership,
                existing_account=user.pk not in new_user_ids,
            )
            if membership is None:
                to_create.append(Membership(user=user, trust=trust, **values))
            elif _differs(membership, values):
                for name, value in values.items():
                    setattr(membership, name, value)
                to_update.append(membership)
            else:
                unchanged += 1
            if progress and (index % 1000 == 0 or index == len(plan.rows)):
                progress(index, len(plan.rows))
        Membership.objects.bulk_create(to_create, batch_size=2000)
        Membership.objects.bulk_update(to_update, list(_membership_values(plan.rows[0], None)), batch_size=2000)
        created, updated = len(to_create), len(to_update)

        if invite:
            invited = _invite_new_people(trust, [users[row.email] for row in plan.rows], invited_by)
    return ImportResult(created, updated, unchanged, len(to_create_dirs), invited)


def _invite_new_people(trust, users, invited_by):
    """Invite everyone in the file not yet in: no password yet, or an existing account whose
    membership awaits acceptance (so the trust's list never hints which is which)."""
    pending = set(
        Membership.objects.filter(user__in=users, invitations__status="pending").values_list("user_id", flat=True)
    )
    count = 0
    for membership in Membership.objects.filter(user__in=users).select_related("user", "trust"):
        joined = membership.user.has_usable_password() and not membership.awaiting_acceptance
        if joined or membership.user_id in pending:
            continue
        invitation_create(membership=membership, invited_by=invited_by)
        count += 1
    return count
