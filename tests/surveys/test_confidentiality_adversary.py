"""Nobody can be worked out (DESIGN.md §8), proven by an adversary over random small trusts.

For each generated trust (hypothesis: group sizes around the threshold, directorates of 1–8
people, can't-judge, people who skip, joiners, leavers and movers between months) three monthly
rounds are answered through the real rating service, each closed and reported. Then, as the
medical director (who sees the most: the dashboard with every directorate filter, the response
rates, both CSVs, the report page, the objective pages) and after attempts to add late answers
(re-opening the round, importing into it, rating in it), everything published about each round
is gathered and checked to be the snapshot's, exactly; the snapshot is what the email and the
PDF are rendered from. Every figure becomes linear constraints over the individuals' unknown
answers (tests/surveys/adversary.py) and HiGHS is asked, for every individual answer and every
hidden cell, whether the figures pin it down. None may be, except what a single shown figure
says on its own (a shown group that answered unanimously or completely), which no suppression
of other cells can prevent and the README states.

Search space and time: ADVERSARY_EXAMPLES trusts (default 20, derandomised so CI is stable),
3 rounds each; a few seconds per trust. `ADVERSARY_EXAMPLES=200` for a long run.
"""

import csv
import io
import itertools
import os
import random
from datetime import date, datetime
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from objectives.models import Objective
from surveys.importing import ratings_import_plan
from surveys.models import DivergenceReport, RatingRound
from surveys.objective_panel import ratings_panel
from surveys.services.ratings import Answer, ratings_save
from surveys.services.reports import report_build
from surveys.services.rounds import round_get_or_create
from tests.factories import PASSWORD, DirectorateFactory, MembershipFactory, ObjectiveFactory, TrustFactory
from tests.surveys.adversary import (
    CATEGORIES,
    OUTLOOKS,
    SCORES,
    Model,
    Person,
    Target,
    Truth,
    exchangeable_undetermined,
    find_leaks,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MONTHS = (date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1))
EXAMPLES = int(os.environ.get("ADVERSARY_EXAMPLES", "20"))
CODES = itertools.count(1)
DAVIES = {
    "senior_clinical": ("clinical", "board"),
    "senior_nonclinical": ("managerial", "board"),
    "operational_clinical": ("clinical", "operational"),
    "operational_nonclinical": ("managerial", "operational"),
}
GROUPS = ("clinical", "managerial", *DAVIES)


def in_group(person, group):
    if group in DAVIES:
        return (person.professional_group, person.level) == DAVIES[group]
    return person.professional_group == group


@st.composite
def trust_plans(draw):
    return {
        "min_size": draw(st.integers(3, 5)),
        "clinical_board": draw(st.integers(0, 2)),  # besides the medical director
        "managerial_board": draw(st.integers(0, 5)),  # besides the chief executive
        "directorates": draw(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3)), min_size=1, max_size=3)),
        "directorate_objective": draw(st.booleans()),
        "trust_objectives": draw(st.integers(1, 2)),
        "seed": draw(st.integers(0, 10**6)),
    }


