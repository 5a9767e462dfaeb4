"""Import a trust's objectives from CSV (DESIGN.md §6), all or nothing.

Columns: ref,title,description,theme,directorate,clinical_lead_email,managerial_lead_email,status.
The file-level half (decoding, header, line numbers) is `partnership.csv_import`; this
module adds the row checks and the apply step, in the shape of the people import:
`objectives_import_plan` checks every row and writes nothing; `objectives_import_apply`
writes a valid plan in one transaction.

Matching rows to objectives, so that re-importing a file changes nothing:

- A row with a `ref` is the objective with that ref in this trust (created if there is none).
- A row with a blank `ref` is matched by its exact title among the trust's objectives:
  one objective with that title is updated; none means a new objective, which gets the
  next free OBJ-NN (several blank refs in one file get distinct refs). So re-importing a
  file with blank refs finds the objectives the first import created. Renaming such an
  objective in the file, though, creates a new one: give rows refs to rename. A blank-ref
  title that matches several objectives, or that another row of the file also uses, is an
  error (the match would be ambiguous).

Checks (each bad row gives "line N: reason" and nothing is stored): ref format; blank or
over-long title (200) and description (4000); unknown theme or status; an unknown
directorate (listed against the trust's directorates: directorates are never created
here, so a typo cannot make one); a lead who is not an active member of this trust, or
is in the wrong professional group (the clinical lead must be clinical, the managerial
lead managerial), looked up by email, case-insensitively, in one query; duplicate refs;
and a proposed, agreed or achieved objective without both leads (proposing needs both).

Status: a blank status means draft. A *new* objective may be imported in any status,
because trusts bring in objectives agreed in earlier board papers: one imported as *agreed*
has no sign-offs and its history says it was imported as agreed. No sign-off emails are sent
by an import, because a proposal is announced by its proposer, not by the person importing
the file.

An *existing* objective follows the lifecycle of the pages (rules.import_status_problem):
an import may send an open objective back to draft (clearing its sign-offs) or retire it,
but never moves it into proposed, agreed or achieved (those are acts of the people on its
page: proposing, both sides' sign-off, marking achieved), and never changes a closed
(achieved or retired) one; such rows are per-line errors. Changing the wording (title,
description, directorate) clears the sign-offs, as the edit form does: a proposed or agreed
objective goes back to proposed, and the preview lists each such row as a warning, "sign-offs
will be cleared", before anything is written. Sign-offs are never kept across a wording change.

HTML in the file is stored as text; templates escape it on output. Every created or
changed objective gets a history record naming the importing user and the file.
"""

import re
from dataclasses import dataclass, field, replace

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_scopes import scope
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from partnership.csv_import import (
    ImportConflict,
    ImportFileError,
    RowError,
    check_file,
    clean_text,
    decode_upload,
    import_writes,
)
from partnership.identity import normalise_email
from partnership.models import Directorate, Membership, ProfessionalGroup, Trust

from . import rules
from .models import Objective, SignOff, Status, Theme
from .services import REF_PATTERN, ref_next

__all__ = ["COLUMNS", "ImportFileError", "decode_upload", "objectives_import_apply", "objectives_import_plan"]

COLUMNS = [
    "ref",
    "title",
    "description",
    "theme",
    "directorate",
    "clinical_lead_email",
    "managerial_lead_email",
    "status",
]
MAX_TITLE = Objective._meta.get_field("title").max_length  # 200
MAX_DESCRIPTION = Objective._meta.get_field("description").max_length  # 4000
MAX_EMAIL = 254
MAX_REASON = 100  # simple_history's history_change_reason
NEEDS_BOTH_LEADS = {Status.PROPOSED, Status.AGREED, Status.ACHIEVED}
LEADS = (
    ("clinical_lead", ProfessionalGroup.CLINICAL),
    ("managerial_lead", ProfessionalGroup.MANAGERIAL),
)
# What an import sets; everything else on an objective (success measure, target date) is left alone.
IMPORTED_FIELDS = (
    "title",
    "description",
    "theme",
    "directorate_id",
    "clinical_lead_id",
    "managerial_lead_id",
    "status",
)
WORDING_FIELDS = ("title", "description", "directorate_id")


@dataclass(frozen=True)
class ObjectiveRow:
    line: int
    ref: str  # "" when the file leaves it blank: matched by title
    title: str
    description: str
    theme: str
    directorate: str  # as written; resolved to directorate_id
    clinical_lead_email: str
    managerial_lead_email: str
    status: str
    directorate_id: int | None = None
    clinical_lead_id: int | None = None
    managerial_lead_id: int | None = None

    def values(self):
        return {name: getattr(self, name) for name in IMPORTED_FIELDS}


