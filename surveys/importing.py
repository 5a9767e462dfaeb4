"""Import past ratings and relationship-pulse answers from CSV (DESIGN.md §6), all or nothing.

- `import_ratings TRUST_CODE FILE.csv`: columns `period,objective_ref,rater_email,score,comment`.
- `import_pulse TRUST_CODE FILE.csv`: columns `period,rater_email,quality,outlook,category`.

The file-level half (decoding, header, line numbers, progress while checking) is
`partnership.csv_import`; this module adds the row checks and the apply step, in the shape
of the people and objectives imports: `*_import_plan` checks every row and writes nothing;
`*_import_apply` writes a valid plan in one transaction.

Checks (each bad row gives "line N: reason"; one bad row and nothing is stored):

- `period` is a month like 2026-03, and not after the current month (in the trust's time zone).
- `rater_email` is a member of this trust, looked up case-insensitively. Former members
  (inactive memberships) are accepted, since the ratings may predate their leaving; an
  email that is not a member of this trust (unknown, or only in another trust) is an error.
  Trust administrators do not rate (as `surveys.services.ratings.is_rater`), so their rows
  are refused.
- Ratings: `objective_ref` is an objective of this trust that is not a draft (any other
  status is accepted: the objective may have been agreed then and achieved or retired since)
  and is trust-wide or of the rater's directorate (the directorate the rater is in now).
  `score` is blank (can't judge, stored as NULL) or a whole number from 1 to 5; `comment`
  (whitespace collapsed) is at most 2,000 characters.
- Pulse: `quality` is blank or 1–5; `outlook` blank or improve|same|deteriorate; `category`
  blank or partnership|tension|tolerance|unresolved; a row with all three blank is an error.
- No two rows are the same rating (period, objective_ref, rater) or pulse response (period, rater).

Writing: the round of each period is created when missing, with the trust's calendar
(`round_get_or_create`), so a past round is created already closed (a round's status follows
from its dates). Each row is compared with what is stored: a new rating (or response) is
inserted, one whose answer differs (score and comment; quality, outlook and category) is
updated, and an identical one is not touched, so re-importing the same file writes nothing.
A blank in the file is an answer ("can't judge", "no answer"): it replaces a stored value.
Pulse statement answers, which the CSV does not carry, are left as they are.

Snapshots: a rating keeps the rater's professional group, level and directorate from when
they rated. The file does not say what they were then, so a new imported row takes them from
the rater's membership as it is now (at import time). An updated row keeps the snapshot it
already has. So import past ratings before recording people's changes of role.

Forms: a period is YYYY-MM (surveys.services.rounds.PERIOD_PATTERN: years 1900-2099), a score or
quality a whole number with an optional sign (NUMBER_FORM), in ASCII digits: the same patterns in
Python and in PostgreSQL, so both paths accept the same cells (int() alone would also take "٣").

Errors: every row is checked, but at most MAX_LISTED_ERRORS messages are listed, then one
"... and N more error(s), not listed" entry; len(plan.errors) counts them all (ErrorList), so a
bad million-row file prints a thousand lines and the true number of errors.

Two paths, the same checks, messages, counts and writes:

- PostgreSQL: `surveys.importing_copy` streams the file into a temporary table with COPY and
  checks and writes it in SQL: a million rows in well under a minute, in memory that does not
  grow with the file, up to importing_copy.MAX_ROWS (5,000,000) rows. Taken whenever the
  database is PostgreSQL.
- Otherwise (SQLite: development and tests) the file is checked row by row in Python, as
  described here, up to partnership.csv_import.MAX_ROWS (100,000) rows.

Speed (the Python path): lookups are in bulk (memberships by email in chunks of 5,000,
objectives by ref in one query, stored answers of the file's rounds in one query) and rows are
written 5,000 at a time (INSERT for new rows, INSERT ... ON CONFLICT DO UPDATE for changed ones),
so the number of queries grows with the number of periods and of 5,000-row batches, never with
each row.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import connection, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django_scopes import scope

from objectives.models import Objective, Status
from partnership.csv_import import ImportFileError, RowError, check_file, clean_text, decode_upload
from partnership.models import Membership, Role

from .models import Category, Outlook, PulseResponse, Rating, RatingRound
from .services.comment_review import comments_screen_rounds
from .services.frozen import reported_period_message, reports_of_periods
from .services.ratings import MAX_COMMENT
from .services.rounds import month_start, period_parse, round_get_or_create

__all__ = [
    "PULSE_COLUMNS",
    "RATING_COLUMNS",
    "pulse_import_apply",
    "pulse_import_plan",
    "ratings_import_apply",
    "ratings_import_plan",
]

RATING_COLUMNS = ["period", "objective_ref", "rater_email", "score", "comment"]
PULSE_COLUMNS = ["period", "rater_email", "quality", "outlook", "category"]
BATCH = 5000  # rows per INSERT
LOOKUP_CHUNK = 5000  # emails per membership query
MAX_LISTED_ERRORS = 1000  # messages listed; the rest are counted
# A score or quality (Python `re` and PostgreSQL regular expressions alike): ASCII digits only, so
# both paths accept exactly the same cells (int() alone would also take "٣" or "1_0"). Periods:
# surveys.services.rounds.PERIOD_PATTERN.
NUMBER_FORM = r"[+-]?[0-9]+"


@dataclass(frozen=True, slots=True)
class Rater:
    pk: int
    role: str
    professional_group: str
    level: str
    directorate_id: int | None
    directorate: str  # its name, "" when none


@dataclass(slots=True)
class ImportRow:
    line: int
    period: date
    rater_email: str
    values: tuple  # the answer, in the order of the kind's `fields`
    objective_ref: str = ""  # ratings only
    rater: Rater | None = None
    objective_id: int | None = None  # ratings only


@dataclass(frozen=True)
class MoreErrors:
    """The last entry of a capped error list: how many errors are not listed."""

    count: int

    def __str__(self):
        return f"... and {self.count:,} more error(s), not listed"


class ErrorList(list):
    """The errors of a file: at most MAX_LISTED_ERRORS of them listed (then a MoreErrors entry),
    while len() is the number of errors in all, listed or not, for "N error(s) in FILE"."""

    def __init__(self, listed=(), total=None):
        super().__init__(listed)
        self.total = super().__len__() if total is None else total

    def __len__(self):
        return self.total


def capped(errors, total=None):
    """ErrorList of `errors` (sorted), listing the first MAX_LISTED_ERRORS of `total` (default: all)."""
    total = len(errors) if total is None else total
    listed = list(errors[:MAX_LISTED_ERRORS])
    if total > len(listed):
        listed.append(MoreErrors(total - len(listed)))
    return ErrorList(listed, total)


@dataclass
class ImportPlan:
    rows: list = field(default_factory=list)  # the checked rows (the Python path)
    errors: list = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_rounds: list = field(default_factory=list)  # "YYYY-MM" of the rounds applying creates
    count: int | None = None  # rows in the file when they are not in `rows` (the PostgreSQL path)
    staged: object = None  # the PostgreSQL path's checked rows, in the database (importing_copy)

    @property
    def is_valid(self):
        return not self.errors

    @property
    def row_count(self):
        return len(self.rows) if self.count is None else self.count

    def summary(self):
        text = f"{self.row_count} row(s): {self.created} new, {self.updated} changed, {self.unchanged} unchanged"
        if self.new_rounds:
            text += f"; new round(s): {', '.join(self.new_rounds)}"
        return text


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    new_rounds: list

    def summary(self):
        text = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.new_rounds:
            text += f"; round(s) created: {', '.join(self.new_rounds)}"
        return text


@dataclass(frozen=True)
class _Kind:
    """What differs between the ratings and the pulse import."""

    noun: str
    model: type[models.Model]
    columns: list
    fields: tuple  # the answer: compared with what is stored, and written
    key_fields: tuple  # with the round, the model's unique constraint
    parse: Callable  # raw row -> (values, objective_ref, [messages])
    rates_objectives: bool

    def row_key(self, row):
        return (row.objective_id, row.rater.pk) if self.rates_objectives else (row.rater.pk,)

    def file_key(self, row):
        return (row.period, row.objective_ref, row.rater_email)

    def describe(self, row):
        about = f" of {row.objective_ref}" if row.objective_ref else ""
        return f"{self.noun}{about} by {row.rater_email} for {row.period:%Y-%m}"


_NUMBER = re.compile(NUMBER_FORM)


def _whole_number(raw, column, blank_means):
    """(1..5 or None, [messages]) from a cell; blank is None."""
    text = raw[column].strip()
    if not text:
        return None, []
    try:
        if not _NUMBER.fullmatch(text):
            raise ValueError(text)
        number = int(text)
    except ValueError:
        return None, [f"{column} {text!r} is not a number from 1 to 5 (leave it blank for {blank_means})"]
    if not 1 <= number <= 5:
        return None, [f"{column} {number} is outside 1–5"]
    return number, []


def _parse_rating(raw):
    errors = []
    ref = raw["objective_ref"].strip().upper()
    if not ref:
        errors.append("objective_ref is blank")
    score, messages = _whole_number(raw, "score", "can't judge")
    errors.extend(messages)
    comment = clean_text(raw["comment"])
    if len(comment) > MAX_COMMENT:
        errors.append(f"comment is longer than {MAX_COMMENT:,} characters ({len(comment):,})")
    return (score, comment), ref, errors


def _choice(raw, column, choices):
    value = raw[column].strip().lower()
    if value and value not in choices.values:
        return value, [f"unknown {column} {raw[column].strip()!r} (one of: {', '.join(choices.values)}, or blank)"]
    return value, []


def _parse_pulse(raw):
    quality, errors = _whole_number(raw, "quality", "no answer")
    outlook, messages = _choice(raw, "outlook", Outlook)
    errors.extend(messages)
    category, messages = _choice(raw, "category", Category)
    errors.extend(messages)
    if quality is None and not outlook and not category and not errors:
        errors.append("nothing to import: quality, outlook and category are all blank")
    return (quality, outlook, category), "", errors


RATINGS = _Kind(
    noun="rating",
    model=Rating,
    columns=RATING_COLUMNS,
    fields=("score", "comment"),
    key_fields=("objective_id", "rater_id"),
    parse=_parse_rating,
    rates_objectives=True,
)
PULSE = _Kind(
    noun="pulse response",
    model=PulseResponse,
    columns=PULSE_COLUMNS,
    fields=("quality", "outlook", "category"),
    key_fields=("rater_id",),
    parse=_parse_pulse,
    rates_objectives=False,
)


def _trust_today(trust):
    return timezone.localdate(timezone=ZoneInfo(trust.timezone))


def _validator(kind, today):
    """validate(line, raw) for check_file: an ImportRow (not yet resolved) or a list of messages."""
    this_month = month_start(today)

    def validate(line, raw):
        errors, period = [], None
        text = raw["period"].strip()
        if not text:
            errors.append("period is blank")
        else:
            try:
                period = period_parse(text)
            except ValueError as exc:
                errors.append(str(exc))
            else:
                if period > this_month:
                    errors.append(f"period {text} is in the future (the current month is {this_month:%Y-%m})")
        email = raw["rater_email"].strip().lower()
        if not email:
            errors.append("rater_email is blank")
        values, ref, messages = kind.parse(raw)
        errors.extend(messages)
        if errors:
            return errors
        return ImportRow(line, period, email, values, ref)

    return validate


def _without_duplicates(kind, rows):
    kept, errors, first_line = [], [], {}
    for row in rows:
        key = kind.file_key(row)
        if key in first_line:
            errors.append(RowError(row.line, duplicate_message(kind, row, first_line[key])))
        else:
            first_line[key] = row.line
            kept.append(row)
    return kept, errors


def _raters(trust, emails):
    """{lower email: Rater} of this trust's memberships, active or not; a query per 5,000 emails."""
    emails = sorted(emails)
    found = {}
    for start in range(0, len(emails), LOOKUP_CHUNK):
        chunk = emails[start : start + LOOKUP_CHUNK]
        memberships = (
            Membership.objects.filter(trust=trust)
            .annotate(lemail=Lower("user__email"))
            .filter(lemail__in=chunk)
            .values_list("lemail", "pk", "role", "professional_group", "level", "directorate_id", "directorate__name")
        )
        for email, pk, role, group, level, directorate_id, directorate in memberships:
            found[email] = Rater(pk, role, group, level, directorate_id, directorate or "")
    return found