class Built:
    """A trust as the adversary may know it, month by month, and what really happened."""

    def __init__(self, plan, code):
        self.rng = random.Random(plan["seed"])
        self.trust = TrustFactory(code=code, min_group_size=plan["min_size"], min_comment_group_size=10)
        self.directorates = [
            DirectorateFactory(trust=self.trust, name=f"Dir {i}") for i in range(len(plan["directorates"]))
        ]
        self.md = MembershipFactory(trust=self.trust, medical_director=True)
        self.ceo = MembershipFactory(trust=self.trust, chief_executive=True)
        self.admin = MembershipFactory(trust=self.trust, administrator=True)
        for _ in range(plan["clinical_board"]):
            MembershipFactory(trust=self.trust, role="board_member", level="board", professional_group="clinical")
        for _ in range(plan["managerial_board"]):
            MembershipFactory(trust=self.trust, role="board_member", level="board", professional_group="managerial")
        for directorate, (clinicians, managers) in zip(self.directorates, plan["directorates"], strict=True):
            for _ in range(clinicians):
                MembershipFactory(trust=self.trust, directorate=directorate)
            for _ in range(managers):
                MembershipFactory(trust=self.trust, directorate=directorate, directorate_manager=True)
        self.objectives = [
            ObjectiveFactory(trust=self.trust, status="agreed", ref=f"OBJ-{i + 1:02d}")
            for i in range(plan["trust_objectives"])
        ]
        if plan["directorate_objective"]:
            self.objectives.append(
                ObjectiveFactory(trust=self.trust, status="agreed", ref="OBJ-09", directorate=self.directorates[0])
            )
        with scopes_disabled():
            Objective.objects.filter(trust=self.trust).update(
                created_at=datetime(2026, 1, 1, tzinfo=LONDON), agreed_at=datetime(2026, 1, 1, tzinfo=LONDON)
            )
        self.people = {}  # period -> [Person]
        self.truth = {}  # period -> Truth

    def raters(self):
        with scopes_disabled():
            return list(
                self.trust.memberships.filter(is_active=True)
                .exclude(role="administrator")
                .select_related("user")
                .order_by("pk")
            )

    def answer_month(self, period):
        round_ = round_get_or_create(trust=self.trust, period=period)
        now = datetime(period.year, period.month, 5, 12, tzinfo=LONDON)
        truth, people = Truth(), []
        for member in self.raters():
            mine = [o for o in self.objectives if o.directorate_id in (None, member.directorate_id)]
            people.append(
                Person(
                    member.pk,
                    member.professional_group,
                    member.level,
                    member.directorate_id,
                    frozenset(o.pk for o in mine),
                )
            )
            if self.rng.random() < 0.2:
                continue  # does not take part this month
            answers = {}
            for objective in mine:
                roll = self.rng.random()
                if roll < 0.15:
                    continue  # skips it
                score = None if roll < 0.3 else self.rng.choice(SCORES)  # can't judge, or a score
                answers[objective.pk] = Answer(score)
                if score is not None:
                    truth.scores[member.pk, objective.pk] = score
            pulse = None
            if self.rng.random() < 0.7:
                pulse = {
                    "quality": self.rng.choice([None, *SCORES]),
                    "outlook": self.rng.choice(["", *OUTLOOKS]),
                    "category": self.rng.choice(["", *CATEGORIES]),
                }
                if pulse["quality"] is None and not pulse["outlook"] and not pulse["category"]:
                    pulse["quality"] = 3
            if not answers and pulse is None:
                continue
            ratings_save(round=round_, membership=member, answers=answers, pulse=pulse, now=now)
            truth.responded.add(member.pk)
            if pulse:
                truth.pulse[member.pk] = (pulse["quality"], pulse["outlook"], pulse["category"])
        self.people[period], self.truth[period] = people, truth
        with mock.patch("surveys.services.reports.report_pdf", return_value=b"%PDF-1.4 stub"):
            # The PDF is rendered from the snapshot alone; the adversary reads the snapshot.
            report_build(round=round_, now=datetime(period.year, period.month, 20, 8, tzinfo=LONDON))
        return round_

    def come_and_go(self):
        """Between months: someone leaves, someone joins, someone moves directorate."""
        with scopes_disabled():
            movable = list(
                self.trust.memberships.filter(is_active=True, level="operational").exclude(role="administrator")
            )
        if movable and self.rng.random() < 0.6:
            leaver = self.rng.choice(movable)
            leaver.is_active = False
            leaver.save(update_fields=["is_active"])
            movable.remove(leaver)
        if self.rng.random() < 0.6:
            MembershipFactory(trust=self.trust, directorate=self.rng.choice(self.directorates))
        if movable and len(self.directorates) > 1 and self.rng.random() < 0.5:
            mover = self.rng.choice(movable)
            mover.directorate = self.rng.choice(self.directorates)
            mover.save(update_fields=["directorate"])


# --- what is published, read back from every output ----------------------------------------------


