"""The ratings and pulse imports at scale (issue #7): what both paths share (the error cap, the
strict cell forms, files given by path, every error of a line counted) and, on PostgreSQL, the
COPY path itself (surveys.importing_copy): past the 100,000-row cap, its own cap, a staged plan
applied on another connection or twice, people changing between check and apply."""

import io
import itertools
import os
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django_scopes import scopes_disabled

from partnership import csv_import
from partnership.csv_import import text_lines
from surveys import importing_copy
from surveys.importing import (
    MAX_LISTED_ERRORS,
    pulse_import_apply,
    pulse_import_plan,
    ratings_import_apply,
    ratings_import_plan,
)
from surveys.models import PulseResponse, Rating
from tests.factories import MembershipFactory, ObjectiveFactory
from tests.surveys.test_import_ratings import (
    GOOD,
    GOOD_ROW,
    HEADER,
    failed_import,
    make_people,
    ratings,
    run_import,
    stored,
    write_csv,
)

pytestmark = pytest.mark.django_db
# The COPY path exists only on PostgreSQL (CI's database); on SQLite the Python path runs and has
# its own tests. Where services are required (CI, REQUIRE_SERVICES=1) the suite already fails
# unless the database is PostgreSQL (tests/test_services.py), so in CI these never skip.
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql" and os.environ.get("REQUIRE_SERVICES") != "1",
    reason="the COPY path is PostgreSQL's (run with DATABASE_URL=postgres://... to include it)",
)


@pytest.fixture
def people(trust, other_trust):
    return make_people(trust, other_trust)


# --- streaming lines -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a,b\r\n1,2\r\n",
        "a,b\n1,2\n3,4",
        "a,b\r1,2\r",  # old Mac line ends
        "a,b\r\n\r\n\n1,2\r\n",  # blank lines
        'a,b\r\n1,"two\r\nlines"\r\n3,"x\ry"\n',  # line breaks inside quotes
        "",
        "no line end",
    ],
)
def test_text_lines_splits_like_stringio(text):
    assert list(text_lines(text)) == list(io.StringIO(text, newline=""))


# --- both paths ------------------------------------------------------------------------------------


def test_a_thousand_errors_are_listed_and_the_rest_counted(tmp_path, trust, people):
    path = write_csv(tmp_path, *["2025-01,OBJ-01,md@ashby.nhs.uk,9,"] * (MAX_LISTED_ERRORS + 500))

    message, errors = failed_import(path)

    assert message == f"{MAX_LISTED_ERRORS + 500} error(s) in ratings.csv; nothing was imported."
    assert len(errors) == MAX_LISTED_ERRORS + 1
    assert errors[0] == "ratings.csv: line 2: score 9 is outside 1–5"
    assert errors[MAX_LISTED_ERRORS - 1] == f"ratings.csv: line {MAX_LISTED_ERRORS + 1}: score 9 is outside 1–5"
    assert errors[-1] == "ratings.csv: ... and 500 more error(s), not listed"
    assert stored() == ([], [])


def test_every_error_of_a_line_is_listed_and_counted(tmp_path, trust, people):
    path = write_csv(tmp_path, GOOD_ROW, "2025-13,, ,x," + "c" * 2001, "2025-02,OBJ-05,admin@ashby.nhs.uk,4,")

    message, errors = failed_import(path)

    assert message == "7 error(s) in ratings.csv; nothing was imported."
    assert errors == [
        "ratings.csv: line 3: period '2025-13' is not a month like 2026-03",
        "ratings.csv: line 3: rater_email is blank",
        "ratings.csv: line 3: objective_ref is blank",
        "ratings.csv: line 3: score 'x' is not a number from 1 to 5 (leave it blank for can't judge)",
        "ratings.csv: line 3: comment is longer than 2,000 characters (2,001)",
        "ratings.csv: line 4: admin@ashby.nhs.uk is a trust administrator; administrators do not rate",
        "ratings.csv: line 4: objective OBJ-05 is a draft; drafts are not rated",
    ]