def _objectives(trust, refs):
    """{ref: (pk, status, directorate_id, directorate name)} in one query."""
    rows = (
        Objective.objects.filter(trust=trust, ref__in=refs)
        .values_list("ref", "pk", "status", "directorate_id", "directorate__name")
        .order_by()
    )
    return {ref: (pk, status, directorate_id, directorate) for ref, pk, status, directorate_id, directorate in rows}


def lookup_messages(kind, row, rater, objective):
    """Why `row` may not be imported as `rater` rating `objective` (either None when not found):
    administrators do not rate; drafts are not rated; a directorate's objective is rated by its
    members only. [] when it may."""
    messages = []
    if rater is None:
        messages.append(f"rater_email {row.rater_email} is not a member of this trust")
    elif rater.role == Role.ADMINISTRATOR:
        messages.append(f"{row.rater_email} is a trust administrator; administrators do not rate")
    if kind.rates_objectives:
        if objective is None:
            messages.append(f"unknown objective_ref {row.objective_ref} (no objective with that ref in this trust)")
        else:
            _objective_id, status, directorate_id, directorate = objective
            if status == Status.DRAFT:
                messages.append(f"objective {row.objective_ref} is a draft; drafts are not rated")
            elif rater is not None and directorate_id is not None and directorate_id != rater.directorate_id:
                theirs = f"the {rater.directorate} directorate" if rater.directorate else "no directorate"
                messages.append(
                    f"objective {row.objective_ref} belongs to the {directorate} directorate; "
                    f"{row.rater_email} is in {theirs}, so does not rate it"
                )
    return messages