@dataclass
class ImportPlan:
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_refs: list = field(default_factory=list)  # refs the new blank-ref rows would get
    warnings: list = field(default_factory=list)  # RowErrors that do not stop the import: sign-offs cleared

    @property
    def is_valid(self):
        return not self.errors

    def summary(self):
        text = (
            f"{len(self.rows)} row(s): {self.created} new objective(s), "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
        if self.new_refs:
            text += f"; new ref(s) assigned: {', '.join(self.new_refs)}"
        return text


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int

    def summary(self):
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def _multiline_text(value):
    """Like clean_text, but line breaks (paragraphs of a description) are kept."""
    lines = [" ".join(line.split()) for line in (value or "").splitlines()]
    return "\n".join(lines).strip()


def _validate_row(line, raw):
    """An ObjectiveRow (leads and directorate not yet resolved), or a list of messages."""
    errors = []
    ref = raw["ref"].strip().upper()
    if ref and not REF_PATTERN.match(ref):
        errors.append(f"ref {raw['ref']!r} is not valid: up to 20 capital letters, digits and hyphens, e.g. OBJ-07")
    title = clean_text(raw["title"])
    if not title:
        errors.append("title is blank")
    elif len(title) > MAX_TITLE:
        errors.append(f"title is longer than {MAX_TITLE} characters ({len(title)})")
    description = _multiline_text(raw["description"])
    if len(description) > MAX_DESCRIPTION:
        errors.append(f"description is longer than {MAX_DESCRIPTION} characters ({len(description)})")
    theme = raw["theme"].strip().lower()
    if theme not in Theme.values:
        what = f"unknown theme {raw['theme'].strip()!r}" if theme else "theme is blank"
        errors.append(f"{what} (one of: {', '.join(Theme.values)})")
    status = raw["status"].strip().lower() or Status.DRAFT
    if status not in Status.values:
        errors.append(f"unknown status {raw['status'].strip()!r} (one of: {', '.join(Status.values)})")
    emails = {}
    for name, _group in LEADS:
        column = f"{name}_email"
        email = normalise_email(raw[column])
        if email:
            try:
                if len(email) > MAX_EMAIL:
                    raise ValidationError("too long")
                validate_email(email)
            except ValidationError:
                errors.append(f"{column} {raw[column].strip()!r} is not a valid email address")
        emails[column] = email
    if status in NEEDS_BOTH_LEADS and not all(emails.values()):
        errors.append(f"status {status} needs both a clinical_lead_email and a managerial_lead_email")
    if errors:
        return errors
    directorate = clean_text(raw["directorate"])
    return ObjectiveRow(line, ref, title, description, theme, directorate, status=status, **emails)


def _check_file(rows):
    """(rows, errors) for what only the whole file shows: duplicate refs, ambiguous titles."""
    errors, kept = [], []
    ref_lines, title_lines = {}, {}
    for row in rows:
        title_lines.setdefault(row.title, []).append(row.line)
    for row in rows:
        if row.ref:
            if row.ref in ref_lines:
                errors.append(RowError(row.line, f"duplicate ref {row.ref} (first on line {ref_lines[row.ref]})"))
                continue
            ref_lines[row.ref] = row.line
        else:
            others = [line for line in title_lines[row.title] if line != row.line]
            if others:
                message = (
                    f"the title is also on line {others[0]}; a row without a ref is matched by its title, "
                    "so give this row a ref"
                )
                errors.append(RowError(row.line, message))
                continue
        kept.append(row)
    return kept, errors


def _resolve(trust, rows):
    """(rows with directorate and lead ids, errors). Two queries, whatever the number of rows."""
    directorates = {d.name.lower(): d for d in Directorate.objects.filter(trust=trust)}
    emails = {getattr(row, f"{name}_email") for row in rows for name, _ in LEADS} - {""}
    members = {
        m.lemail: m
        for m in Membership.objects.active()
        .filter(trust=trust, user__email__in=emails)  # stored normalised, like the file's
        .annotate(lemail=F("user__email"))
    }
    known = ", ".join(sorted((d.name for d in directorates.values()), key=str.lower))
    resolved, errors = [], []
    for row in rows:
        messages, ids = [], {}
        if row.directorate:
            directorate = directorates.get(row.directorate.lower())
            if directorate is None:
                hint = f"known: {known}" if known else "this trust has no directorates yet; import the staff list first"
                messages.append(f"unknown directorate {row.directorate!r} ({hint}); leave it blank for trust-wide")
            else:
                ids["directorate_id"] = directorate.pk
        for name, group in LEADS:
            column = f"{name}_email"
            email = getattr(row, column)
            if not email:
                continue
            member = members.get(email)
            if member is None:
                messages.append(f"{column} {email} is not an active member of this trust")
            elif member.professional_group != group:
                messages.append(
                    f"{column} {email} is in the {member.professional_group} group; "
                    f"the {group.label.lower()} lead must be {group.label.lower()}"
                )
            else:
                ids[f"{name}_id"] = member.pk
        if messages:
            errors.extend(RowError(row.line, message) for message in messages)
        else:
            resolved.append(replace(row, **ids))
    return resolved, errors


def _match(trust, rows):
    """({line: existing objective or None}, errors, refs for the new blank-ref rows in order)."""
    refs = {row.ref for row in rows if row.ref}
    titles = {row.title for row in rows if not row.ref}
    existing = list(Objective.objects.filter(Q(ref__in=refs) | Q(title__in=titles), trust=trust))
    by_ref = {objective.ref: objective for objective in existing}
    by_title = {}
    for objective in existing:
        if objective.title in titles:
            by_title.setdefault(objective.title, []).append(objective)
    matches, errors, claimed = {}, [], {}
    for row in rows:
        if row.ref:
            matches[row.line] = by_ref.get(row.ref)
            if row.ref in by_ref:
                claimed[row.ref] = row.line
    for row in rows:
        if row.ref:
            continue
        candidates = sorted(by_title.get(row.title, []), key=lambda objective: objective.ref)
        if len(candidates) > 1:
            listed = ", ".join(objective.ref for objective in candidates)
            errors.append(RowError(row.line, f"the title matches several objectives ({listed}); give the ref"))
        elif candidates and candidates[0].ref in claimed:
            ref = candidates[0].ref
            message = f"the title matches {ref}, which line {claimed[ref]} updates by its ref; give this row a ref"
            errors.append(RowError(row.line, message))
        else:
            matches[row.line] = candidates[0] if candidates else None
    return matches, errors, _new_refs(trust, rows, matches)


def _new_refs(trust, rows, matches):
    """Distinct OBJ-NN refs for the new blank-ref rows, after every ref in the trust and the file."""
    numbers = [int(match.group(1)) for row in rows if (match := re.fullmatch(r"OBJ-(\d+)", row.ref))]
    start = max(int(ref_next(trust).removeprefix("OBJ-")), max(numbers, default=0) + 1)
    count = sum(1 for row in rows if not row.ref and matches.get(row.line) is None)
    return [f"OBJ-{number:02d}" for number in range(start, start + count)]


def _differs(objective, row):
    return any(getattr(objective, name) != value for name, value in row.values().items())


def _wording_changed(objective, row):
    return any(getattr(objective, name) != getattr(row, name) for name in WORDING_FIELDS)


def _lifecycle(objective, row, signed_sides):
    """(row as it will be written, error, warning) for a row that updates `objective`.

    The error ('' when none) is a move the pages would not allow; the warning ('' when none)
    says that the sign-offs will be cleared because the wording changes."""
    problem = rules.import_status_problem(objective.status, row.status)
    if not problem and objective.status not in rules.OPEN_STATUSES and _differs(objective, row):
        problem = f"it is {objective.status}: a closed objective cannot be changed"
    if problem:
        return row, f"{objective.ref}: {problem}", ""
    if not _wording_changed(objective, row):
        return row, "", ""
    warning = ""
    if row.status in (Status.PROPOSED, Status.AGREED):  # the objective's own status (checked above)
        row = replace(row, status=Status.PROPOSED)
        warning = (
            f"{objective.ref}: the wording changes, so its sign-offs will be cleared and it returns to "
            "proposed; both sides sign the new wording on its page"
        )
    elif signed_sides:
        warning = f"{objective.ref}: the wording changes, so its sign-offs will be cleared"
    return row, "", warning


def _changes(rows, matches):
    """(rows as they will be written, errors, warnings): the lifecycle checked for every row
    that updates an existing objective, with one query for their sign-offs."""
    existing = [objective for objective in matches.values() if objective is not None]
    signed = {}
    for objective_id, side in SignOff.objects.filter(objective__in=existing).values_list("objective_id", "side"):
        signed.setdefault(objective_id, set()).add(side)
    kept, errors, warnings = [], [], []
    for row in rows:
        objective = matches.get(row.line)
        if objective is not None:
            row, error, warning = _lifecycle(objective, row, signed.get(objective.pk, set()))
            if error:
                errors.append(RowError(row.line, error))
            if warning:
                warnings.append(RowError(row.line, warning))
        kept.append(row)
    return kept, errors, warnings


def objectives_import_plan(*, trust, text, progress=None):
    """Check every row of `text` against `trust`; nothing is written.

    `progress(done, total)` is called as rows are checked (for long files).
    """
    plan = ImportPlan()
    rows, plan.errors = check_file(text, COLUMNS, _validate_row, progress)
    rows, file_errors = _check_file(rows)
    plan.errors.extend(file_errors)
    with scope(trust=trust):
        rows, lookup_errors = _resolve(trust, rows)
        plan.errors.extend(lookup_errors)
        matches, match_errors, new_refs = _match(trust, rows)
        plan.errors.extend(match_errors)
        written, lifecycle_errors, plan.warnings = _changes(rows, matches)
        plan.errors.extend(lifecycle_errors)
    plan.errors.sort(key=lambda error: error.line)
    if plan.is_valid:
        plan.rows = rows  # as in the file: the apply step decides the lifecycle again on current data
        plan.new_refs = new_refs
        for row in written:
            objective = matches[row.line]
            if objective is None:
                plan.created += 1
            elif _differs(objective, row):
                plan.updated += 1
            else:
                plan.unchanged += 1
    return plan


def _reason(text):
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _status_entered(objective, status, now):
    """Set the timestamps that go with entering `status` (no emails, no sign-offs)."""
    if status == Status.PROPOSED:
        # A new proposal version: requests of an earlier proposal are no longer sent.
        objective.proposal_version += 1
        objective.proposed_at = now
    if status == Status.AGREED and objective.agreed_at is None:
        objective.agreed_at = now
    if status in (Status.DRAFT, Status.PROPOSED):
        objective.agreed_at = None


@import_writes
def objectives_import_apply(*, trust, plan, by_user=None, source=None, progress=None):
    """Write a valid plan in one transaction, with a history record per created or changed
    objective (`by_user`, and a reason naming `source`, the file name). Re-applying the same
    file changes nothing."""
    if not plan.is_valid:
        raise ValueError("Refusing to apply an import plan with errors.")
    source = source or "CSV"
    now = timezone.now()
    to_create, to_update, clear_signoffs = [], [], []
    unchanged = 0
    with transaction.atomic(), scope(trust=trust):
        Trust.objects.select_for_update().filter(pk=trust.pk).first()  # serialise ref assignment
        matches, errors, new_refs = _match(trust, plan.rows)
        rows, lifecycle_errors, _ = _changes(plan.rows, matches)
        if errors or lifecycle_errors:
            raise ImportConflict(
                "The objectives changed since the file was checked, so nothing was imported: "
                + "; ".join(map(str, errors + lifecycle_errors))
            )
        new_refs = iter(new_refs)
        for index, row in enumerate(rows, start=1):
            objective = matches[row.line]
            if objective is None:
                objective = Objective(trust=trust, ref=row.ref or next(new_refs), created_by=by_user, **row.values())
                _status_entered(objective, row.status, now)
                if row.status == Status.AGREED:
                    reason = f"Imported as agreed (agreed before import, no sign-offs) from {source}"
                elif row.status != Status.DRAFT:
                    reason = f"Imported as {row.status} from {source}"
                else:
                    reason = f"Imported from {source}"
                objective._change_reason = _reason(reason)
                to_create.append(objective)
            elif _differs(objective, row):
                status_changed = objective.status != row.status
                wording_changed = _wording_changed(objective, row)
                for name, value in row.values().items():
                    setattr(objective, name, value)
                if status_changed or (wording_changed and row.status == Status.PROPOSED):
                    _status_entered(objective, row.status, now)  # re-proposed: a new proposal version
                reason = f"Imported from {source}"
                # Sign-offs are for the wording signed: never kept across a change of it, nor back to draft.
                if wording_changed or (status_changed and row.status == Status.DRAFT):
                    clear_signoffs.append(objective)
                    reason += ": sign-offs cleared"
                    if status_changed and row.status == Status.PROPOSED:
                        reason += ", back to proposed"
                objective.updated_at = now
                objective._change_reason = _reason(reason)
                to_update.append(objective)
            else:
                unchanged += 1
            if progress and (index % 1000 == 0 or index == len(plan.rows)):
                progress(index, len(plan.rows))
        for signoff in SignOff.objects.filter(objective__in=clear_signoffs):
            signoff._history_user = by_user
            signoff.delete()  # one by one, so the history keeps who had signed
        if to_create:
            bulk_create_with_history(to_create, Objective, default_user=by_user)
        if to_update:
            fields = [*IMPORTED_FIELDS, "proposal_version", "proposed_at", "agreed_at", "updated_at"]
            bulk_update_with_history(to_update, Objective, fields, default_user=by_user)
    return ImportResult(len(to_create), len(to_update), unchanged)
