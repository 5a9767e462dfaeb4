"""`manage.py import_ratings TRUST_CODE FILE.csv` (DESIGN.md §6, issue #4): every row checked
first, nothing written when any is bad, rounds created with the trust's calendar, re-running
the same file changes nothing, bulk writes whose query count does not grow with the rows."""

import io
import itertools
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from surveys.importing import BATCH, ratings_import_apply, ratings_import_plan
from surveys.models import Rating, RatingRound
from tests.factories import DirectorateFactory, MembershipFactory, ObjectiveFactory, TrustFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data" / "ratings"
GOOD = DATA / "good.csv"
HEADER = "period,objective_ref,rater_email,score,comment"
GOOD_ROW = "2025-01,OBJ-01,md@ashby.nhs.uk,4,fine"


def make_people(trust, other_trust):
    """Trust RAA: board, a surgery team, a former member, an administrator; OBJ-01..05 in
    every rateable shape; and a medical director of RBB, whose trust also has an OBJ-01."""
    surgery = DirectorateFactory(trust=trust, name="Surgery")
    medicine = DirectorateFactory(trust=trust, name="Medicine")
    people = {
        "surgery": surgery,
        "medicine": medicine,
        "md": MembershipFactory(trust=trust, medical_director=True, user__email="md@ashby.nhs.uk"),
        "ceo": MembershipFactory(trust=trust, chief_executive=True, user__email="ceo@ashby.nhs.uk"),
        "cd": MembershipFactory(
            trust=trust, role="clinical_director", directorate=surgery, user__email="cd.surgery@ashby.nhs.uk"
        ),
        "dm": MembershipFactory(
            trust=trust, directorate_manager=True, directorate=surgery, user__email="dm.surgery@ashby.nhs.uk"
        ),
        "former": MembershipFactory(trust=trust, is_active=False, user__email="former@ashby.nhs.uk"),
        "admin": MembershipFactory(trust=trust, administrator=True, user__email="admin@ashby.nhs.uk"),
        "brook_md": MembershipFactory(trust=other_trust, medical_director=True, user__email="md@brook.nhs.uk"),
    }
    people["objectives"] = {
        "OBJ-01": ObjectiveFactory(trust=trust, ref="OBJ-01", status="agreed"),
        "OBJ-02": ObjectiveFactory(trust=trust, ref="OBJ-02", status="retired"),
        "OBJ-03": ObjectiveFactory(trust=trust, ref="OBJ-03", status="agreed", directorate=surgery),
        "OBJ-04": ObjectiveFactory(trust=trust, ref="OBJ-04", status="achieved", directorate=medicine),
        "OBJ-05": ObjectiveFactory(trust=trust, ref="OBJ-05", status="draft"),
    }
    ObjectiveFactory(trust=other_trust, ref="OBJ-01", status="agreed")
    return people


@pytest.fixture
def people(trust, other_trust):
    return make_people(trust, other_trust)


def write_csv(tmp_path, *rows, header=HEADER, name="ratings.csv"):
    path = tmp_path / name
    path.write_text("".join(f"{line}\r\n" for line in (header, *rows)), encoding="utf-8")
    return path