def duplicate_message(kind, row, first_line):
    return f"duplicate {kind.describe(row)} (first on line {first_line})"


def _resolve(kind, trust, rows):
    """Attach raters (and objectives) to rows; (resolved rows, errors). Entitlement is checked here."""
    raters = _raters(trust, {row.rater_email for row in rows})
    objectives = _objectives(trust, {row.objective_ref for row in rows}) if kind.rates_objectives else {}
    resolved, errors = [], []
    for row in rows:
        rater = raters.get(row.rater_email)
        objective = objectives.get(row.objective_ref) if kind.rates_objectives else None
        messages = lookup_messages(kind, row, rater, objective)
        if objective is not None:
            row.objective_id = objective[0]
        if messages:
            errors.extend(RowError(row.line, message) for message in messages)
        else:
            row.rater = rater
            resolved.append(row)
    return resolved, errors


def reported_row_errors(trust, lines):
    """A RowError per (line, period) whose round's board report is built: published numbers never
    change (surveys.services.frozen). One query."""
    reports = reports_of_periods(trust, {period for _, period in lines})
    return [RowError(line, reported_period_message(reports[period])) for line, period in lines if period in reports]


def refuse_reported(trust, periods):
    """ValueError when any of `periods` was reported since the file was checked (a report built
    between the preview and the confirm)."""
    reports = reports_of_periods(trust, periods)
    if reports:
        first = reports[min(reports)]
        raise ValueError(f"Nothing was imported: {reported_period_message(first)}. Check the file again.")


