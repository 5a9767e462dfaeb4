"""The PostgreSQL path of the ratings and pulse imports (surveys.importing; issue #7): a million
rows in well under a minute, in memory that does not grow with the file (up to MAX_ROWS rows).

Checking (`copy_plan`, one transaction):

1. Stream. The csv module reads the file a line at a time (a str is walked without copying it,
   a path is read from disk) and each row goes into a TEMP table through COPY (psycopg's
   `copy.write_row`), with its line number. On the way the cells are only normalised as the
   Python path does it (stripped; email lower-cased, ref upper-cased, comment whitespace
   collapsed); no row stays in Python. Progress every 1,000 rows (100,000 in larger files).
   The cell checks run in the database as each row arrives, into generated columns (the period
   parsed, and the row's number of cell errors: period blank, not YYYY-MM (PERIOD_PATTERN) or
   in the future; email or ref blank; score/quality not blank or a whole number 1-5; comment over
   2,000 characters; pulse outlook and category; nothing answered; a wrong number of values).
2. Check in SQL. The trust's members (by lower-cased email) and objectives (by ref) are copied
   into two small TEMP tables, indexed and analysed. One query then lists the bad lines: cell
   errors; among rows with good cells, duplicates of a key seen on an earlier line (a hash
   aggregate); for the others, the lookups: unknown email (this trust only, case-insensitive),
   administrator, unknown or draft objective, another directorate's objective. It returns the
   first MAX_LISTED_ERRORS bad lines and the number of errors in all; for a bad file a second
   query fetches those lines, whose messages are written by the Python path's own code
   (surveys.importing), so they read the same. A good file takes that one query.
3. Count what applying would do: the file's rounds (one query), new, changed and unchanged rows
   (another).

A bad file rolls the transaction back, the TEMP tables with it. A good file's stay in the
database session for `copy_apply` (one transaction): reload the members and objectives (people
may have changed), create the missing rounds (few), check that every row still resolves, then
one INSERT ... SELECT of only the new and changed rows ON CONFLICT (round, [objective,] rater)
DO UPDATE ... WHERE the answer IS DISTINCT FROM the stored one; then drop the tables, and
ANALYZE the table when many rows were written.
Re-importing the same file writes nothing: no INSERT is even sent, so no row is locked and no
updated_at moves. A TEMP table belongs to its connection: if apply runs on another one (not so
in manage.py), or twice, it stages and checks the file again.

The statements on the TEMP tables themselves (CREATE, COPY, ANALYZE, DROP, and SET LOCAL of
work_mem and jit for the transaction) run on the psycopg cursor, as COPY has to, so they are not
in Django's query log; the checks, counts and writes go through Django's cursor.
"""

# bandit B608 ("SQL built from strings", skipped in the Makefile for this reason): the only things
# formatted into SQL in this module are table and column names taken from our own models and the
# temporary table's fixed name; every value from the file goes through COPY or query parameters.

import csv
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django_scopes import scope

from objectives.models import Objective, Status
from partnership.csv_import import ImportFileError, RowError, clean_text, iter_values, read_header, text_lines
from partnership.models import Directorate, Membership, Role

from .importing import (
    MAX_LISTED_ERRORS,
    NUMBER_FORM,
    ImportPlan,
    ImportResult,
    ImportRow,
    Rater,
    _validator,
    capped,
    duplicate_message,
    lookup_messages,
    refuse_reported,
)
from .models import Category, Outlook, PulseResponse, Rating, RatingRound
from .services.comment_review import comments_screen_rounds
from .services.frozen import reported_period_message, reports_of_periods
from .services.ratings import MAX_COMMENT
from .services.rounds import PERIOD_PATTERN, round_get_or_create

__all__ = ["MAX_ROWS", "copy_apply", "copy_plan"]

MAX_ROWS = 5_000_000
PROGRESS_EVERY = 1_000  # rows, in files of up to PROGRESS_LARGE rows
PROGRESS_LARGE = 100_000  # ... and every this many rows in larger ones
WORK_MEM = "256MB"  # for these transactions only: the duplicate check hashes every row of the file
ANALYZE_AFTER = 10_000  # rows written: then the table's statistics are refreshed at once
ENCODINGS = ("utf-8-sig", "cp1252")  # of a file read from a path, as partnership.csv_import.decode_upload


