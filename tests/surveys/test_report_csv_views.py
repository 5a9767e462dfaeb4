"""The report and pulse CSV downloads: headers, filenames, contents, who may download which
round, and a fixed number of queries."""

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from surveys.analysis import round_analysis
from surveys.exports import pulse_csv_rows, report_csv_rows, write_csv
from surveys.models import PulseResponse
from surveys.services.rounds import round_get_or_create
from surveys.talk import talking_points
from tests.factories import MembershipFactory
from tests.surveys.helpers import anonymous_ratings

REPORT_HEADER = [
    "objective_ref",
    "objective_title",
    "theme",
    "period",
    "n_clinical",
    "mean_clinical",
    "n_managerial",
    "mean_managerial",
    "gap",
    "p_value",
    "q_value",
    "effect_size",
    "status",
]
PULSE_HEADER = [
    "group",
    "n",
    "good_share",
    "improve_share",
    "same_share",
    "deteriorate_share",
    "partnership_share",
    "tension_share",
    "tolerance_share",
    "unresolved_share",
]


rate = anonymous_ratings


def answer_pulse(round_, group, level, answers):
    with scopes_disabled():
        PulseResponse.objects.bulk_create(
            PulseResponse(
                trust=round_.trust,
                round=round_,
                rater=None,
                quality=quality,
                outlook=outlook,
                category=category,
                professional_group=group,
                level=level,
            )
            for quality, outlook, category in answers
        )


def body(response):
    """The downloaded bytes: the CSV views stream (StreamingHttpResponse has no .content)."""
    assert response.streaming
    return b"".join(response.streaming_content)


def parse(response):
    content = body(response)
    assert not content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def analysis_of(round_):
    with scope(trust=round_.trust):
        return round_analysis(round_)


def report_url(trust, period):
    return reverse("report_csv", args=[trust.code, period])


def pulse_url(trust, period):
    return reverse("report_pulse_csv", args=[trust.code, period])


@pytest.fixture
def rated_february(february_round, agreed_objective):
    """Two objectives rated in the (closed) February round, one of them divergent, and a pulse."""
    redesign = agreed_objective(ref="OBJ-02", title='=HYPERLINK("x") co-led redesigns', theme="clinical-focus")
    waits = agreed_objective(ref="OBJ-01", title="Shared waiting list plan", theme="continuity")
    rate(february_round, redesign, "clinical", "operational", [1, 2, 2, 1, 2, 2])
    rate(february_round, redesign, "managerial", "operational", [4, 4, 5, 4, 3, 4])
    rate(february_round, waits, "clinical", "operational", [3, 3, 4, 3, 2])
    rate(february_round, waits, "managerial", "operational", [3, 3, 3, 3])  # 4 < 5: suppressed
    answer_pulse(
        february_round, "clinical", "operational", [(4, "improve", "partnership")] * 3 + [(2, "same", "tension")] * 2
    )
    answer_pulse(february_round, "managerial", "board", [(5, "improve", "partnership")] * 2)
    return february_round