def _stored_rounds(periods):
    return {round_.period: round_ for round_ in RatingRound.objects.filter(period__in=periods)}


def _stored_answers(kind, rounds):
    """{(round id, *key): answer tuple} of what is stored for these rounds, in one query."""
    if not rounds:
        return {}
    columns = ("round_id", *kind.key_fields, *kind.fields)
    width = 1 + len(kind.key_fields)
    values = kind.model.objects.filter(round__in=rounds).order_by().values_list(*columns)
    return {tuple(row[:width]): tuple(row[width:]) for row in values}


def _plan(kind, *, trust, text=None, path=None, progress=None, today=None):
    if (text is None) == (path is None):
        raise TypeError("Give the file as text or as path: one of them.")
    today = today or _trust_today(trust)
    if connection.vendor == "postgresql":
        from .importing_copy import copy_plan

        return copy_plan(kind, trust=trust, source=text if path is None else Path(path), progress=progress, today=today)
    plan = ImportPlan()
    if path is not None:
        try:
            text = decode_upload(Path(path).read_bytes())
        except ImportFileError as exc:
            plan.errors = [RowError(exc.line, str(exc))]
            return plan
    rows, plan.errors = check_file(text, kind.columns, _validator(kind, today), progress)
    rows, duplicates = _without_duplicates(kind, rows)
    plan.errors.extend(duplicates)
    with scope(trust=trust):
        rows, lookup_errors = _resolve(kind, trust, rows)
        plan.errors.extend(lookup_errors)
        plan.errors.extend(reported_row_errors(trust, [(row.line, row.period) for row in rows]))
        plan.errors.sort(key=lambda error: error.line)
        if not plan.is_valid:
            plan.errors = capped(plan.errors)
            return plan
        plan.rows = rows
        periods = {row.period for row in rows}
        rounds = _stored_rounds(periods)
        stored = _stored_answers(kind, list(rounds.values()))
    plan.new_rounds = [f"{period:%Y-%m}" for period in sorted(periods - set(rounds))]
    for row in rows:
        round_ = rounds.get(row.period)
        answer = stored.get((round_.pk, *kind.row_key(row))) if round_ else None
        if answer is None:
            plan.created += 1
        elif answer != row.values:
            plan.updated += 1
        else:
            plan.unchanged += 1
    return plan