def canonical(data):
    """The published numbers of a snapshot: objective cells, pulse groups, response rows."""
    objectives = {
        item["objective_id"]: {
            cell["group"]: (cell["n"], Decimal(cell["mean"])) if cell["mean"] is not None else None
            for cell in item["groups"]
        }
        for item in data["objectives"]
    }
    pulse = {
        g["group"]: (
            g["n"],
            g["good_share"],
            g["outlook_shares"],
            g["category_shares"],
        )
        if g["n"] is not None
        else None
        for g in data["pulse"]["groups"]
    }
    responses = {}
    for table in ("professional_groups", "davies_groups", "directorates"):
        for row in data["responses"][table]:
            responses[table, row["key"]] = None if row["suppressed"] else (row["expected"], row["responded"])
    total = data["responses"]["total"]
    responses["total", "total"] = None if total["suppressed"] else (total["expected"], total["responded"])
    return objectives, pulse, responses


def check_pages_serve_the_snapshot(built, client, round_, data):
    """Every page and file a medical director can open for the round shows the snapshot's numbers."""
    objectives, pulse, responses = canonical(data)
    code, slug = built.trust.code, round_.slug
    pages = [reverse("dashboard_period", args=[code, slug])]
    pages += [reverse("dashboard_directorate", args=[code, slug, d.pk]) for d in built.directorates]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        for row in response.context["rows"]:
            cells = objectives[row["objective"].pk]
            for group, stat in zip(GROUPS, [stat for _, stat in row["cells"]], strict=True):
                shown = cells[group]
                assert (stat.n, stat.mean) == (shown if shown else (None, None)), (url, group)
                if shown is None:  # hidden: neither mean nor n anywhere in the page's cell
                    assert stat.n is None
        for _label, key, group in response.context["pulse"]["groups"]:
            assert (group.n is None) == (pulse[key] is None)
            if pulse[key] is not None:
                assert group.n == pulse[key][0]
        rows = [response.context["responses"]["total"]]
        rows += response.context["responses"]["professional_groups"] + response.context["responses"]["davies_groups"]
        for row in rows:
            table = (
                "total"
                if row.key == "total"
                else "professional_groups"
                if row.key in ("clinical", "managerial")
                else "davies_groups"
            )
            expected = responses[table, row.key]
            assert (None if row.suppressed else (row.expected, row.responded)) == expected
    counts = client.get(reverse("round_responses", kwargs={"trust_code": code, "period": slug})).context["counts"]
    for table in ("professional_groups", "davies_groups", "directorates"):
        for row in counts[table]:
            assert (None if row.suppressed else (row.expected, row.responded)) == responses[table, row.key]
    report = DivergenceReport.objects.get(round=round_)
    for name, stored in (("report_csv", report.csv), ("report_pulse_csv", report.pulse_csv)):
        body = b"".join(client.get(reverse(name, args=[code, slug])).streaming_content).decode()
        assert body == stored
    for row in list(csv.reader(io.StringIO(report.csv)))[1:]:
        objective = Objective.objects.get(trust=built.trust, ref=row[0])
        cells = objectives[objective.pk]
        for n_column, mean_column, group in ((4, 5, "clinical"), (6, 7, "managerial")):
            shown = cells[group]
            assert (row[n_column], row[mean_column]) == ((str(shown[0]), str(shown[1])) if shown else ("", ""))
    detail = client.get(reverse("report_detail", args=[code, slug]))
    assert detail.status_code == 200
    for item in detail.context["objectives"]:
        for cell in item["cells"]:
            shown = objectives[item["objective_id"]][cell["group"]]
            assert (cell["n"] if cell["mean"] is not None else None, cell["mean"]) == (
                (shown[0], str(shown[1])) if shown else (None, None)
            )
    for objective in built.objectives:
        panel = ratings_panel(objective, built.md)
        for period_round, stats, result in panel["table"]:
            if period_round.pk == round_.pk and result is not None:
                for group, stat in zip(GROUPS, stats, strict=True):
                    shown = objectives[objective.pk][group]
                    assert (stat.n, stat.mean) == (shown if shown else (None, None))


