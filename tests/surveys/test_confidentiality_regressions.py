"""The four leaks the confidentiality issue reproduced on main, as named regression tests.

Each goes through what a person really uses (pages, downloads, the import command, the settings
form) and failed before the disclosure engine and the freeze; the adversary
(test_confidentiality_adversary.py) generalises them."""

from datetime import date, datetime
from io import StringIO
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from surveys.models import DivergenceReport, PulseResponse, Rating, RatingRound
from surveys.services.reports import report_build
from tests.factories import DirectorateFactory, MembershipFactory
from tests.surveys.adversary import Model, Person, Target, Truth, find_leaks
from tests.surveys.helpers import stored_rating

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
FEBRUARY = date(2026, 2, 1)


rate = stored_rating


def build(round_):
    with mock.patch("surveys.services.reports.report_pdf", return_value=b"%PDF-1.4 stub"):
        return report_build(round=round_, now=datetime(2026, 2, 20, 8, tzinfo=LONDON))


@pytest.fixture
def board_and_staff(trust, agreed_objective):
    """The medical director alone at board level on the clinical side; 6 consultants; the chief
    executive and 5 operational managers."""
    people = {
        "md": MembershipFactory(trust=trust, medical_director=True),
        "consultants": [MembershipFactory(trust=trust) for _ in range(6)],
        "ceo": MembershipFactory(trust=trust, chief_executive=True),
        "managers": [MembershipFactory(trust=trust, directorate_manager=True) for _ in range(5)],
        "admin": MembershipFactory(trust=trust, administrator=True),
        "objective": agreed_objective(ref="OBJ-01"),
    }
    return people


@pytest.fixture
def reported_february(board_and_staff, february_round):
    people = board_and_staff
    for i, member in enumerate(people["consultants"]):
        rate(february_round, people["objective"], member, 1 + i % 3)
    rate(february_round, people["objective"], people["ceo"], 5)
    for i, member in enumerate(people["managers"]):
        rate(february_round, people["objective"], member, 4 + i % 2)
    build(february_round)
    return february_round


# --- 1. Late answers after a re-open ---------------------------------------------------------------


def test_leak_1_a_reported_round_cannot_be_reopened(reported_february, board_and_staff, login):
    client = login(board_and_staff["admin"])
    url = reverse("round_edit", kwargs={"trust_code": "RAA", "period": "2026-02"})
    response = client.post(url, {"opens_on": "2026-02-01", "closes_on": "2026-03-28"})
    assert response.status_code == 200
    assert "board report was built" in response.content.decode()
    with scopes_disabled():
        assert RatingRound.objects.get(pk=reported_february.pk).closes_on == date(2026, 2, 14)


def test_leak_1_import_into_a_reported_round_is_refused_per_line(reported_february, board_and_staff, tmp_path):
    md = board_and_staff["md"]
    path = tmp_path / "late.csv"
    path.write_text(f"period,objective_ref,rater_email,score,comment\n2026-02,OBJ-01,{md.user.email},5,late\n")
    with scopes_disabled():
        before = Rating.objects.count()
    errors = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_ratings", "RAA", str(path), stdout=StringIO(), stderr=errors)
    assert "line 2" in errors.getvalue() and "February 2026 board report was built" in errors.getvalue()
    with scopes_disabled():
        assert Rating.objects.count() == before


def test_leak_1_every_live_view_of_a_reported_round_serves_the_snapshot(reported_february, board_and_staff, login):
    """Even if an answer reached the table (say, through the database), comparing the report with
    the live pages gives nothing: they are the report."""
    rate(reported_february, board_and_staff["objective"], board_and_staff["md"], 5, "late comment")
    client = login(board_and_staff["md"])
    with scopes_disabled():
        report = DivergenceReport.objects.get(round=reported_february)
    body = b"".join(client.get(reverse("report_csv", args=["RAA", "2026-02"])).streaming_content).decode()
    assert body == report.csv
    page = client.get(reverse("dashboard_period", args=["RAA", "2026-02"]))
    [row] = page.context["rows"]
    snapshot = {g["group"]: (g["n"], g["mean"]) for g in report.data["objectives"][0]["groups"]}
    assert (row["result"].groups["clinical"].n, str(row["result"].groups["clinical"].mean)) == snapshot["clinical"]
    objective_page = client.get(reverse("objective_detail", args=["RAA", "OBJ-01"])).content.decode()
    assert "late comment" not in objective_page


# --- 2. Counts of hidden groups ---------------------------------------------------------------------


def test_leak_2_no_count_is_shown_for_a_hidden_group(reported_february, board_and_staff, login):
    client = login(board_and_staff["md"])
    page = client.get(reverse("dashboard_period", args=["RAA", "2026-02"])).content.decode()
    assert "n 0" not in page and "n 1" not in page  # the medical director did not score; the CEO did
    with scopes_disabled():
        report = DivergenceReport.objects.get(round=reported_february)
    senior = {g["group"]: g for g in report.data["objectives"][0]["groups"]}
    assert senior["senior_clinical"]["n"] is None and senior["senior_nonclinical"]["n"] is None