def run_import(path, trust_code="RAA", command="import_ratings"):
    """(stdout, stderr) of a successful import."""
    out, err = io.StringIO(), io.StringIO()
    call_command(command, trust_code, str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failed_import(path, trust_code="RAA", command="import_ratings"):
    """(CommandError message, the "file: line N: reason" lines of stderr) of an import that must fail."""
    err = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(command, trust_code, str(path), stdout=io.StringIO(), stderr=err)
    return str(excinfo.value), [line for line in err.getvalue().splitlines() if not line.startswith("Checked ")]


def stored(model=Rating):
    """Every stored row of `model` and every round, to show that nothing changed."""
    with scopes_disabled():
        return (
            list(model.objects.order_by("pk").values()),
            list(RatingRound.objects.order_by("pk").values()),
        )


def ratings(trust):
    with scopes_disabled():
        return {
            (r.round.slug, r.objective.ref, r.rater.user.email): r
            for r in Rating.objects.filter(trust=trust).select_related("round", "objective", "rater__user")
        }


def next_month(day):
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


# --- a good file ---------------------------------------------------------------------------


def test_good_file_creates_rounds_and_ratings_with_snapshots(trust, people):
    out, _ = run_import(GOOD)

    assert out.strip() == (
        "Imported good.csv into RAA: 6 created, 0 updated, 0 unchanged; round(s) created: 2025-01, 2025-02"
    )
    stored_ratings = ratings(trust)
    assert set(stored_ratings) == {
        ("2025-01", "OBJ-01", "md@ashby.nhs.uk"),
        ("2025-01", "OBJ-01", "ceo@ashby.nhs.uk"),  # email matched whatever its case
        ("2025-01", "OBJ-03", "cd.surgery@ashby.nhs.uk"),  # ref too
        ("2025-01", "OBJ-03", "dm.surgery@ashby.nhs.uk"),
        ("2025-02", "OBJ-01", "md@ashby.nhs.uk"),
        ("2025-02", "OBJ-02", "former@ashby.nhs.uk"),  # a former member rating a since-retired objective
    }
    md = stored_ratings[("2025-01", "OBJ-01", "md@ashby.nhs.uk")]
    assert (md.score, md.comment, md.professional_group, md.level, md.directorate) == (
        4,
        "Good joint planning",
        "clinical",
        "board",
        None,
    )
    assert md.trust == trust and md.rater == people["md"]
    assert md.created_at == md.updated_at
    dm = stored_ratings[("2025-01", "OBJ-03", "dm.surgery@ashby.nhs.uk")]
    assert (dm.professional_group, dm.level, dm.directorate) == ("managerial", "operational", people["surgery"])
    # whitespace (and the line break) of a comment collapses, as in the other imports
    assert stored_ratings[("2025-02", "OBJ-01", "md@ashby.nhs.uk")].comment == "Better, now we meet every week"


def test_blank_score_is_stored_as_cant_judge(trust, people):
    run_import(GOOD)

    cant_judge = ratings(trust)[("2025-01", "OBJ-03", "cd.surgery@ashby.nhs.uk")]
    assert cant_judge.score is None
    assert cant_judge.comment == "Too early to say"


def test_past_rounds_are_created_closed_with_the_trusts_calendar(trust, people, unscoped):
    trust.round_opens_day, trust.round_closes_day = 3, 20
    trust.save()

    run_import(GOOD)

    rounds = {r.slug: r for r in RatingRound.objects.filter(trust=trust)}
    assert set(rounds) == {"2025-01", "2025-02"}
    january = rounds["2025-01"]
    assert (january.period, january.opens_on, january.closes_on) == (
        date(2025, 1, 1),
        date(2025, 1, 3),
        date(2025, 1, 20),
    )
    assert january.status == "closed"
    assert rounds["2025-02"].status == "closed"


def test_an_existing_round_is_used_as_it_is(trust, people, unscoped):
    existing = RatingRound.objects.create(
        trust=trust, period=date(2025, 1, 1), opens_on=date(2025, 1, 1), closes_on=date(2025, 3, 1)
    )

    out, _ = run_import(GOOD)

    assert "round(s) created: 2025-02" in out
    assert RatingRound.objects.filter(trust=trust, period=date(2025, 1, 1)).get() == existing
    assert Rating.objects.filter(round=existing).count() == 4
    existing.refresh_from_db()
    assert existing.closes_on == date(2025, 3, 1)


def test_the_current_month_is_accepted(tmp_path, trust, people, unscoped):
    this_month = timezone.localdate().replace(day=1)
    run_import(write_csv(tmp_path, f"{this_month:%Y-%m},OBJ-01,md@ashby.nhs.uk,3,"))

    assert RatingRound.objects.get(trust=trust).period == this_month
    assert Rating.objects.get().score == 3


def test_comment_of_exactly_2000_characters_is_accepted(tmp_path, trust, people):
    run_import(write_csv(tmp_path, "2025-01,OBJ-01,md@ashby.nhs.uk,3," + "c" * 2000))

    assert ratings(trust)[("2025-01", "OBJ-01", "md@ashby.nhs.uk")].comment == "c" * 2000


# --- idempotence and updates ------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(trust, people):
    run_import(GOOD)
    before = stored()

    out, _ = run_import(GOOD)

    assert out.strip() == "Imported good.csv into RAA: 0 created, 0 updated, 6 unchanged"
    assert stored() == before  # every updated_at (and everything else) as it was


def test_a_changed_score_updates_that_one_rating_and_keeps_its_snapshot(tmp_path, trust, people, unscoped):
    run_import(GOOD)
    before = {key: (r.pk, r.score, r.created_at, r.updated_at) for key, r in ratings(trust).items()}
    # The CEO moves on to a directorate role: the rating keeps the board snapshot it was made with.
    ceo = people["ceo"]
    ceo.level, ceo.role, ceo.directorate = "operational", "directorate_manager", people["medicine"]
    ceo.save()
    changed = GOOD.read_text().replace("CEO@Ashby.nhs.uk,2,", "CEO@Ashby.nhs.uk,3,")
    path = tmp_path / "good.csv"
    path.write_text(changed)

    out, _ = run_import(path)

    assert out.strip() == "Imported good.csv into RAA: 0 created, 1 updated, 5 unchanged"
    after = ratings(trust)
    key = ("2025-01", "OBJ-01", "ceo@ashby.nhs.uk")
    rating = after[key]
    assert (rating.pk, rating.score, rating.created_at) == (before[key][0], 3, before[key][2])
    assert rating.updated_at > before[key][3]
    assert (rating.level, rating.directorate) == ("board", None)
    for other, (_pk, score, _created, updated) in before.items():
        if other != key:
            assert (after[other].score, after[other].updated_at) == (score, updated)


def test_a_blank_score_replaces_a_stored_one(tmp_path, trust, people):
    run_import(write_csv(tmp_path, "2025-01,OBJ-01,md@ashby.nhs.uk,4,"))
    out, _ = run_import(write_csv(tmp_path, "2025-01,OBJ-01,md@ashby.nhs.uk,,now unsure"))

    assert "0 created, 1 updated, 0 unchanged" in out
    rating = ratings(trust)[("2025-01", "OBJ-01", "md@ashby.nhs.uk")]
    assert (rating.score, rating.comment) == (None, "now unsure")


def test_the_plan_says_what_applying_would_do_and_writes_nothing(tmp_path, trust, people):
    run_import(write_csv(tmp_path, "2025-01,OBJ-01,md@ashby.nhs.uk,4,"))
    before = stored()

    plan = ratings_import_plan(trust=trust, text=GOOD.read_text())

    assert plan.is_valid
    assert plan.summary() == "6 row(s): 5 new, 1 changed, 0 unchanged; new round(s): 2025-02"
    assert stored() == before


# --- bad files: everything reported, nothing written ----------------------------------------


def test_bad_file_lists_every_bad_line_and_writes_nothing(trust, people):
    before = stored()

    message, errors = failed_import(DATA / "bad.csv")

    assert message == "12 error(s) in bad.csv; nothing was imported."
    assert errors == [
        "bad.csv: line 3: period '2025-13' is not a month like 2026-03",
        "bad.csv: line 4: unknown objective_ref OBJ-99 (no objective with that ref in this trust)",
        "bad.csv: line 5: rater_email nobody@ashby.nhs.uk is not a member of this trust",
        "bad.csv: line 6: score 6 is outside 1–5",
        "bad.csv: line 7: score 'three' is not a number from 1 to 5 (leave it blank for can't judge)",
        "bad.csv: line 8: objective OBJ-05 is a draft; drafts are not rated",
        "bad.csv: line 9: objective OBJ-04 belongs to the Medicine directorate; "
        "cd.surgery@ashby.nhs.uk is in the Surgery directorate, so does not rate it",
        "bad.csv: line 10: admin@ashby.nhs.uk is a trust administrator; administrators do not rate",
        "bad.csv: line 11: rater_email md@brook.nhs.uk is not a member of this trust",
        "bad.csv: line 12: duplicate rating of OBJ-01 by md@ashby.nhs.uk for 2025-01 (first on line 2)",
        "bad.csv: line 13: period '2025-1' is not a month like 2026-03",
        "bad.csv: line 14: expected 5 values, found 4",
    ]
    assert stored() == before == ([], [])


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2025-00,OBJ-01,ceo@ashby.nhs.uk,3,", "period '2025-00' is not a month like 2026-03"),
        ("March 2025,OBJ-01,ceo@ashby.nhs.uk,3,", "period 'March 2025' is not a month like 2026-03"),
        (",OBJ-01,ceo@ashby.nhs.uk,3,", "period is blank"),
        ("2025-01,,ceo@ashby.nhs.uk,3,", "objective_ref is blank"),
        ("2025-01,OBJ-01,,3,", "rater_email is blank"),
        ("2025-01,OBJ-42,ceo@ashby.nhs.uk,3,", "unknown objective_ref OBJ-42"),
        ("2025-01,OBJ-01,stranger@example.com,3,", "rater_email stranger@example.com is not a member of this trust"),
        ("2025-01,OBJ-01,ceo@ashby.nhs.uk,0,", "score 0 is outside 1–5"),
        ("2025-01,OBJ-01,ceo@ashby.nhs.uk,-1,", "score -1 is outside 1–5"),
        ("2025-01,OBJ-01,ceo@ashby.nhs.uk,3.5,", "score '3.5' is not a number from 1 to 5"),
        ("2025-01,OBJ-01,ceo@ashby.nhs.uk,n/a,", "score 'n/a' is not a number from 1 to 5"),
        ("2025-01,OBJ-05,ceo@ashby.nhs.uk,3,", "objective OBJ-05 is a draft; drafts are not rated"),
        ("2025-01,OBJ-01,admin@ashby.nhs.uk,3,", "admin@ashby.nhs.uk is a trust administrator"),
        # another directorate's objective; and a directorate objective for someone in none
        ("2025-01,OBJ-04,cd.surgery@ashby.nhs.uk,3,", "objective OBJ-04 belongs to the Medicine directorate"),
        (
            "2025-01,OBJ-03,ceo@ashby.nhs.uk,3,",
            "objective OBJ-03 belongs to the Surgery directorate; ceo@ashby.nhs.uk is in no directorate, so does not",
        ),
        # a member of another trust, even one with an objective of the same ref
        ("2025-01,OBJ-01,md@brook.nhs.uk,3,", "rater_email md@brook.nhs.uk is not a member of this trust"),
        ("2025-01,OBJ-01,MD@ASHBY.NHS.UK,2,", "duplicate rating of OBJ-01 by md@ashby.nhs.uk for 2025-01"),
        ("2025-01,OBJ-01,ceo@ashby.nhs.uk,3," + "c" * 2001, "comment is longer than 2,000 characters (2,001)"),
        ("2025-01,OBJ-01,ceo@ashby.nhs.uk,3,a,b", "expected 5 values, found 6"),
    ],
)
def test_a_bad_row_is_reported_by_line_and_nothing_is_written(tmp_path, trust, people, row, message):
    path = write_csv(tmp_path, GOOD_ROW, row)
    before = stored()

    error, errors = failed_import(path)

    assert error == "1 error(s) in ratings.csv; nothing was imported."
    assert len(errors) == 1
    assert errors[0].startswith(f"ratings.csv: line 3: {message}")
    assert stored() == before