# --- the two kinds -----------------------------------------------------------------------------


def _rating_cells(values, at):
    return (
        values[at[0]].strip(),
        values[at[1]].strip().upper(),
        values[at[2]].strip().lower(),
        values[at[3]].strip(),
        clean_text(values[at[4]]),
    )


def _pulse_cells(values, at):
    outlook, category = values[at[3]].strip(), values[at[4]].strip()
    return (
        values[at[0]].strip(),
        values[at[1]].strip().lower(),
        values[at[2]].strip(),
        outlook,
        category,
        outlook.lower(),
        category.lower(),
    )


@dataclass(frozen=True)
class _Spec:
    """What the SQL of one kind of import needs (surveys.importing's `_Kind` has the rest)."""

    stage_columns: tuple  # text columns of the staging table (after line and problem), as written
    cells: Callable  # (values, column indexes) -> the stage_columns of one row
    raw_columns: int  # the first this many stage_columns are the validator's `raw`, in kind.columns order
    number: str  # the stage column holding the score or quality
    key: tuple  # stage columns that, with the period, are a row's key in the file
    target: type
    conflict: tuple  # the target's unique constraint
    answer: tuple  # (target column, SQL over the stage as s): the answer written
    faults: str  # SQL over a staged row: its number of cell errors (a template, see _COMMON_FAULTS)


# The cell checks, as SQL over one staged row (see _stage_ddl for `{period}` and `{number}`).
# Every term counts one message of surveys.importing's validator, in its order.
_COMMON_FAULTS = "{period} + (rater_email = '')::int"


def _sql_strings(values):
    assert all(value.isalpha() for value in values)  # our own vocabulary, inlined in DDL
    return "ARRAY[" + ", ".join(f"'{value}'" for value in ["", *values]) + "]"


SPECS = {
    "rating": _Spec(
        stage_columns=("period", "objective_ref", "rater_email", "score", "comment"),
        cells=_rating_cells,
        raw_columns=5,
        number="score",
        key=("objective_ref", "rater_email"),
        target=Rating,
        conflict=("round_id", "objective_id", "rater_id"),
        answer=(("score", "nullif(s.score, '')::numeric::smallint"), ("comment", "s.comment")),
        faults=_COMMON_FAULTS
        + f" + (objective_ref = '')::int + {{number}} + (char_length(comment) > {MAX_COMMENT:d})::int",
    ),
    "pulse response": _Spec(
        # outlook_cell and category_cell as written (for messages); outlook and category lower-cased
        stage_columns=("period", "rater_email", "quality", "outlook_cell", "category_cell", "outlook", "category"),
        cells=_pulse_cells,
        raw_columns=5,
        number="quality",
        key=("rater_email",),
        target=PulseResponse,
        conflict=("round_id", "rater_id"),
        answer=(
            ("quality", "nullif(s.quality, '')::numeric::smallint"),
            ("outlook", "s.outlook"),
            ("category", "s.category"),
        ),
        faults=_COMMON_FAULTS
        + f""" + {{number}} + (outlook <> ALL({_sql_strings(Outlook.values)}))::int
        + (category <> ALL({_sql_strings(Category.values)}))::int
        + (quality = '' AND outlook = '' AND category = '')::int""",
    ),
}


def _spec(kind):
    return SPECS[kind.noun]


# --- SQL ---------------------------------------------------------------------------------------


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


