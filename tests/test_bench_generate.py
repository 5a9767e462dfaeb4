"""The benchmark data generator (bench/generate.py), run tiny inside the suite so that it cannot rot.

On PostgreSQL it writes ratings and pulse responses with COPY through the test connection; on
SQLite with bulk_create. Either way the data must obey the app's own rules.
"""

import csv
import io
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope

from bench.generate import EMAIL, generate, people_layout, ratings_csv_write
from objectives.models import Objective
from partnership.models import Membership, Trust, User, role_contradiction
from surveys.analysis import round_analysis
from surveys.models import PulseResponse, Rating, RatingRound

# 60 members: enough that both professional groups pass min_group_size (5) on the trust-wide
# objectives at a 60% response, so the divergence patterns show up in the analysis.
TRUSTS, MEMBERS, ROUNDS = 2, 60, 3


def test_people_layout_follows_the_davies_proportions_and_role_rules():
    layout, directorates = people_layout(400)
    raters = [person for person in layout if person.role != "administrator"]
    shares = Counter(person.davies_group for person in raters)
    assert directorates == 6
    assert 1 <= len(layout) - len(raters) <= 3  # a few administrators, who do not rate
    for group, share in {
        "senior_clinical": 0.03,
        "senior_nonclinical": 0.04,
        "operational_clinical": 0.55,
        "operational_nonclinical": 0.38,
    }.items():
        assert shares[group] / len(raters) == pytest.approx(share, abs=0.01), group
    assert all(not role_contradiction(p.role, p.professional_group, p.level) for p in layout)
    assert [p.role for p in layout[:2]] == ["medical_director", "chief_executive"]
    assert Counter(p.role for p in layout)["clinical_director"] == 6


@pytest.mark.django_db(transaction=True)  # autocommit, as the script runs (VACUUM refuses a transaction)
def test_generate_small_dataset(unscoped):
    lines = []
    result = generate(trusts=TRUSTS, members=MEMBERS, rounds=ROUNDS, response=0.6, seed=7, progress=lines.append)

    # Counts.
    assert Trust.objects.filter(code__in=["B001", "B002"]).count() == TRUSTS == result.trusts
    assert Membership.objects.count() == User.objects.count() == TRUSTS * MEMBERS == result.members
    assert User.objects.filter(email=EMAIL.format(trust=2, member=60)).exists()
    assert Objective.objects.count() == TRUSTS * (8 + 4 * 6) == result.objectives
    assert RatingRound.objects.count() == TRUSTS * ROUNDS == result.rounds
    assert Rating.objects.count() == result.ratings > 0
    assert PulseResponse.objects.count() == result.pulse_responses
    assert any(line.startswith(f"ratings {result.ratings:,}/{result.ratings:,}") for line in lines)
    # Every responding rater answered the pulse too, and about 60% of raters responded.
    responders = set(Rating.objects.values_list("round_id", "rater_id"))
    assert set(PulseResponse.objects.values_list("round_id", "rater_id")) == responders
    raters = Membership.objects.exclude(role="administrator").count()
    assert 0.45 < len(responders) / (raters * ROUNDS) < 0.75

    # People: roles fit their group and level; administrators never rate; the board report goes to board members.
    members = list(Membership.objects.select_related("user"))
    assert all(not role_contradiction(m.role, m.professional_group, m.level) for m in members)
    assert all(u.check_password("bench-password") for u in User.objects.filter(email__endswith=".m001@bench.nhs.uk"))
    admins = {m.pk for m in members if m.role == "administrator"}
    assert admins and not Rating.objects.filter(rater_id__in=admins).exists()
    reporting = [m for m in members if m.receives_board_report]
    assert {m.role for m in reporting} >= {"medical_director", "chief_executive"}
    assert all(m.level == "board" for m in reporting)
    groups = Counter(m.davies_group for m in members if m.role != "administrator")
    assert groups["operational_clinical"] > groups["operational_nonclinical"] > groups["senior_nonclinical"] > 0

    # Objectives: agreed before the first round, with a lead from each side.
    first_round = RatingRound.objects.order_by("period").first()
    for objective in Objective.objects.select_related("clinical_lead", "managerial_lead"):
        assert objective.status == "agreed"
        assert objective.agreed_at.date() < first_round.period
        assert objective.clinical_lead.professional_group == "clinical"
        assert objective.managerial_lead.professional_group == "managerial"

    # Rounds: monthly, from the trust calendar, all closed, the last one last month's.
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    for round_ in RatingRound.objects.all():
        assert (round_.opens_on.day, round_.closes_on.day) == (1, 14)
        assert round_.closes_on < today
    assert RatingRound.objects.order_by("-period").first().period == last_month

    # Ratings: entitled (trust-wide, or the rater's own directorate), snapshots from the membership.
    by_pk = {m.pk: m for m in members}
    objectives = dict(Objective.objects.values_list("pk", "directorate_id"))
    scores = Counter()
    for objective_id, rater_id, group, level, directorate_id, score in Rating.objects.values_list(
        "objective_id", "rater_id", "professional_group", "level", "directorate_id", "score"
    ):
        rater = by_pk[rater_id]
        assert objectives[objective_id] in (None, rater.directorate_id)
        assert (group, level, directorate_id) == (rater.professional_group, rater.level, rater.directorate_id)
        scores[score] += 1
    assert set(scores) <= {None, 1, 2, 3, 4, 5}
    assert 0.01 < scores[None] / result.ratings < 0.10  # ~5% can't judge

    # The patterns: a divergent objective shows up in the last round's analysis.
    divergent = 0
    for trust in Trust.objects.all():
        with scope(trust=trust):
            last = RatingRound.objects.filter(trust=trust).order_by("-period").first()
            divergent += round_analysis(last).counts["divergent"]
    assert divergent >= 1
    # ...and in the pulse, operational clinicians are the least positive.
    quality = {}
    for group, level, value in PulseResponse.objects.exclude(quality=None).values_list(
        "professional_group", "level", "quality"
    ):
        quality.setdefault((group, level), []).append(value)
    mean = {key: sum(values) / len(values) for key, values in quality.items()}
    assert mean[("clinical", "operational")] < mean[("managerial", "operational")]


@pytest.mark.django_db(transaction=True)
def test_csv_of_new_ratings_imports_cleanly(unscoped, tmp_path):
    generate(trusts=1, members=20, rounds=2, response=0.6, seed=3)
    before = Rating.objects.count()
    path = tmp_path / "ratings.csv"
    ratings_csv_write(path=path, rows=200, trust_code="B001", seed=3)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 200
    assert list(rows[0]) == ["period", "objective_ref", "rater_email", "score", "comment"]
    assert rows[0]["period"] == f"{timezone.localdate():%Y-%m}"  # the current month first: a round not yet stored

    out = io.StringIO()
    call_command("import_ratings", "B001", str(path), stdout=out, stderr=io.StringIO())
    assert "200 created, 0 updated, 0 unchanged" in out.getvalue()
    assert Rating.objects.count() == before + 200
    objectives = dict(Objective.objects.values_list("pk", "directorate_id"))
    for objective_id, directorate_id in Rating.objects.values_list("objective_id", "rater__directorate_id"):
        assert objectives[objective_id] in (None, directorate_id)