def test_a_period_in_the_future_is_refused(tmp_path, trust, people):
    this_month = timezone.localdate().replace(day=1)
    future = next_month(this_month)
    path = write_csv(tmp_path, GOOD_ROW, f"{future:%Y-%m},OBJ-01,ceo@ashby.nhs.uk,3,")

    _, errors = failed_import(path)

    assert errors == [
        f"ratings.csv: line 3: period {future:%Y-%m} is in the future (the current month is {this_month:%Y-%m})"
    ]
    assert stored() == ([], [])


def test_the_future_is_judged_in_the_trusts_time_zone(trust, people, monkeypatch):
    # 08:00 UTC on 1 March 2025 is already March in London, still February in Honolulu.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 3, 1, 8, 0, tzinfo=UTC))
    text = f"{HEADER}\n2025-03,OBJ-01,md@ashby.nhs.uk,3,\n"

    assert ratings_import_plan(trust=trust, text=text).is_valid
    trust.timezone = "Pacific/Honolulu"
    plan = ratings_import_plan(trust=trust, text=text)
    assert [str(error) for error in plan.errors] == [
        "line 2: period 2025-03 is in the future (the current month is 2025-02)"
    ]


def test_unknown_trust_and_missing_file(tmp_path, trust):
    assert "No trust with code 'RZZ'" in failed_import(GOOD, trust_code="RZZ")[0]
    assert "No such file" in failed_import(tmp_path / "missing.csv")[0]