def _stage_ddl(kind, table, today):
    """The staging table. Each row is checked once, as it arrives, into two generated columns:
    period_date (NULL unless the period matches PERIOD_PATTERN, as period_parse wants it) and
    faults, its number of cell errors (1 for a wrong number of values). As columns they have
    statistics after ANALYZE, so the planner knows that nearly every row is good. CASE evaluates
    its branches in order, so the casts only ever see digits; a period that matches the pattern
    is in the future when it sorts after this month's. DDL takes no parameters: the constants are
    inlined (our own, checked)."""
    spec = _spec(kind)
    period_form, number_form = f"^(?:{PERIOD_PATTERN.pattern})$", f"^(?:{NUMBER_FORM})$"
    this_month = f"{today:%Y-%m}"
    assert "'" not in period_form + number_form + this_month
    period_date = f"""CASE WHEN period ~ '{period_form}'
        THEN make_date(substr(period, 1, 4)::int, substr(period, 6, 2)::int, 1) END"""
    period = f"""CASE WHEN period = '' THEN 1 WHEN period !~ '{period_form}' THEN 1
        WHEN period > '{this_month}' THEN 1 ELSE 0 END"""
    n = spec.number
    number = f"""CASE WHEN {n} = '' THEN 0 WHEN {n} !~ '{number_form}' THEN 1
        WHEN {n}::numeric BETWEEN 1 AND 5 THEN 0 ELSE 1 END"""
    faults = spec.faults.replace("{period}", f"({period})").replace("{number}", f"({number})")
    columns = ", ".join(f"{column} text NOT NULL" for column in spec.stage_columns)
    return f"""CREATE TEMP TABLE {table} (
        line integer NOT NULL, problem text, {columns},
        period_date date GENERATED ALWAYS AS ({period_date}) STORED,
        faults integer GENERATED ALWAYS AS (CASE WHEN problem IS NOT NULL THEN 1 ELSE {faults} END) STORED
    )"""


def _lookup_ddl(kind, table):
    """This trust's members by lower-cased email (and objectives by ref), as small TEMP tables,
    indexed and analysed, so that the planner joins a million staged rows to them knowing their
    size (a CTE, or a trust whose people were imported a minute ago, looks like one row)."""
    members, objectives = f"{table}_members", f"{table}_objectives"
    statements = [
        f"DROP TABLE IF EXISTS {members}",
        f"""CREATE TEMP TABLE {members} AS
        SELECT lower(u.email) AS email, m.id, m.role, m.professional_group, m.level, m.directorate_id,
               coalesce(d.name, '') AS directorate
        FROM {_table(Membership)} m
        JOIN {_table(get_user_model())} u ON u.id = m.user_id
        LEFT JOIN {_table(Directorate)} d ON d.id = m.directorate_id
        WHERE m.trust_id = %(trust)s""",
        f"CREATE INDEX ON {members} (email)",
        f"ANALYZE {members}",
    ]
    if kind.rates_objectives:
        statements += [
            f"DROP TABLE IF EXISTS {objectives}",
            f"""CREATE TEMP TABLE {objectives} AS
            SELECT o.ref, o.id, o.status, o.directorate_id, coalesce(d.name, '') AS directorate
            FROM {_table(Objective)} o LEFT JOIN {_table(Directorate)} d ON d.id = o.directorate_id
            WHERE o.trust_id = %(trust)s""",
            f"CREATE INDEX ON {objectives} (ref)",
            f"ANALYZE {objectives}",
        ]
    return statements


def _joins(kind, table, alias, join="LEFT JOIN"):
    sql = f"{join} {table}_members m ON m.email = {alias}.rater_email"
    if kind.rates_objectives:
        sql += f" {join} {table}_objectives o ON o.ref = {alias}.objective_ref"
    return sql


def _lookup_faults(kind):
    """SQL: the number of lookup errors of a row joined to members m (and objectives o); every
    term counts one message of surveys.importing.lookup_messages."""
    sql = "(m.id IS NULL)::int + coalesce(m.role = %(administrator)s, false)::int"
    if kind.rates_objectives:
        sql += """ + (o.id IS NULL)::int + coalesce(o.status = %(draft)s, false)::int
            + coalesce(o.status <> %(draft)s AND m.id IS NOT NULL AND o.directorate_id IS NOT NULL
                       AND o.directorate_id IS DISTINCT FROM m.directorate_id, false)::int"""
    return sql


def _read(sql):
    """A read with WITH items, as a statement that begins with SELECT, like every other read."""
    return f"SELECT * FROM ({sql}\n) AS result"