def try_late_answers(built, client, round_, period):
    """Every way in after the report: re-open, import into it, rate in it. Each refused."""
    response = client.post(
        reverse("round_edit", kwargs={"trust_code": built.trust.code, "period": round_.slug}),
        {"opens_on": round_.opens_on.isoformat(), "closes_on": date(period.year, period.month, 28).isoformat()},
    )
    assert response.status_code == 200  # the form page again, with the reason
    assert RatingRound.objects.get(pk=round_.pk).closes_on == round_.closes_on
    member = built.raters()[0]
    objective = next(o for o in built.objectives if o.directorate_id is None)
    text = f"period,objective_ref,rater_email,score,comment\r\n{round_.slug},{objective.ref},{member.user.email},5,\r\n"
    plan = ratings_import_plan(trust=built.trust, text=text)
    assert not plan.is_valid and "report was built" in str(plan.errors[0])
    with pytest.raises(ValidationError):
        ratings_save(
            round=round_,
            membership=member,
            answers={objective.pk: Answer(5)},
            now=datetime(period.year, period.month, 5, 12, tzinfo=LONDON),
        )


# --- the figures, and the leaks --------------------------------------------------------------------


def figures_and_targets(people, truth, data):
    objectives, pulse, responses = canonical(data)
    model = Model(people)
    figures, targets = [], []
    for group in GROUPS:
        members = model.members(lambda p, g=group: in_group(p, g))
        for objective, cells in objectives.items():
            shown = cells[group]
            if shown is not None:
                figures.append(model.mean_figure(f"{objective}/{group}", members, objective, *shown))
            else:
                count, total = model.answered(members, objective), model.score_sum(members, objective)
                if count:
                    targets.append(Target(f"hidden n of {group} on objective {objective}", count))
                    targets.append(Target(f"hidden mean of {group} on objective {objective}", total, count))
        stats = pulse[group]
        if stats is not None:
            n, good, outlooks, categories = stats
            figures.append(model.pulse_figure(f"pulse/{group}", members, n, good, outlooks, categories))
        elif members:
            targets.append(Target(f"hidden pulse n of {group}", {model.y[p.key]: 1 for p in members}))
            targets.append(Target(f"hidden pulse good count of {group}", model.pulse_count(model.q, members, (4, 5))))
    for (table, key), shown in responses.items():
        if table == "total":
            members = list(people)
        elif table == "directorates":
            wanted = None if key == "none" else int(key)
            members = model.members(lambda p, w=wanted: p.directorate == w)
        else:
            members = model.members(lambda p, k=key: in_group(p, k))
        if shown is not None:
            assert shown[0] == len(members), f"expected count of {table}/{key} is not the structure"
            figures.append(model.response_figure(f"responses/{table}/{key}", members, shown[1]))
        elif members:
            targets.append(Target(f"hidden responses of {table}/{key}", {model.r[p.key]: 1 for p in members}))
    clear = exchangeable_undetermined(people, truth)
    for person in people:
        for objective in person.objectives:
            if (person.key, objective) not in clear:
                targets.append(
                    Target(f"score of member {person.key} on {objective}", model.score_of(person, objective))
                )
        targets.append(Target(f"pulse quality of member {person.key}", {model.q[person.key, v]: v for v in SCORES}))
    return model, figures, targets


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # report the first trust found; no shrinking (slow)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(plan=trust_plans())
def test_no_individual_answer_and_no_hidden_group_can_be_worked_out(plan):
    built = Built(plan, f"A{next(CODES):04d}")
    rounds = []
    for period in MONTHS:
        rounds.append((period, built.answer_month(period)))
        built.come_and_go()
    client = Client()
    assert client.login(username=built.md.user.email, password=PASSWORD)
    admin = Client()
    assert admin.login(username=built.admin.user.email, password=PASSWORD)
    leaks = []
    with scope(trust=built.trust):
        for period, round_ in rounds:
            try_late_answers(built, admin, round_, period)
            data = DivergenceReport.objects.get(round=round_).data
            check_pages_serve_the_snapshot(built, client, round_, data)
            model, figures, targets = figures_and_targets(built.people[period], built.truth[period], data)
            found = find_leaks(model, figures, built.truth[period], targets)
            leaks += [f"{period:%Y-%m}: {leak}" for leak in found]
    assert not leaks, f"worked out from what is published ({plan}): {leaks}"
