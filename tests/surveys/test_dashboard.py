"""The dashboard shows exactly what divergence.py computes, for the demo trust; suppression
is visible; bad periods are 404; the query count does not grow with the data."""

import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from partnership.demo.people import DOMAIN
from partnership.models import Membership, Trust
from surveys import divergence
from surveys.analysis import latest_closed_round, thresholds_of
from surveys.models import Rating
from surveys.services.rounds import round_get_or_create
from tests.factories import PASSWORD, MembershipFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(client):
    call_command("seed_demo", allow_production=True, stdout=open("/dev/null", "w"), stderr=open("/dev/null", "w"))
    with scopes_disabled():
        trust = Trust.objects.get(code="RNG")
        md = Membership.objects.get(user__email=f"md@{DOMAIN}")
    assert client.login(username=md.user.email, password="common-ground-demo")
    return trust


def expected_results(trust):
    """divergence.round_results computed straight from the latest closed round's Rating rows."""
    with scopes_disabled():
        round_ = latest_closed_round(trust)
        rows = [
            divergence.ScoreRow(r.objective.ref, r.professional_group, r.level, r.score)
            for r in Rating.objects.filter(round=round_).select_related("objective")
        ]
    return round_, {r.objective: r for r in divergence.round_results(rows, thresholds_of(trust))}


def table_rows(html):
    """{ref: [cell texts]} from the dashboard's divergence table (means, gap, status)."""
    table = html[html.index('data-testid="divergence-table"') :]
    table = table[: table.index("</table>")]
    rows = {}
    for ref, body in re.findall(r'<tr data-ref="([^"]+)">(.*?)</tr>', table, flags=re.S):
        means = re.findall(r'<td class="text-center heat"[^>]*>\s*([^<]*)<span', body)
        gap = re.search(r'<td class="text-center fw-semibold">([^<]*)</td>', body).group(1)
        status = re.search(r"badge divergence-(\w+)", body).group(1)
        rows[ref] = {"means": [m.strip() for m in means], "gap": gap.strip(), "status": status}
    return rows


def shown(value):
    return "—" if value is None else str(value)


def signed(value):
    if value is None:
        return "—"
    return ("+" if value > 0 else "−" if value < 0 else "+") + f"{abs(value):.2f}" if value != 0 else "+0.00"


def test_every_number_in_the_demo_dashboard_matches_divergence_py(client, demo):
    round_, expected = expected_results(demo)
    page = client.get(reverse("dashboard", args=[demo.code])).content.decode()
    rows = table_rows(page)

    assert set(rows) == set(expected)
    for ref, result in expected.items():
        assert rows[ref]["means"] == [shown(result.groups[g].mean) for g in divergence.GROUPS], ref
        assert rows[ref]["status"] == result.status, ref
        assert rows[ref]["gap"] in (signed(result.gap), shown(result.gap)), ref


def test_divergent_objectives_come_first_and_the_demo_shows_two(client, demo):
    page = client.get(reverse("dashboard", args=[demo.code])).content.decode()
    statuses = [row["status"] for row in table_rows(page).values()]
    assert statuses[:2] == ["divergent", "divergent"]
    assert statuses == sorted(statuses, key=divergence.STATUS_ORDER.get)
    assert set(list(table_rows(page))[:2]) == {"OBJ-01", "OBJ-02"}  # the seeded divergent pair


def test_the_home_page_shows_the_same_table(client, demo):
    home = client.get(reverse("trust_home", args=[demo.code])).content.decode()
    dashboard = client.get(reverse("dashboard", args=[demo.code])).content.decode()
    assert table_rows(home) == table_rows(dashboard)


def test_a_small_group_shows_a_dash_and_no_mean(client, trust, login):
    member = MembershipFactory(trust=trust, medical_director=True)
    objective = ObjectiveFactory(trust=trust, status="agreed", ref="OBJ-01")
    round_ = round_get_or_create(trust=trust, period=date(2026, 1, 1))
    with scopes_disabled():
        for group, score in [("clinical", 1)] * 2 + [("managerial", 5)] * 6:
            rater = MembershipFactory(trust=trust, professional_group=group, role="board_member", level="board")
            Rating.objects.create(
                trust=trust, round=round_, objective=objective, rater=rater, score=score,
                professional_group=group, level="operational",
            )  # fmt: skip
    row = table_rows(login(member).get(reverse("dashboard", args=[trust.code])).content.decode())["OBJ-01"]
    assert row["means"][:2] == ["—", "5.00"]  # two clinicians: no mean; six managers: shown
    assert row["status"] == "insufficient"


@pytest.mark.parametrize("period", ["2031-01", "2026-00", "1999-12"])
def test_a_period_without_a_closed_round_is_404(client, trust, login, consultant_membership, period):
    url = reverse("dashboard_period", args=[trust.code, period])
    assert login(consultant_membership).get(url).status_code == 404


def test_the_open_round_has_no_dashboard_yet(trust, login, consultant_membership):
    today = timezone.localdate()
    round_ = round_get_or_create(trust=trust, period=today.replace(day=1))
    round_.opens_on, round_.closes_on = today - timedelta(days=1), today + timedelta(days=1)
    with scopes_disabled():
        round_.save()
    url = reverse("dashboard_period", args=[trust.code, round_.slug])
    assert login(consultant_membership).get(url).status_code == 404


def test_the_picker_redirects_to_the_chosen_round(client, demo):
    with scopes_disabled():
        round_ = latest_closed_round(demo)
    response = client.get(reverse("dashboard", args=[demo.code]), {"round": round_.slug, "directorate": ""})
    assert response.url == reverse("dashboard_period", args=[demo.code, round_.slug])


def test_a_directorate_view_lists_only_its_objectives(client, demo):
    with scopes_disabled():
        round_ = latest_closed_round(demo)
        medicine = demo.directorates.get(name="Medicine")
    url = reverse("dashboard_directorate", args=[demo.code, round_.slug, medicine.pk])
    assert set(table_rows(client.get(url).content.decode())) == {"OBJ-09"}


def test_the_dashboard_costs_the_same_queries_for_one_or_six_months_of_data(
    trust, login, consultant_membership, django_assert_max_num_queries
):
    client = login(consultant_membership)
    raters = [MembershipFactory(trust=trust, professional_group=g) for g in ("clinical", "managerial") * 5]
    objectives = [ObjectiveFactory(trust=trust, status="agreed") for _ in range(3)]

    def rate(period):
        round_ = round_get_or_create(trust=trust, period=period)
        with scopes_disabled():
            Rating.objects.bulk_create(
                Rating(
                    trust=trust, round=round_, objective=o, rater=r, score=3,
                    professional_group=r.professional_group, level=r.level,
                )
                for o in objectives
                for r in raters
            )  # fmt: skip

    rate(date(2026, 1, 1))
    url = reverse("dashboard", args=[trust.code])
    with django_assert_max_num_queries(25) as one:
        client.get(url)
    for month in range(2, 7):
        rate(date(2026, month, 1))
    # Session/user/trust/membership, the history rounds, ONE grouped score count for all of
    # them, objectives, pulse rows, response counts, pickers: fixed whatever the months/ratings.
    with django_assert_max_num_queries(25) as six:
        client.get(url)
    assert len(six.captured_queries) == len(one.captured_queries)


def test_a_member_of_another_trust_gets_404(client, demo, other_trust):
    other = MembershipFactory(trust=other_trust)
    client.logout()
    assert client.login(username=other.user.email, password=PASSWORD)
    assert client.get(reverse("dashboard", args=[demo.code])).status_code == 404