def _errors_sql(kind, table):
    """The first %(limit)s bad lines: (line, first line of the key when a duplicate, the number
    of errors in the whole file). Cell errors first; then, among rows with good cells, duplicates
    of a key seen on an earlier line; then the lookups of the remaining rows."""
    spec = _spec(kind)
    key = ", ".join(("period_date", *spec.key))
    same_key = " AND ".join(f"d.{column} = g.{column}" for column in ("period_date", *spec.key))
    return _read(f"""
    WITH good AS NOT MATERIALIZED (SELECT line, {key} FROM {table} WHERE faults = 0),
    repeated AS (
        SELECT {key}, min(line) AS first_line FROM good GROUP BY {key} HAVING count(*) > 1
    ),
    bad AS (
        SELECT line, faults, NULL::integer AS first_line FROM {table} WHERE faults > 0
        UNION ALL
        SELECT line, faults, first_line FROM (
            SELECT g.line, CASE WHEN g.line > d.first_line THEN d.first_line END AS first_line,
                   CASE WHEN g.line > d.first_line THEN 1 ELSE {_lookup_faults(kind)} END AS faults
            FROM good g LEFT JOIN repeated d ON {same_key} {_joins(kind, table, "g")}
        ) checked WHERE faults > 0
    )
    SELECT line, first_line, sum(faults) OVER () AS total FROM bad ORDER BY line LIMIT %(limit)s""")


def _details_sql(kind, table):
    """For messages: (line, problem, the staged cells, period, the rater found, the objective
    found) of the lines %(lines)s."""
    spec = _spec(kind)
    cells = ", ".join(f"s.{column}" for column in spec.stage_columns)
    found = "m.id, m.role, m.professional_group, m.level, m.directorate_id, m.directorate"
    if kind.rates_objectives:
        found += ", o.id, o.status, o.directorate_id, o.directorate"
    return f"""SELECT s.line, s.problem, {cells}, s.period_date, {found}
    FROM {table} s {_joins(kind, table, "s")} WHERE s.line = ANY(%(lines)s) ORDER BY s.line"""


def _incoming_sql(kind, table, *, snapshot=False):
    """WITH item `incoming`: the staged rows resolved to their round (%(periods)s and
    %(round_ids)s: NULL until apply creates it), (objective,) rater, (snapshot,) and the answer to
    write. A row whose rater (or objective) is not found is left out: copy_apply counts them."""
    spec = _spec(kind)
    objective = "o.id AS objective_id, " if kind.rates_objectives else ""
    snapshot_columns = "m.professional_group, m.level, m.directorate_id, " if snapshot else ""
    answer = ", ".join(f"{sql} AS {column}" for column, sql in spec.answer)
    return f"""incoming AS (
        SELECT r.id AS round_id, {objective}m.id AS rater_id, {snapshot_columns}{answer}
        FROM {table} s {_joins(kind, table, "s", join="JOIN")}
        LEFT JOIN unnest(%(periods)s::date[], %(round_ids)s::bigint[]) AS r (period, id) ON r.period = s.period_date
    )"""


def _stored(kind):
    """Join of `incoming i` to the stored row x with its key, and SQL for 'the answer differs'.
    Only the file's rounds are read (the table holds every trust's rows of every month)."""
    spec = _spec(kind)
    on = " AND ".join(f"x.{column} = i.{column}" for column in spec.conflict) + " AND x.round_id = ANY(%(round_ids)s)"
    fields = [column for column, _sql in spec.answer]
    differs = f"({', '.join(f'x.{f}' for f in fields)}) IS DISTINCT FROM ({', '.join(f'i.{f}' for f in fields)})"
    return f"LEFT JOIN {_table(spec.target)} x ON {on}", differs


def _counts_sql(kind, table):
    """(rows that resolve, new, changed)."""
    join, differs = _stored(kind)
    return _read(f"""
    WITH {_incoming_sql(kind, table)}
    SELECT count(*), count(*) FILTER (WHERE x.id IS NULL), count(*) FILTER (WHERE x.id IS NOT NULL AND {differs})
    FROM incoming i {join}""")