def test_report_csv_download(client, login, consultant_membership, rated_february):
    login(consultant_membership)
    response = client.get(report_url(consultant_membership.trust, "2026-02"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="RAA-2026-02.csv"'
    content = body(response)
    assert content.startswith(b"objective_ref,objective_title,")
    assert b"\r\n" in content
    assert content == write_csv(report_csv_rows(analysis_of(rated_february))).encode()  # as the email attaches
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    assert rows[0] == REPORT_HEADER
    assert [row[0] for row in rows[1:]] == ["OBJ-01", "OBJ-02"]  # by ref, though OBJ-02 is divergent
    waits, redesign = rows[1], rows[2]
    assert waits == [
        "OBJ-01",
        "Shared waiting list plan",
        "continuity",
        "2026-02",
        "5",
        "3.00",
        "",  # 4 managers: hidden, so no n either
        "",
        "",
        "",
        "",
        "",
        "insufficient",
    ]
    assert redesign[:9] == [
        "OBJ-02",
        '\'=HYPERLINK("x") co-led redesigns',
        "clinical-focus",
        "2026-02",
        "6",
        "1.67",
        "6",
        "4.00",
        "-2.33",
    ]
    assert redesign[12] == "divergent"
    assert float(redesign[11]) < 0  # the effect size stays a number


def test_pulse_csv_download(client, login, consultant_membership, rated_february):
    login(consultant_membership)
    response = client.get(pulse_url(consultant_membership.trust, "2026-02"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="RAA-2026-02-pulse.csv"'
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    content = body(response)
    assert content == write_csv(pulse_csv_rows(analysis_of(rated_february))).encode()
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    assert rows[0] == PULSE_HEADER
    assert rows[1:] == [
        ["clinical", "5", "0.600", "0.600", "0.400", "0.000", "0.600", "0.400", "0.000", "0.000"],
        ["managerial"] + [""] * 9,  # 2 managers: suppressed
        ["senior_clinical"] + [""] * 9,
        ["senior_nonclinical"] + [""] * 9,
        # The trust has no senior clinicians at all, so the operational row (= clinical) hides nobody.
        ["operational_clinical", "5", "0.600", "0.600", "0.400", "0.000", "0.600", "0.400", "0.000", "0.000"],
        ["operational_nonclinical"] + [""] * 9,
    ]


def test_round_with_no_ratings_gives_the_header(client, login, consultant_membership, february_round):
    login(consultant_membership)
    response = client.get(report_url(consultant_membership.trust, "2026-02"))
    assert response.status_code == 200
    assert body(response) == (",".join(REPORT_HEADER) + "\r\n").encode()


@pytest.mark.parametrize("name", ["report_csv", "report_pulse_csv"])
@pytest.mark.parametrize(
    "period",
    [
        "2026-03",  # open (mid March)
        "2026-04",  # future, its round already scheduled
        "2026-05",  # future, no round
        "2025-01",  # no such round
        "2026-13",  # not a month
        "2026-00",
    ],
)
def test_404_unless_the_round_has_closed(client, login, consultant_membership, rated_february, name, period):
    trust = consultant_membership.trust
    round_get_or_create(trust=trust, period=date(2026, 3, 1))
    round_get_or_create(trust=trust, period=date(2026, 4, 1))
    login(consultant_membership)
    assert client.get(reverse(name, args=[trust.code, period])).status_code == 404


@pytest.mark.parametrize("name", ["report_csv", "report_pulse_csv"])
def test_another_trusts_member_gets_404(client, login, trust, other_admin_membership, rated_february, name):
    other = other_admin_membership.trust
    round_get_or_create(trust=other, period=date(2026, 2, 1))
    login(other_admin_membership)
    assert client.get(reverse(name, args=[trust.code, "2026-02"])).status_code == 404
    assert client.get(reverse(name, args=["ZZZ", "2026-02"])).status_code == 404
    own = client.get(reverse(name, args=[other.code, "2026-02"]))  # their own round: none of trust A's data
    assert own.status_code == 200
    content = body(own)
    assert b"OBJ-0" not in content and b"Shared waiting" not in content


@pytest.mark.parametrize("name", ["report_csv", "report_pulse_csv"])
def test_anonymous_is_sent_to_login(client, trust, rated_february, name):
    url = reverse(name, args=[trust.code, "2026-02"])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["report_csv", "report_pulse_csv"])
def test_inactive_membership_gets_404(client, trust, rated_february, name):
    former = MembershipFactory(trust=trust, user__email="former@ashby.nhs.uk", is_active=False)
    client.force_login(former.user)
    assert client.get(reverse(name, args=[trust.code, "2026-02"])).status_code == 404


def test_urls():
    assert reverse("report_csv", args=["RAA", "2026-03"]) == "/trusts/RAA/reports/2026-03.csv"
    assert reverse("report_pulse_csv", args=["RAA", "2026-03"]) == "/trusts/RAA/reports/2026-03-pulse.csv"


@pytest.mark.parametrize("name", ["report_csv", "report_pulse_csv"])
def test_query_count_is_constant(
    client, login, consultant_membership, february_round, agreed_objective, django_assert_max_num_queries, name
):
    login(consultant_membership)
    url = reverse(name, args=[consultant_membership.trust.code, "2026-02"])

    def add(first, count):
        for i in range(first, first + count):
            objective = agreed_objective(ref=f"OBJ-{i:02d}")
            rate(february_round, objective, "clinical", "operational", [1, 2, 3, 2, 2])
            rate(february_round, objective, "managerial", "board", [3, 4, 5, 4, 4])
        answer_pulse(february_round, "clinical", "board", [(4, "same", "tension")] * 5)

    add(1, 1)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add(2, 8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    # session, user, trust, membership, round, its report (none yet: the stored CSV once reported),
    # round_analysis (5: rounds, ratings' and pulse versions, response cells, objectives; the
    # decision itself is cached), and the request savepoint pair
    with django_assert_max_num_queries(13):
        client.get(url)


@pytest.mark.parametrize("name", ["report_csv", "report_pulse_csv"])
def test_the_body_streams_without_queries(client, login, consultant_membership, rated_february, name):
    """Rows are computed in the view (in its trust scope and transaction); the streamed body is
    only their encoding, sent after both have ended, so reading it runs no query."""
    login(consultant_membership)
    response = client.get(reverse(name, args=[consultant_membership.trust.code, "2026-02"]))
    assert response.streaming
    with CaptureQueriesContext(connection) as queries:
        chunks = list(response.streaming_content)
    assert queries.captured_queries == []
    assert len(chunks) == len(parse_bytes(b"".join(chunks)))  # a chunk per row


def parse_bytes(content):
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


# --- the downloads snippet -----------------------------------------------------------------------


def test_downloads_snippet_renders_links_and_talking_points(trust, rated_february):

    with scope(trust=trust):
        analysis = round_analysis(rated_february)
        points = talking_points(analysis)
        html = render_to_string(
            "surveys/_downloads.html", {"analysis": analysis, "trust": trust, "talking_points": points}
        )
    assert [p.ref for p in points] == ["OBJ-02"]
    assert 'href="/trusts/RAA/reports/2026-02.csv"' in html and "Download the table (CSV)" in html
    assert 'href="/trusts/RAA/reports/2026-02-pulse.csv"' in html and "Download the pulse (CSV)" in html
    assert "What to talk about" in html
    assert 'data-ref="OBJ-02"' in html and 'href="/trusts/RAA/objectives/OBJ-02/"' in html
    assert "Managers see more progress than clinicians" in html
    assert "What would progress look like to both?" in html
    assert "&#x27;=HYPERLINK" not in html  # the page shows the title as it is (escaped), not the CSV form


def test_downloads_snippet_without_talking_points(trust, february_round):

    with scope(trust=trust):
        html = render_to_string(
            "surveys/_downloads.html",
            {"analysis": round_analysis(february_round), "trust": trust, "talking_points": []},
        )
    assert "No objective is divergent or widening in February 2026." in html
    assert "Download the table (CSV)" in html
    assert render_to_string("surveys/_downloads.html", {"analysis": None, "trust": trust}).strip() == ""