def _instance(kind, trust, round_, row, now):
    rater = row.rater
    values = dict(zip(kind.fields, row.values, strict=True))
    if kind.rates_objectives:
        values["objective_id"] = row.objective_id
    return kind.model(
        trust=trust,
        round=round_,
        rater_id=rater.pk,
        professional_group=rater.professional_group,
        level=rater.level,
        directorate_id=rater.directorate_id,
        created_at=now,
        updated_at=now,
        **values,
    )


def _apply(kind, *, trust, plan, progress=None, now=None):
    """Write a valid plan in one transaction; re-applying the same plan writes nothing."""
    if not plan.is_valid:
        raise ValueError("Refusing to apply an import plan with errors.")
    now = now or timezone.now()
    if plan.staged is not None:
        from .importing_copy import copy_apply

        return copy_apply(kind, trust=trust, plan=plan, progress=progress, now=now)
    created = updated = unchanged = 0
    total = len(plan.rows)
    manager = kind.model.objects
    with transaction.atomic(), scope(trust=trust):
        periods = {row.period for row in plan.rows}
        refuse_reported(trust, periods)
        rounds = _stored_rounds(periods)
        new_rounds = sorted(periods - set(rounds))
        for period in new_rounds:  # a query or two per new month, never per row
            rounds[period] = round_get_or_create(trust=trust, period=period)
        stored = _stored_answers(kind, list(rounds.values()))
        for start in range(0, total, BATCH):
            to_create, to_update = [], []
            for row in plan.rows[start : start + BATCH]:
                round_ = rounds[row.period]
                answer = stored.get((round_.pk, *kind.row_key(row)))
                if answer is None:
                    to_create.append(_instance(kind, trust, round_, row, now))
                elif answer != row.values:
                    to_update.append(_instance(kind, trust, round_, row, now))
                else:
                    unchanged += 1
            if to_create:
                manager.bulk_create(to_create, batch_size=BATCH)
            if to_update:
                # INSERT ... ON CONFLICT DO UPDATE of the answer only: the stored snapshot and
                # created_at stay; rows never conflict with new ones (the file has no duplicates).
                manager.bulk_create(
                    to_update,
                    batch_size=BATCH,
                    update_conflicts=True,
                    unique_fields=["round", *(name.removesuffix("_id") for name in kind.key_fields)],
                    update_fields=[*kind.fields, "updated_at"],
                )
            created += len(to_create)
            updated += len(to_update)
            if progress:
                progress(min(start + BATCH, total), total)
        if kind.rates_objectives and created + updated:  # issue #23: hold flagged comments for review
            comments_screen_rounds(trust=trust, round_ids=[r.pk for r in rounds.values()], written_at=now)
    return ImportResult(created, updated, unchanged, [f"{period:%Y-%m}" for period in new_rounds])


def ratings_import_plan(*, trust, text=None, path=None, progress=None, today=None):
    """Check every row of a ratings CSV against `trust`; nothing is written.

    The file is `text` (decoded) or `path` (a file, decoded as partnership.csv_import.decode_upload
    does; on PostgreSQL it is then read as it is checked, never whole into memory).
    `progress(done, total)` is called as rows are checked (every 1,000 rows; every 100,000 in files
    of over 100,000 rows on PostgreSQL); `today` (the trust's date) is for tests.
    """
    return _plan(RATINGS, trust=trust, text=text, path=path, progress=progress, today=today)


def ratings_import_apply(*, trust, plan, progress=None, now=None):
    """Write a valid ratings plan in one transaction; `progress(done, total)` per 5,000 rows
    (on PostgreSQL once, when written)."""
    return _apply(RATINGS, trust=trust, plan=plan, progress=progress, now=now)


def pulse_import_plan(*, trust, text=None, path=None, progress=None, today=None):
    """Check every row of a pulse CSV against `trust`; nothing is written (as ratings_import_plan)."""
    return _plan(PULSE, trust=trust, text=text, path=path, progress=progress, today=today)


def pulse_import_apply(*, trust, plan, progress=None, now=None):
    """Write a valid pulse plan in one transaction (as ratings_import_apply)."""
    return _apply(PULSE, trust=trust, plan=plan, progress=progress, now=now)