def _write_sql(kind, table):
    """INSERT the new and changed rows, in the order of the unique constraint (index pages are
    then filled in turn, not at random); (created, updated)."""
    spec = _spec(kind)
    join, differs = _stored(kind)
    fields = [column for column, _sql in spec.answer]
    columns = [*spec.conflict, "professional_group", "level", "directorate_id", *fields]
    extra_columns, extra_values = ["trust_id", "created_at", "updated_at"], ["%(trust)s", "%(now)s", "%(now)s"]
    if kind.noun == "pulse response":  # the statement bank is not in the CSV: a new response has none
        extra_columns.append("statements")
        extra_values.append("'{}'::jsonb")
    changed = f"({', '.join(f't.{f}' for f in fields)}) IS DISTINCT FROM ({', '.join(f'EXCLUDED.{f}' for f in fields)})"
    return f"""
    WITH {_incoming_sql(kind, table, snapshot=True)},
    todo AS (SELECT i.* FROM incoming i {join} WHERE x.id IS NULL OR {differs}),
    written AS (
        INSERT INTO {_table(spec.target)} AS t ({", ".join([*columns, *extra_columns])})
        SELECT {", ".join([*columns, *extra_values])} FROM todo ORDER BY {", ".join(spec.conflict)}
        ON CONFLICT ({", ".join(spec.conflict)}) DO UPDATE
            SET {", ".join(f"{f} = EXCLUDED.{f}" for f in fields)}, updated_at = EXCLUDED.updated_at
            WHERE {changed}
        RETURNING (t.xmax = 0) AS created
    )
    SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM written"""


def _params(trust, **extra):
    return {
        "trust": trust.pk,
        "administrator": Role.ADMINISTRATOR,
        "draft": Status.DRAFT,
        **extra,
    }


# --- staging -----------------------------------------------------------------------------------


@dataclass
class _Staged:
    """A checked file's rows in the session's TEMP table `table`, and how to stage them again."""

    table: str
    source: object  # the text, or the Path
    today: object
    encoding: str | None = None  # of the Path
    count: int = 0


class _Invalid(Exception):  # noqa: N818 - an outcome, raised to roll the transaction back
    def __init__(self, errors):
        self.errors = errors


def _estimated_rows(source):
    """Data rows of the file to show progress against: its lines but the header (cheap)."""
    if isinstance(source, Path):
        with source.open("rb") as file:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
    else:
        lines = source.count("\n") or source.count("\r")
        lines += 0 if source.endswith(("\n", "\r")) else 1
    return max(lines - 1, 1)


def _no_nul(lines):
    for line in lines:
        if "\x00" in line:
            raise ImportFileError("The file contains NUL bytes; it does not look like a CSV text file.")
        yield line


def _copy(kind, raw, table, lines, progress, total):
    """COPY the file's rows into the staging table; the number of rows."""
    spec = _spec(kind)
    reader = csv.reader(lines)
    header = read_header(reader, kind.columns)
    at = [header.index(column) for column in kind.columns]
    blank = ("",) * len(spec.stage_columns)
    every = PROGRESS_EVERY if total <= PROGRESS_LARGE else PROGRESS_LARGE
    count = 0
    with raw.copy(f"COPY {table} (line, problem, {', '.join(spec.stage_columns)}) FROM STDIN") as copy:
        write_row, cells = copy.write_row, spec.cells
        for line, values in iter_values(reader, len(header), MAX_ROWS):
            if isinstance(values, str):  # the wrong number of values
                write_row((line, values, *blank))
            else:
                write_row((line, None, *cells(values, at)))
            count += 1
            if progress and count % every == 0:
                progress(count, max(total, count))
    if not count:
        raise ImportFileError("The file has a header but no data rows.")
    if progress:
        progress(count, count)
    return count


