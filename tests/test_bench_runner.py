"""The pure and small pieces of the benchmark runner (bench/run.py, bench/runner/), so that they
cannot rot between benchmark runs. The benchmarks themselves are not run here."""

import random
from datetime import timedelta

import numpy
import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from bench.run import parse_args
from bench.runner import Row, markdown_report, markdown_table, median, percentile, ratio, text_table, times
from bench.runner.memory import parse_time_v, vm_hwm_kb
from bench.runner.pages import Session, rating_form, run_load
from tests.factories import PASSWORD, MembershipFactory, ObjectiveFactory

# --- Statistics -------------------------------------------------------------------------------


@pytest.mark.parametrize("share", [0, 0.05, 0.25, 0.5, 0.9, 0.95, 0.99, 1])
def test_percentile_matches_numpy_linear(share):
    rng = random.Random(share)
    for size in (1, 2, 3, 10, 201):
        values = [rng.expovariate(10) for _ in range(size)]
        assert percentile(values, share) == pytest.approx(numpy.percentile(values, share * 100))


def test_median_of_odd_and_even_counts():
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    assert median([7]) == 7


def test_p95_of_1_to_100_interpolates_between_ranks():
    assert percentile(range(1, 101), 0.95) == pytest.approx(95.05)


def test_percentile_refuses_no_values_and_shares_outside_0_to_1():
    with pytest.raises(ValueError):
        percentile([], 0.5)
    with pytest.raises(ValueError):
        percentile([1, 2], 95)


def test_ratio_and_its_text():
    assert ratio(30, 10) == 3
    assert ratio(None, 10) is None
    assert ratio(1, 0) is None
    assert times(12.345) == "12.3×"
    assert times(0.01764) == "0.0176×"
    assert times(1109.6) == "1,110×"
    assert times(None) == ""


# --- The table --------------------------------------------------------------------------------


ROWS = [
    Row("dashboard: GET /trusts/B001/dashboard/", "median / p95 server time", "40.0 ms / 80.0 ms", "2.0 ms", "40×"),
    Row("reports | all", "total", "12.00 s", note="a|b"),
]


def test_markdown_table_has_a_header_a_rule_and_a_line_per_row_with_pipes_escaped():
    lines = markdown_table(ROWS).splitlines()
    assert lines[0] == "| benchmark | figure | value | baseline | ratio | note |"
    assert lines[1] == "|---|---|---|---|---|---|"
    assert lines[2] == (
        "| dashboard: GET /trusts/B001/dashboard/ | median / p95 server time | 40.0 ms / 80.0 ms | 2.0 ms | 40× |  |"
    )
    assert lines[3] == "| reports \\| all | total | 12.00 s |  |  | a\\|b |"
    assert len(lines) == 4


def test_markdown_report_lists_the_facts_before_the_table_and_the_notes_after():
    text = markdown_report("Benchmarks 2026-11-22", {"nproc": "2", "PostgreSQL": "15.8"}, ROWS, ["built a report"])
    assert text.startswith("# Benchmarks 2026-11-22\n\n- nproc: 2\n- PostgreSQL: 15.8\n\n| benchmark |")
    assert text.endswith("\n\n- built a report\n")


def test_text_table_aligns_the_columns():
    lines = text_table(ROWS).splitlines()
    assert len(lines) == 4
    assert set(lines[1]) <= {"-", " "}
    value_column = lines[0].index("value")
    assert lines[2][value_column:].startswith("40.0 ms")
    assert lines[3][value_column:].startswith("12.00 s")


# --- Options and helpers ----------------------------------------------------------------------


def test_only_memory_also_runs_the_loads_it_samples():
    assert set(parse_args(["--only", "memory"]).only) == {"memory", "pages", "reports"}
    assert parse_args(["--only", "divergence,import"]).only == ["divergence", "import"]
    with pytest.raises(SystemExit):
        parse_args(["--only", "everything"])
    with pytest.raises(SystemExit):
        parse_args(["--requests", "5000"])


def test_parse_time_v_reads_peak_memory_and_elapsed_time():
    text = (
        "Imported ratings-1m.csv into B001: 10 created\n"
        '\tCommand being timed: "python manage.py import_ratings B001 x.csv"\n'
        "\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02.50\n"
        "\tMaximum resident set size (kbytes): 123456\n"
        "\tExit status: 0\n"
    )
    assert parse_time_v(text) == {"elapsed_s": 62.5, "max_rss_kb": 123456, "exit_status": 0}