def test_duplicates_are_checked_among_rows_with_good_cells(tmp_path, trust, people):
    path = write_csv(
        tmp_path,
        "2025-01,OBJ-01,md@ashby.nhs.uk,9,",  # a bad score: not the first of its key
        "2025-01,OBJ-01,md@ashby.nhs.uk,3,",
        "2025-01,OBJ-01,nobody@ashby.nhs.uk,3,",
        "2025-01,OBJ-01,Nobody@Ashby.nhs.uk,4,",  # a duplicate of a row that is itself bad
    )

    _, errors = failed_import(path)

    assert errors == [
        "ratings.csv: line 2: score 9 is outside 1–5",
        "ratings.csv: line 4: rater_email nobody@ashby.nhs.uk is not a member of this trust",
        "ratings.csv: line 5: duplicate rating of OBJ-01 by nobody@ashby.nhs.uk for 2025-01 (first on line 4)",
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2025-01,OBJ-01,md@ashby.nhs.uk,٣,", "score '٣' is not a number from 1 to 5"),
        ("2025-01,OBJ-01,md@ashby.nhs.uk,1_0,", "score '1_0' is not a number from 1 to 5"),
        ("２０２５-０１,OBJ-01,md@ashby.nhs.uk,3,", "period '２０２５-０１' is not a month like 2026-03"),
        ("2025-+1,OBJ-01,md@ashby.nhs.uk,3,", "period '2025-+1' is not a month like 2026-03"),
        ("0000-01,OBJ-01,md@ashby.nhs.uk,3,", "period '0000-01' is not a month like 2026-03"),
        ("1850-01,OBJ-01,md@ashby.nhs.uk,3,", "period '1850-01' is not a month like 2026-03"),  # 1900-2099
    ],
)
def test_the_same_cells_are_refused_on_both_paths(tmp_path, trust, people, row, message):
    _, errors = failed_import(write_csv(tmp_path, row))

    assert len(errors) == 1 and errors[0].startswith(f"ratings.csv: line 2: {message}")


def test_signs_and_leading_zeros_are_numbers(tmp_path, trust, people):
    run_import(write_csv(tmp_path, "2025-01,OBJ-01,md@ashby.nhs.uk,+04,", "2025-01,OBJ-01,ceo@ashby.nhs.uk,02,"))

    assert sorted(r.score for r in ratings(trust).values()) == [2, 4]


def test_a_file_given_by_path_is_imported_like_its_text(trust, people):
    plan = ratings_import_plan(trust=trust, path=GOOD)
    assert plan.is_valid and plan.summary().startswith("6 row(s): 6 new, 0 changed, 0 unchanged")

    result = ratings_import_apply(trust=trust, plan=plan)

    assert result.summary() == "6 created, 0 updated, 0 unchanged; round(s) created: 2025-01, 2025-02"
    assert ratings_import_plan(trust=trust, text=GOOD.read_text()).summary().startswith("6 row(s): 0 new")


def test_a_windows_1252_file_given_by_path(tmp_path, trust, people):
    path = tmp_path / "excel.csv"
    path.write_bytes(f"{HEADER}\r\n2025-01,OBJ-01,md@ashby.nhs.uk,4,Caf\xe9 talks\r\n".encode("cp1252"))

    ratings_import_apply(trust=trust, plan=ratings_import_plan(trust=trust, path=path))

    assert ratings(trust)[("2025-01", "OBJ-01", "md@ashby.nhs.uk")].comment == "Café talks"


def test_a_file_given_by_path_with_nul_bytes_is_refused(tmp_path, trust, people):
    path = tmp_path / "binary.csv"
    path.write_bytes(f"{HEADER}\r\n2025-01,OBJ-01,md@ashby.nhs.uk,4,\x00\r\n".encode())

    plan = ratings_import_plan(trust=trust, path=path)

    assert [str(error) for error in plan.errors] == [
        "line 1: The file contains NUL bytes; it does not look like a CSV text file."
    ]


def test_a_pulse_file_given_by_path(tmp_path, trust, people):
    path = tmp_path / "pulse.csv"
    path.write_text("period,rater_email,quality,outlook,category\n2025-01,MD@ashby.nhs.uk,4,Improve,\n")

    result = pulse_import_apply(trust=trust, plan=pulse_import_plan(trust=trust, path=path))

    assert result.summary() == "1 created, 0 updated, 0 unchanged; round(s) created: 2025-01"
    with scopes_disabled():
        response = PulseResponse.objects.get()
    assert (response.quality, response.outlook, response.category, response.statements) == (4, "improve", "", {})


def test_text_or_path_not_both(trust):
    with pytest.raises(TypeError):
        ratings_import_plan(trust=trust, text=GOOD.read_text(), path=GOOD)


# --- PostgreSQL: the COPY path ---------------------------------------------------------------------