def _stage_and_check(kind, trust, cursor, staged, progress):
    """Stage the file and check it, in the current transaction: raise _Invalid (with the errors)
    or ImportFileError when it is bad."""
    raw = cursor.cursor
    raw.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
    raw.execute("SET LOCAL jit = off")  # compiling these expressions costs more than it saves
    raw.execute(_stage_ddl(kind, staged.table, staged.today))
    source = staged.source
    total = _estimated_rows(source)
    if isinstance(source, Path):
        with source.open(encoding=staged.encoding, newline="") as file:
            staged.count = _copy(kind, raw, staged.table, _no_nul(file), progress, total)
    else:
        staged.count = _copy(kind, raw, staged.table, text_lines(source), progress, total)
    raw.execute(f"ANALYZE {staged.table}")
    _load_lookups(kind, trust, raw, staged.table)
    errors = _errors(kind, trust, cursor, staged)
    if errors:
        raise _Invalid(errors)


def _load_lookups(kind, trust, raw, table):
    for statement in _lookup_ddl(kind, table):
        raw.execute(statement, {"trust": trust.pk} if "%(trust)s" in statement else None)


def _errors(kind, trust, cursor, staged):
    """The capped ErrorList of a staged file ([] when it is good): one query for a good file,
    a second one for the messages of a bad one."""
    cursor.execute(_errors_sql(kind, staged.table), _params(trust, limit=MAX_LISTED_ERRORS))
    bad = cursor.fetchall()
    if not bad:
        return []
    total, duplicates = bad[0][2], {line: first_line for line, first_line, _total in bad}
    cursor.execute(_details_sql(kind, staged.table), {"lines": list(duplicates)})
    spec = _spec(kind)
    width = len(spec.stage_columns)
    validate = _validator(kind, staged.today)
    listed = []
    for line, problem, *rest in cursor.fetchall():
        cells, (period, *found) = rest[:width], rest[width:]
        if problem is not None:
            listed.append(RowError(line, problem))
            continue
        raw = dict(zip(kind.columns, cells[: spec.raw_columns], strict=True))
        checked = validate(line, raw)
        if isinstance(checked, list):  # cell errors: the Python path's own messages
            listed.extend(RowError(line, message) for message in checked)
            continue
        row = ImportRow(line, period, raw["rater_email"], (), raw.get("objective_ref", ""))
        if duplicates[line] is not None:
            messages = [duplicate_message(kind, row, duplicates[line])]
        else:
            rater_id, role, group, level, directorate_id, directorate, *objective = found
            rater = Rater(rater_id, role, group, level, directorate_id, directorate) if rater_id else None
            objective = tuple(objective) if objective and objective[0] is not None else None
            messages = lookup_messages(kind, row, rater, objective)
        # Never silent: a line the database refused has a message even if the two ever disagree.
        listed.extend(RowError(line, message) for message in messages or ["refused by the database checks"])
    return capped(listed, max(total, len(listed)))


def _counts(kind, trust, cursor, table, rounds):
    """(rows that resolve, new, changed) of a staged, checked file."""
    cursor.execute(_counts_sql(kind, table), _params(trust, **_rounds_params(rounds)))
    return cursor.fetchone()


def _rounds(trust, cursor, table):
    """{period: round id or None} of the periods in the staged file."""
    cursor.execute(
        f"SELECT d.period, r.id FROM (SELECT DISTINCT period_date AS period FROM {table}) d "
        f"LEFT JOIN {_table(RatingRound)} r ON r.trust_id = %s AND r.period = d.period ORDER BY 1",
        [trust.pk],
    )
    return dict(cursor.fetchall())


def _refuse_reported_lines(trust, cursor, table, rounds):
    """_Invalid with a per-line error for each line of a reported round (published numbers never
    change): at most MAX_LISTED_ERRORS listed, the rest counted."""
    reports = reports_of_periods(trust, [period for period in rounds if period is not None])
    if not reports:
        return
    cursor.execute(
        f"SELECT line, period_date, count(*) OVER () FROM {table} WHERE period_date = ANY(%s) ORDER BY line LIMIT %s",
        [list(reports), MAX_LISTED_ERRORS],
    )
    found = cursor.fetchall()
    errors = [RowError(line, reported_period_message(reports[period])) for line, period, _ in found]
    raise _Invalid(capped(errors, found[0][2] if found else len(errors)))


def _rounds_params(rounds):
    return {"periods": list(rounds), "round_ids": list(rounds.values())}