def test_vm_hwm_of_this_process_and_of_none():
    assert vm_hwm_kb("self") > 1000
    assert vm_hwm_kb(2**22 + 12345) is None


def test_rating_form_scores_every_objective_once_and_answers_the_pulse():
    page = b'<input name="score_7" value="1"><input name="score_7" value="2"><input name="score_12" value="1">'
    form = rating_form(page, random.Random(1))
    assert sorted(form) == ["category", "outlook", "quality", "score_12", "score_7"]
    assert all(form[f"score_{pk}"] in {"1", "2", "3", "4", "5"} for pk in (7, 12))


# --- The threaded client against a live server ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_threaded_client_sends_exactly_the_bounded_requests(live_server):
    host, port = live_server.url.removeprefix("http://").split(":")
    sessions = [Session(host, int(port)) for _ in range(4)]
    result = run_load(sessions, lambda session: session.get("/accounts/login/")[0], total=20)
    assert result.count == 20
    assert result.errors == 0
    assert result.statuses == {200: 20}
    assert 0 < result.median <= result.p95
    assert result.throughput > 0
    assert not result.stopped_by_time


@pytest.mark.django_db(transaction=True)
def test_threaded_client_counts_unexpected_statuses_as_errors(live_server):
    host, port = live_server.url.removeprefix("http://").split(":")
    sessions = [Session(host, int(port)) for _ in range(2)]
    result = run_load(sessions, lambda session: session.get("/no-such-page/")[0], total=6)
    assert result.count == 0
    assert result.errors == 6
    assert result.statuses == {404: 6}
    assert result.median is None


@pytest.mark.django_db(transaction=True)
def test_session_signs_in_through_the_login_form_with_its_csrf_token(live_server, trust):
    member = MembershipFactory(trust=trust, user__email="rater@ashby.nhs.uk")
    host, port = live_server.url.removeprefix("http://").split(":")
    session = Session(host, int(port))
    assert session.get(f"/trusts/{trust.code}/")[0] == 302  # to the login page
    assert not session.sign_in(member.user.email, "wrong-password-here")
    assert session.sign_in(member.user.email, PASSWORD)
    assert session.get(f"/trusts/{trust.code}/")[0] == 200


def test_the_load_is_bounded_in_requests_and_time():
    calls = []
    result = run_load([object()], lambda session: calls.append(1) or 200, total=10_000)
    assert result.count == len(calls) == 2000


# --- The bench WSGI module --------------------------------------------------------------------


@pytest.mark.django_db
def test_trivial_baseline_answers_itself_with_one_query(trust, django_assert_num_queries):
    from django.core import signals
    from django.db import close_old_connections

    from bench.runner.wsgi import application

    started = []
    # As Django's test client does: the test's transaction must survive the request signals.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with django_assert_num_queries(1):
            body = application(
                {"PATH_INFO": "/bench/trivial", "QUERY_STRING": f"code={trust.code}", "REQUEST_METHOD": "GET"},
                lambda status, headers: started.append((status, dict(headers))),
            )
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert started == [("200 OK", {"Content-Type": "text/plain"})]
    assert body == [b"ok"]


# --- Reminders: the outbox against bare smtplib, to the sink ----------------------------------


@pytest.mark.django_db
def test_fanout_sends_every_reminder_once_each_way_to_the_sink(trust):
    from bench.runner.reminders import fanout_compare
    from surveys.models import OutboxStatus, ReminderKind, ReminderLog
    from surveys.services.rounds import round_get_or_create

    today = timezone.localdate()
    round_ = round_get_or_create(trust=trust, period=today.replace(day=1))
    ObjectiveFactory(trust=trust, status="agreed")
    with scopes_disabled():
        round_.opens_on, round_.closes_on = today - timedelta(days=1), today + timedelta(days=20)
        round_.save()
        people = [MembershipFactory(trust=trust, user__email=f"rater{n:02d}@ashby.nhs.uk") for n in range(20)]
        rows = ReminderLog.objects.bulk_create(
            ReminderLog(trust=trust, round=round_, membership=m, kind=ReminderKind.ROUND_OPEN) for m in people
        )

    result = fanout_compare(rows)

    assert (result.n, result.smtplib_sent, result.outbox_sent, result.sink_count) == (20, 20, 20, 40)
    assert result.outbox_rate > 0 and result.smtplib_rate > 0
    with scopes_disabled():
        assert set(ReminderLog.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}