def stage_tables():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'import\\_stage\\_%%'")
        return cursor.fetchone()[0]


@postgresql_only
def test_more_rows_than_the_python_paths_cap(tmp_path, trust):
    """101,000 rows (over partnership.csv_import.MAX_ROWS): progress every 100,000 rows."""
    raters = [MembershipFactory(trust=trust, user__email=f"r{n}@ashby.nhs.uk") for n in range(101)]
    refs = [ObjectiveFactory(trust=trust, ref=f"B-{n:02d}", status="agreed").ref for n in range(40)]
    periods = [date(2022 + month // 12, month % 12 + 1, 1) for month in range(25)]
    rows = (
        f"{period:%Y-%m},{ref},{rater.user.email},{(index % 5) + 1},"
        for index, (period, ref, rater) in enumerate(itertools.product(periods, refs, raters))
    )
    path = write_csv(tmp_path, *rows)
    assert 101_000 > csv_import.MAX_ROWS

    out, err = run_import(path)

    assert "101000 created, 0 updated, 0 unchanged" in out
    assert "Checked 100,000/101,000 rows\r" in err and "Checked 101,000/101,000 rows\n" in err
    assert "Checked 1,000/" not in err
    with scopes_disabled():
        assert Rating.objects.filter(trust=trust).count() == 101_000
    assert stage_tables() == 0


@postgresql_only
def test_the_copy_paths_own_cap(tmp_path, trust, people, monkeypatch):
    monkeypatch.setattr(importing_copy, "MAX_ROWS", 3)

    _, errors = failed_import(write_csv(tmp_path, *[GOOD_ROW] * 4))

    assert errors == ["ratings.csv: line 1: The file has more than 3 rows; split it into smaller files."]


@postgresql_only
def test_a_bad_file_leaves_nothing_staged(tmp_path, trust, people):
    failed_import(write_csv(tmp_path, GOOD_ROW, "2025-01,OBJ-99,md@ashby.nhs.uk,4,"))

    assert stage_tables() == 0


@postgresql_only
def test_applied_on_another_connection_the_file_is_staged_again(trust, people):
    plan = ratings_import_plan(trust=trust, text=GOOD.read_text())
    assert stage_tables() == 3  # the rows, the trust's members and its objectives
    with connection.cursor() as cursor:  # as if the connection had changed: its TEMP tables are gone
        table = plan.staged.table
        cursor.execute(f"DROP TABLE {table}, {table}_members, {table}_objectives")

    result = ratings_import_apply(trust=trust, plan=plan)

    assert (result.created, result.updated, result.unchanged) == (6, 0, 0)
    assert len(ratings(trust)) == 6
    assert ratings_import_apply(trust=trust, plan=plan).summary() == "0 created, 0 updated, 6 unchanged"
    assert stage_tables() == 0


@postgresql_only
def test_a_rater_gone_between_check_and_apply_stops_the_import(trust, people):
    plan = ratings_import_plan(trust=trust, text=GOOD.read_text())
    user = people["ceo"].user
    user.email = "someone.else@ashby.nhs.uk"
    user.save()

    with pytest.raises(ValueError, match="1 row.s. no longer match a member or objective of RAA"):
        ratings_import_apply(trust=trust, plan=plan)

    assert stored() == ([], [])


@postgresql_only
def test_the_plan_counts_and_the_write_agree_with_what_is_stored(tmp_path, trust, people):
    run_import(GOOD)
    changed = GOOD.read_text().replace("CEO@Ashby.nhs.uk,2,", "CEO@Ashby.nhs.uk,,")
    extra = "2025-03,OBJ-01,md@ashby.nhs.uk,5,March\r\n"

    plan = ratings_import_plan(trust=trust, text=changed + extra)

    assert plan.summary() == "7 row(s): 1 new, 1 changed, 5 unchanged; new round(s): 2025-03"
    result = ratings_import_apply(trust=trust, plan=plan)
    assert result.summary() == "1 created, 1 updated, 5 unchanged; round(s) created: 2025-03"
    assert ratings(trust)[("2025-01", "OBJ-01", "ceo@ashby.nhs.uk")].score is None


def test_the_command_reads_the_summary_line(trust, people):
    out = io.StringIO()
    call_command("import_ratings", "RAA", str(GOOD), stdout=out, stderr=io.StringIO())

    assert out.getvalue().startswith("Imported good.csv into RAA: 6 created")