def test_wrong_header_is_one_error(tmp_path, trust, people):
    path = write_csv(tmp_path, "2025-01,OBJ-01,md@ashby.nhs.uk,4", header="period,objective_ref,rater_email,score")

    _, errors = failed_import(path)

    assert errors[0].startswith("ratings.csv: line 1: The header is wrong (missing column(s): comment)")


# --- size: progress and query count ------------------------------------------------------------


PERIODS = [date(2024, month, 1) for month in range(1, 11)]


def bulk_rows(trust, count, raters=25, objectives=10):
    """`count` distinct rows over the ten PERIODS (every period appears in the first ten rows),
    with `raters` consultants rating `objectives` trust-wide objectives."""
    members = [MembershipFactory(trust=trust, user__email=f"r{n}.{trust.code}@example.nhs.uk") for n in range(raters)]
    refs = [ObjectiveFactory(trust=trust, ref=f"B-{n:02d}", status="agreed").ref for n in range(objectives)]
    pairs = list(itertools.product(members, refs))
    assert count <= len(pairs) * len(PERIODS)
    lines = []
    for index in range(count):
        member, ref = pairs[index // len(PERIODS)]
        period = PERIODS[index % len(PERIODS)]
        lines.append(f"{period:%Y-%m},{ref},{member.user.email},{index % 5 + 1},comment {index}")
    return lines


def test_progress_is_shown_on_a_long_file(tmp_path, trust):
    path = write_csv(tmp_path, *bulk_rows(trust, 2500))

    out, err = run_import(path)

    assert "2500 created, 0 updated, 0 unchanged" in out
    assert "Checked 1,000/2,500 rows\r" in err
    assert "Checked 2,500/2,500 rows\n" in err
    assert "Imported 2,500/2,500 rows\n" in err


def insert_batches(rows):
    """INSERT statements bulk_create needs for `rows` new ratings: one per BATCH on PostgreSQL;
    SQLite caps a statement at 999 parameters, so there it is one per 90 rows."""
    fields = [f for f in Rating._meta.concrete_fields if not f.primary_key]
    size = min(BATCH, connection.ops.bulk_batch_size(fields, [None] * rows))
    return math.ceil(rows / size)


def queries_to_import(trust, lines):
    text = "\n".join([HEADER, *lines])
    with CaptureQueriesContext(connection) as checking:
        plan = ratings_import_plan(trust=trust, text=text)
    assert plan.is_valid, plan.errors[:3]
    with CaptureQueriesContext(connection) as applying:
        result = ratings_import_apply(trust=trust, plan=plan)
    assert result.created == len(lines)
    return len(checking), len(applying)


def test_queries_do_not_grow_with_the_number_of_rows():
    """Checking and applying 2,500 rows takes as many queries as 25 rows over the same ten
    months: lookups are one query per kind of thing (memberships by email, objectives by ref,
    the months' rounds, the ratings already stored), rounds are created per month, and rows
    are inserted in batches, so only the number of INSERT batches depends on the size (one on
    PostgreSQL, one per 90 rows on SQLite, whose statements hold at most 999 parameters).
    A query per row would show up here as thousands of queries."""
    small_trust, large_trust = TrustFactory(), TrustFactory()
    small_lines, large_lines = bulk_rows(small_trust, 25), bulk_rows(large_trust, 2500)

    small_checking, small_applying = queries_to_import(small_trust, small_lines)
    large_checking, large_applying = queries_to_import(large_trust, large_lines)

    assert large_checking == small_checking <= 6  # + one: which of the months are reported (frozen)
    assert large_applying - insert_batches(2500) == small_applying - insert_batches(25)
    # a few queries per new round (10 here) plus the lookups, whatever the number of rows
    assert small_applying - insert_batches(25) <= 5 * len(PERIODS) + 5


def test_reimporting_a_long_file_writes_nothing(tmp_path, trust):
    path = write_csv(tmp_path, *bulk_rows(trust, 2500))
    run_import(path)

    with CaptureQueriesContext(connection) as queries:
        out, _ = run_import(path)

    assert "0 created, 0 updated, 2500 unchanged" in out
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith(("SELECT", "SAVEPOINT", "RELEASE"))]
    assert writes == []