def _new_table_name():
    return f"import_stage_{uuid.uuid4().hex[:16]}"


# --- the two steps -----------------------------------------------------------------------------


def copy_plan(kind, *, trust, source, progress=None, today):
    """Check a file (text or Path) on PostgreSQL; an ImportPlan whose rows stay staged when good."""
    plan = ImportPlan()
    staged = _Staged(_new_table_name(), source, today)
    connection.ensure_connection()
    for encoding in ENCODINGS if isinstance(source, Path) else (None,):
        staged.encoding = encoding
        try:
            with transaction.atomic(), connection.cursor() as cursor, scope(trust=trust):
                _stage_and_check(kind, trust, cursor, staged, progress)
                rounds = _rounds(trust, cursor, staged.table)
                _refuse_reported_lines(trust, cursor, staged.table, rounds)
                _total, plan.created, plan.updated = _counts(kind, trust, cursor, staged.table, rounds)
                plan.new_rounds = [f"{period:%Y-%m}" for period, pk in rounds.items() if pk is None]
        except UnicodeDecodeError:
            if encoding == ENCODINGS[-1]:
                plan.errors = [RowError(1, "The file is not UTF-8 or Windows-1252 text. Save it as 'CSV UTF-8'.")]
                return plan
            continue  # the next encoding
        except ImportFileError as exc:
            plan.errors = [RowError(exc.line, str(exc))]
            return plan
        except _Invalid as invalid:
            plan.errors = invalid.errors
            return plan
        break
    plan.count = staged.count
    plan.unchanged = staged.count - plan.created - plan.updated
    plan.staged = staged
    return plan


def copy_apply(kind, *, trust, plan, progress=None, now):
    """Write a plan checked by copy_plan, in one transaction; the staged rows are dropped."""
    staged = plan.staged
    with transaction.atomic(), connection.cursor() as cursor, scope(trust=trust):
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"pg_temp.{staged.table}"])
        if cursor.fetchone()[0]:
            raw = cursor.cursor
            raw.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            raw.execute("SET LOCAL jit = off")
            _load_lookups(kind, trust, raw, staged.table)  # afresh: people may have changed since
        else:  # on another connection than the check (or applied twice): stage and check again
            staged.table = _new_table_name()
            try:
                _stage_and_check(kind, trust, cursor, staged, None)
            except (ImportFileError, _Invalid) as exc:
                raise ValueError(f"The file no longer checks out; check it again ({exc}).") from exc
        rounds = _rounds(trust, cursor, staged.table)
        refuse_reported(trust, rounds)
        new_rounds = [period for period, pk in rounds.items() if pk is None]
        for period in new_rounds:  # a query or two per new month, never per row
            rounds[period] = round_get_or_create(trust=trust, period=period).pk
        total, to_create, to_update = _counts(kind, trust, cursor, staged.table, rounds)
        if total != staged.count:
            raise ValueError(
                f"{staged.count - total:,} row(s) no longer match a member or objective of {trust.code} "
                "(changed since the file was checked); check it again."
            )
        created = updated = 0
        if to_create or to_update:  # else nothing to write: not even an INSERT that would lock rows
            cursor.execute(_write_sql(kind, staged.table), _params(trust, now=now, **_rounds_params(rounds)))
            created, updated = cursor.fetchone()
        if created + updated >= ANALYZE_AFTER:
            # A trust's years of history at once: until autovacuum catches up, the planner would
            # take its ratings for a handful and read them all for each round's analysis.
            cursor.execute(f"ANALYZE {_table(_spec(kind).target)}")
        cursor.cursor.execute(
            f"DROP TABLE {staged.table}, {staged.table}_members"
            + (f", {staged.table}_objectives" if kind.rates_objectives else "")
        )
        if kind.rates_objectives and created + updated:  # issue #23: hold flagged comments for review
            comments_screen_rounds(trust=trust, round_ids=list(rounds.values()), written_at=now)
    if progress:
        progress(total, total)
    return ImportResult(created, updated, total - created - updated, [f"{period:%Y-%m}" for period in new_rounds])