def test_leak_2_the_report_csv_blanks_the_n_of_a_hidden_group(trust, february_round, agreed_objective, login):
    objective = agreed_objective(ref="OBJ-01")
    for _ in range(6):
        rate(february_round, objective, MembershipFactory(trust=trust), 3)
    for _ in range(4):  # 4 < 5
        rate(february_round, objective, MembershipFactory(trust=trust, directorate_manager=True), 2)
    client = login(MembershipFactory(trust=trust))
    body = b"".join(client.get(reverse("report_csv", args=["RAA", "2026-02"])).streaming_content).decode()
    row = body.splitlines()[1].split(",")
    assert row[6] == "" and row[7] == ""  # n_managerial, mean_managerial: not "4"


def test_leak_2_the_pulse_never_says_the_medical_director_skipped(board_and_staff, february_round, login):
    """operational clinical n = clinical n would say the one senior clinician gave no pulse."""
    with scopes_disabled():
        for member in board_and_staff["consultants"]:
            PulseResponse.objects.create(
                trust=february_round.trust,
                round=february_round,
                rater=member,
                quality=3,
                professional_group="clinical",
                level="operational",
            )
    client = login(board_and_staff["md"])
    body = b"".join(client.get(reverse("report_pulse_csv", args=["RAA", "2026-02"])).streaming_content).decode()
    rows = {line.split(",")[0]: line.split(",")[1] for line in body.splitlines()[1:]}
    assert rows["clinical"] == "6"
    assert rows["operational_clinical"] == "" and rows["senior_clinical"] == ""


# --- 3. Response rates by subtraction ---------------------------------------------------------------


def test_leak_3_response_rows_never_give_the_medical_director_away(trust, february_round, agreed_objective, login):
    """Senior non-clinical = managerial − operational managers; senior clinical = "no directorate"
    (the board) − senior non-clinical. The medical director is alone in their group."""
    medicine, surgery = (
        DirectorateFactory(trust=trust, name="Medicine"),
        DirectorateFactory(trust=trust, name="Surgery"),
    )
    md = MembershipFactory(trust=trust, medical_director=True)
    senior_managers = [MembershipFactory(trust=trust, chief_executive=True)] + [
        MembershipFactory(trust=trust, role="board_member", level="board", professional_group="managerial")
        for _ in range(5)
    ]
    consultants = [MembershipFactory(trust=trust, directorate=medicine) for _ in range(6)]
    managers = [MembershipFactory(trust=trust, directorate=surgery, directorate_manager=True) for _ in range(6)]
    objective = agreed_objective(ref="OBJ-01")
    responded = [md, *senior_managers[:4], *consultants[:4], *managers[:3]]
    for member in responded:
        rate(february_round, objective, member, None)  # can't judge: a response, no score
    admin = MembershipFactory(trust=trust, administrator=True)
    client = login(admin)
    counts = client.get(reverse("round_responses", kwargs={"trust_code": "RAA", "period": "2026-02"})).context["counts"]
    everyone = [md, *senior_managers, *consultants, *managers]
    people = [Person(m.pk, m.professional_group, m.level, m.directorate_id, frozenset()) for m in everyone]
    model = Model(people)
    figures = []

    def members(row_key, table):
        if table == "directorates":
            wanted = None if row_key == "none" else int(row_key)
            return [p for p in people if p.directorate == wanted]
        if table == "total":
            return people
        if row_key in ("clinical", "managerial"):
            return [p for p in people if p.professional_group == row_key]
        pairs = {
            "senior_clinical": ("clinical", "board"),
            "senior_nonclinical": ("managerial", "board"),
            "operational_clinical": ("clinical", "operational"),
            "operational_nonclinical": ("managerial", "operational"),
        }
        return [p for p in people if (p.professional_group, p.level) == pairs[row_key]]

    for table in ("total", "professional_groups", "davies_groups", "directorates"):
        rows = [counts["total"]] if table == "total" else counts[table]
        for row in rows:
            if not row.suppressed:
                figures.append(model.response_figure(f"{table}/{row.key}", members(row.key, table), row.responded))
    truth = Truth(responded={m.pk for m in responded})
    target = Target("the medical director responded", {model.r[md.pk]: 1})
    assert find_leaks(model, figures, truth, [target]) == []


# --- 4. Threshold changes re-grading past rounds --------------------------------------------------------


def test_leak_4_a_threshold_change_never_regrades_a_reported_round(reported_february, board_and_staff, login):
    with scopes_disabled():
        report = DivergenceReport.objects.get(round=reported_february)
    status = report.data["objectives"][0]["status"]
    md = board_and_staff["md"]
    client = login(md)
    response = client.post(
        reverse("analysis_settings", kwargs={"trust_code": "RAA"}),
        {
            "min_group_size": "5",
            "min_comment_group_size": "10",
            "watch_gap": "3.90",
            "divergent_gap": "4.00",
            "q_threshold": "0.001",
            "round_opens_day": "1",
            "round_closes_day": "14",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("dashboard_period", args=["RAA", "2026-02"]))
    [row] = page.context["rows"]
    assert row["result"].status == status  # as the board was told
    # ... and who changed what is on the Settings page, for every board member to see.
    ceo = login(board_and_staff["ceo"])
    settings_page = ceo.get(reverse("analysis_settings", kwargs={"trust_code": "RAA"})).content.decode()
    assert "divergent gap" in settings_page and "1.00 → 4.00" in settings_page
    assert (md.user.full_name or md.user.email) in settings_page
    with scope(trust=reported_february.trust):
        assert RatingRound.objects.get(pk=reported_february.pk).report.data == report.data
