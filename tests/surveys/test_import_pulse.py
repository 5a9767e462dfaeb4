"""`manage.py import_pulse TRUST_CODE FILE.csv` (DESIGN.md §6, issue #4): the same rules as the
ratings import, for the relationship pulse (quality, outlook, category)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from surveys.importing import BATCH, pulse_import_apply, pulse_import_plan
from surveys.models import PulseResponse, RatingRound
from tests.factories import MembershipFactory, TrustFactory
from tests.surveys.test_import_ratings import DATA, make_people, next_month, stored, write_csv
from tests.surveys.test_import_ratings import failed_import as _failed_import
from tests.surveys.test_import_ratings import run_import as _run_import

pytestmark = pytest.mark.django_db

GOOD = DATA / "pulse_good.csv"
HEADER = "period,rater_email,quality,outlook,category"
GOOD_ROW = "2025-01,md@ashby.nhs.uk,4,improve,partnership"


@pytest.fixture
def people(trust, other_trust):
    return make_people(trust, other_trust)


def run_import(path, trust_code="RAA"):
    return _run_import(path, trust_code, command="import_pulse")


def failed_import(path, trust_code="RAA"):
    return _failed_import(path, trust_code, command="import_pulse")


def pulse_csv(tmp_path, *rows):
    return write_csv(tmp_path, *rows, header=HEADER, name="pulse.csv")


def responses(trust):
    with scopes_disabled():
        return {
            (r.round.slug, r.rater.user.email): r
            for r in PulseResponse.objects.filter(trust=trust).select_related("round", "rater__user")
        }


def stored_pulse():
    return stored(PulseResponse)


# --- a good file ---------------------------------------------------------------------------


def test_good_file_creates_rounds_and_responses_with_snapshots(trust, people, unscoped):
    out, _ = run_import(GOOD)

    assert out.strip() == (
        "Imported pulse_good.csv into RAA: 5 created, 0 updated, 0 unchanged; round(s) created: 2025-01, 2025-02"
    )
    answers = {key: (r.quality, r.outlook, r.category) for key, r in responses(trust).items()}
    assert answers == {
        ("2025-01", "md@ashby.nhs.uk"): (4, "improve", "partnership"),
        ("2025-01", "ceo@ashby.nhs.uk"): (2, "same", ""),  # email and vocabulary matched whatever their case
        ("2025-01", "cd.surgery@ashby.nhs.uk"): (None, "deteriorate", "tension"),  # blanks: no answer
        ("2025-02", "md@ashby.nhs.uk"): (5, "", ""),
        ("2025-02", "former@ashby.nhs.uk"): (None, "", "unresolved"),  # a former member
    }
    cd = responses(trust)[("2025-01", "cd.surgery@ashby.nhs.uk")]
    assert (cd.professional_group, cd.level, cd.directorate, cd.rater) == (
        "clinical",
        "operational",
        people["surgery"],
        people["cd"],
    )
    assert cd.statements == {}
    assert cd.created_at == cd.updated_at
    assert {r.slug: r.status for r in RatingRound.objects.filter(trust=trust)} == {
        "2025-01": "closed",
        "2025-02": "closed",
    }


def test_reimporting_the_same_file_changes_nothing(trust, people):
    run_import(GOOD)
    before = stored_pulse()

    out, _ = run_import(GOOD)

    assert out.strip() == "Imported pulse_good.csv into RAA: 0 created, 0 updated, 5 unchanged"
    assert stored_pulse() == before


def test_a_changed_answer_updates_that_response_only_and_keeps_its_statements(tmp_path, trust, people, unscoped):
    run_import(GOOD)
    PulseResponse.objects.filter(rater=people["md"], round__period=date(2025, 1, 1)).update(statements={"s1": 4})
    before = {key: (r.pk, r.updated_at, r.created_at) for key, r in responses(trust).items()}
    path = tmp_path / "pulse_good.csv"
    path.write_text(GOOD.read_text().replace("md@ashby.nhs.uk,4,improve,partnership", "md@ashby.nhs.uk,3,same,"))

    out, _ = run_import(path)

    assert "0 created, 1 updated, 4 unchanged" in out
    after = responses(trust)
    key = ("2025-01", "md@ashby.nhs.uk")
    md = after[key]
    assert (md.pk, md.quality, md.outlook, md.category, md.statements) == (before[key][0], 3, "same", "", {"s1": 4})
    assert md.updated_at > before[key][1] and md.created_at == before[key][2]
    assert all(after[other].updated_at == updated for other, (_pk, updated, _c) in before.items() if other != key)


# --- bad files -------------------------------------------------------------------------------


def test_bad_file_lists_every_bad_line_and_writes_nothing(trust, people):
    message, errors = failed_import(DATA / "pulse_bad.csv")

    assert message == "9 error(s) in pulse_bad.csv; nothing was imported."
    assert errors == [
        "pulse_bad.csv: line 3: nothing to import: quality, outlook and category are all blank",
        "pulse_bad.csv: line 4: quality 0 is outside 1–5",
        "pulse_bad.csv: line 5: unknown outlook 'better' (one of: improve, same, deteriorate, or blank)",
        "pulse_bad.csv: line 6: unknown category 'friendship' "
        "(one of: partnership, tension, tolerance, unresolved, or blank)",
        "pulse_bad.csv: line 7: rater_email nobody@ashby.nhs.uk is not a member of this trust",
        "pulse_bad.csv: line 8: admin@ashby.nhs.uk is a trust administrator; administrators do not rate",
        "pulse_bad.csv: line 9: rater_email md@brook.nhs.uk is not a member of this trust",
        "pulse_bad.csv: line 10: duplicate pulse response by md@ashby.nhs.uk for 2025-01 (first on line 2)",
        "pulse_bad.csv: line 11: period '2025-13' is not a month like 2026-03",
    ]
    assert stored_pulse() == ([], [])


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2025-01,ceo@ashby.nhs.uk,,,", "nothing to import: quality, outlook and category are all blank"),
        ("2025-01,ceo@ashby.nhs.uk,6,,", "quality 6 is outside 1–5"),
        (
            "2025-01,ceo@ashby.nhs.uk,good,,",
            "quality 'good' is not a number from 1 to 5 (leave it blank for no answer)",
        ),
        ("2025-01,ceo@ashby.nhs.uk,,worse,", "unknown outlook 'worse'"),
        ("2025-01,ceo@ashby.nhs.uk,,,truce", "unknown category 'truce'"),
        ("2025-01,,3,,", "rater_email is blank"),
        ("2025/01,ceo@ashby.nhs.uk,3,,", "period '2025/01' is not a month like 2026-03"),
        ("2025-01,admin@ashby.nhs.uk,3,,", "admin@ashby.nhs.uk is a trust administrator; administrators do not rate"),
        ("2025-01,md@brook.nhs.uk,3,,", "rater_email md@brook.nhs.uk is not a member of this trust"),
        ("2025-01,MD@ashby.nhs.uk,3,,", "duplicate pulse response by md@ashby.nhs.uk for 2025-01 (first on line 2)"),
        ("2025-01,ceo@ashby.nhs.uk,3,same", "expected 5 values, found 4"),
    ],
)
def test_a_bad_row_is_reported_by_line_and_nothing_is_written(tmp_path, trust, people, row, message):
    error, errors = failed_import(pulse_csv(tmp_path, GOOD_ROW, row))

    assert error == "1 error(s) in pulse.csv; nothing was imported."
    assert len(errors) == 1 and errors[0].startswith(f"pulse.csv: line 3: {message}")
    assert stored_pulse() == ([], [])


def test_a_period_in_the_future_is_refused_and_this_month_accepted(tmp_path, trust, people):
    this_month = timezone.localdate().replace(day=1)
    future = next_month(this_month)

    _, errors = failed_import(pulse_csv(tmp_path, f"{future:%Y-%m},ceo@ashby.nhs.uk,3,,"))

    assert errors == [
        f"pulse.csv: line 2: period {future:%Y-%m} is in the future (the current month is {this_month:%Y-%m})"
    ]
    assert stored_pulse() == ([], [])
    run_import(pulse_csv(tmp_path, f"{this_month:%Y-%m},ceo@ashby.nhs.uk,3,,"))
    assert list(responses(trust)) == [(f"{this_month:%Y-%m}", "ceo@ashby.nhs.uk")]


# --- size: progress and query count ------------------------------------------------------------

PERIODS = [date(2022 + month // 12, month % 12 + 1, 1) for month in range(25)]


def bulk_rows(trust, count, raters=100):
    """`count` distinct rows: `raters` people over 25 months (each month in the first 25 rows)."""
    members = [MembershipFactory(trust=trust, user__email=f"p{n}.{trust.code}@example.nhs.uk") for n in range(raters)]
    assert count <= raters * len(PERIODS)
    outlooks, categories = ["improve", "same", "deteriorate", ""], ["partnership", "tension", "tolerance", ""]
    return [
        f"{PERIODS[index % len(PERIODS)]:%Y-%m},{members[index // len(PERIODS)].user.email},"
        f"{index % 5 + 1},{outlooks[index % 4]},{categories[index % 3]}"
        for index in range(count)
    ]


def test_progress_is_shown_on_a_long_file(tmp_path, trust):
    path = pulse_csv(tmp_path, *bulk_rows(trust, 2500))

    out, err = run_import(path)

    assert "2500 created, 0 updated, 0 unchanged" in out
    assert "Checked 1,000/2,500 rows\r" in err and "Checked 2,500/2,500 rows\n" in err
    assert "Imported 2,500/2,500 rows\n" in err
    out, _ = run_import(path)
    assert "0 created, 0 updated, 2500 unchanged" in out


def insert_batches(rows):
    """INSERT statements for `rows` new responses: one per BATCH on PostgreSQL, more on SQLite
    (at most 999 parameters a statement)."""
    fields = [f for f in PulseResponse._meta.concrete_fields if not f.primary_key]
    return -(-rows // min(BATCH, connection.ops.bulk_batch_size(fields, [None] * rows)))


def queries_to_import(trust, lines):
    text = "\n".join([HEADER, *lines])
    with CaptureQueriesContext(connection) as checking:
        plan = pulse_import_plan(trust=trust, text=text)
    assert plan.is_valid, plan.errors[:3]
    with CaptureQueriesContext(connection) as applying:
        assert pulse_import_apply(trust=trust, plan=plan).created == len(lines)
    return len(checking), len(applying)


def test_queries_do_not_grow_with_the_number_of_rows():
    """2,500 rows take as many queries as 25 over the same 25 months, apart from the INSERT
    batches: lookups are per kind of thing and rounds per month (see the ratings test)."""
    small_trust, large_trust = TrustFactory(), TrustFactory()
    small_lines, large_lines = bulk_rows(small_trust, 25), bulk_rows(large_trust, 2500)

    small_checking, small_applying = queries_to_import(small_trust, small_lines)
    large_checking, large_applying = queries_to_import(large_trust, large_lines)

    assert large_checking == small_checking <= 6  # + one: which of the months are reported (frozen)
    assert large_applying - insert_batches(2500) == small_applying - insert_batches(25)
    assert small_applying - insert_batches(25) <= 5 * len(PERIODS) + 5


def test_every_error_of_a_line_is_counted_on_both_paths(tmp_path, trust, people):
    """A bad period and nothing answered are two errors; a bad quality, outlook and category three."""
    message, errors = failed_import(pulse_csv(tmp_path, "2025-13,ceo@ashby.nhs.uk,,,", "2025-01,,٣,Worse,Truce"))

    assert message == "6 error(s) in pulse.csv; nothing was imported."
    assert errors == [
        "pulse.csv: line 2: period '2025-13' is not a month like 2026-03",
        "pulse.csv: line 2: nothing to import: quality, outlook and category are all blank",
        "pulse.csv: line 3: rater_email is blank",
        "pulse.csv: line 3: quality '٣' is not a number from 1 to 5 (leave it blank for no answer)",
        "pulse.csv: line 3: unknown outlook 'Worse' (one of: improve, same, deteriorate, or blank)",
        "pulse.csv: line 3: unknown category 'Truce' (one of: partnership, tension, tolerance, unresolved, or blank)",
    ]
