"""Page benchmarks: server time, throughput and queries of the busiest pages.

A real gunicorn (production settings on plain HTTP) serves the site plus the bench-only
`/bench/trivial` baseline (bench/runner/wsgi.py). A small threaded client, one signed-in
person per thread, sends a bounded number of requests; server time is the response time on
localhost. Query counts are measured separately, in this process, with Django's test client
and CaptureQueriesContext.
"""

import http.client
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.cookies import SimpleCookie
from random import Random
from urllib.parse import urlencode

from . import (
    ROOT,
    WORK_DIR,
    Row,
    free_port,
    median,
    ms,
    percentile,
    ratio,
    say,
    service_env,
    start,
    stop,
    times,
    wait_for,
)
from .memory import peak_of_children_mb

MAX_REQUESTS = 2000
MAX_SECONDS = 30
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SCORE_FIELD = re.compile(r'name="score_(\d+)"')


# --- The client ---------------------------------------------------------------------------------


class Session:
    """One browser over http.client: a cookie jar, sign-in through the login form with its
    CSRF token, GET and form POST. A new connection per request (gunicorn's sync workers
    close every connection anyway); redirects are returned, not followed."""

    def __init__(self, host, port, timeout=30):
        self.host, self.port, self.timeout = host, port, timeout
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        """(status, body bytes) of one request; the jar takes the response's cookies."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                self._store(header)
            return response.status, content
        finally:
            connection.close()

    def _store(self, header):
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                self.cookies.pop(name, None)  # Django deletes a cookie this way
            else:
                self.cookies[name] = morsel.value

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields):
        body = urlencode(fields).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def sign_in(self, email, password, path="/accounts/login/"):
        """Sign in through the login form; True when the site answered with the redirect."""
        status, page = self.get(path)
        token = csrf_token(page)
        if status != 200 or token is None:
            return False
        status, _ = self.post(path, {"csrfmiddlewaretoken": token, "username": email, "password": password})
        return status == 302 and "sessionid" in self.cookies


def csrf_token(page):
    match = CSRF_FIELD.search(page.decode("utf-8", "replace"))
    return match.group(1) if match else None


# --- The load runner ----------------------------------------------------------------------------


@dataclass
class LoadResult:
    latencies: list = field(default_factory=list)  # seconds, requests answered as expected
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0  # unexpected status or exception
    wall: float = 0.0
    stopped_by_time: bool = False

    @property
    def count(self):
        return len(self.latencies)

    @property
    def median(self):
        return median(self.latencies) if self.latencies else None

    @property
    def p95(self):
        return percentile(self.latencies, 0.95) if self.latencies else None

    @property
    def throughput(self):
        return self.count / self.wall if self.wall else None


def run_load(sessions, send, *, total, expect=(200,), max_seconds=MAX_SECONDS):
    """Send `total` requests from one thread per session (each thread uses its own session),
    at most `max_seconds` in all; `send(session)` makes one request and returns its status."""
    total = min(total, MAX_REQUESTS)
    max_seconds = min(max_seconds, MAX_SECONDS)
    result = LoadResult()
    lock = threading.Lock()
    issued = 0
    started = time.perf_counter()
    deadline = started + max_seconds

    def client(session):
        nonlocal issued
        while True:
            with lock:
                if issued >= total:
                    return
                if time.perf_counter() >= deadline:
                    result.stopped_by_time = True
                    return
                issued += 1
            begin = time.perf_counter()
            try:
                status = send(session)
            except Exception as exc:  # counted; the run goes on
                status = type(exc).__name__
            elapsed = time.perf_counter() - begin
            with lock:
                result.statuses[status] += 1
                if status in expect:
                    result.latencies.append(elapsed)
                else:
                    result.errors += 1

    threads = [threading.Thread(target=client, args=(session,), daemon=True) for session in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall = time.perf_counter() - started
    return result


# --- The server ---------------------------------------------------------------------------------


class Gunicorn:
    """`gunicorn bench.runner.wsgi` on a free port with production settings on plain HTTP;
    static files collected first (the manifest storage needs them)."""

    def __init__(self, database_url, port, workers=2):
        self.database_url, self.port, self.workers = database_url, port, workers
        self.process = None
        self.log = WORK_DIR / "gunicorn.log"

    def __enter__(self):
        env = service_env(self.database_url)
        say("Collecting static files for the production settings")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        command = [sys.executable, "-m", "gunicorn", "bench.runner.wsgi:application"]
        command += ["--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning"]
        say(f"Starting gunicorn ({self.workers} workers) on 127.0.0.1:{self.port}; log {self.log}")
        self.process = start(command, env=env, log=self.log)
        if not wait_for(self._answers, 60, interval=0.25):
            stop(self.process)
            raise RuntimeError(f"gunicorn did not answer /healthz within 60 s; see {self.log}")
        return self

    def _answers(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}")
        try:
            return Session("127.0.0.1", self.port, timeout=5).get("/healthz")[0] == 200
        except OSError:
            return False

    def __exit__(self, *exc):
        stop(self.process)

    def workers_peak_mb(self):
        return peak_of_children_mb(self.process.pid)


# --- What the pages need ------------------------------------------------------------------------


def last_month(today):
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def open_round(trust, today):
    """The trust's round of this month, open today: created if missing (from the 1st to the end
    of the month), its close moved to the end of the month if it has closed. (round, note)."""
    from django_scopes import scope

    from surveys.services.rounds import round_get_or_create

    period = today.replace(day=1)
    month_end = (period + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    with scope(trust=trust):
        from surveys.models import RatingRound

        existed = RatingRound.objects.filter(trust=trust, period=period).exists()
        round_ = round_get_or_create(trust=trust, period=period)
        note = "" if existed else f"created {trust.code}'s {period:%Y-%m} round"
        if not round_.opens_on <= today <= round_.closes_on:
            round_.opens_on, round_.closes_on = min(round_.opens_on, today), max(round_.closes_on, month_end)
            round_.save(update_fields=["opens_on", "closes_on"])
            note = (note or f"moved {trust.code}'s {period:%Y-%m} round") + f", open until {round_.closes_on}"
    return round_, note


def raters(trust, count):
    """Up to `count` active raters of the trust (directorate members first: they rate most)."""
    from django.db.models import F
    from django_scopes import scopes_disabled

    from partnership.models import Membership, Role

    with scopes_disabled():
        return list(
            Membership.objects.filter(trust=trust, is_active=True, user__is_active=True)
            .exclude(role=Role.ADMINISTRATOR)
            .select_related("user")
            .order_by(F("directorate_id").asc(nulls_last=True), "pk")[:count]
        )


def ensure_password(users, password):
    """Give the bench users the bench password where they have another (a demo dataset)."""
    changed = 0
    for user in users:
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
            changed += 1
    return changed


def ensure_report(trust, period):
    """Build the trust's report of `period` if it has none (build_reports), for the report page."""
    from django.core.management import call_command
    from django_scopes import scopes_disabled

    from surveys.models import DivergenceReport

    with scopes_disabled():
        if DivergenceReport.objects.filter(trust=trust, period=period).exists():
            return ""
    say(f"Building {trust.code}'s {period:%Y-%m} report for the report page")
    call_command("build_reports", period=f"{period:%Y-%m}", trust=trust.code, stdout=sys.stderr)
    return f"built {trust.code}'s {period:%Y-%m} report"


def objective_ref(trust):
    """The first agreed trust-wide objective (every member sees and rates it)."""
    from django_scopes import scopes_disabled

    from objectives.models import Objective, Status

    with scopes_disabled():
        ref = (
            Objective.objects.filter(trust=trust, status=Status.AGREED, directorate__isnull=True)
            .order_by("ref")
            .values_list("ref", flat=True)
            .first()
        )
    if ref is None:
        raise RuntimeError(f"{trust.code} has no agreed trust-wide objective")
    return ref


def rating_form(page, rng):
    """The rating form's fields with every objective scored and the pulse answered."""
    text = page.decode("utf-8", "replace") if isinstance(page, bytes) else page
    fields = {f"score_{pk}": str(rng.randint(1, 5)) for pk in SCORE_FIELD.findall(text)}
    fields.update(quality=str(rng.randint(1, 5)), outlook="same", category="tension")
    return fields


@dataclass
class Page:
    name: str
    path: str
    method: str = "GET"

    @property
    def expect(self):
        return (302,) if self.method == "POST" else (200,)


def bench_pages(code, ref, report_period):
    rate = f"/trusts/{code}/rate/"
    return [
        Page("dashboard", f"/trusts/{code}/dashboard/"),
        Page("rating page", rate),
        Page("rating submit", rate, "POST"),
        Page("objective detail", f"/trusts/{code}/objectives/{ref}/"),
        Page("report page", f"/trusts/{code}/reports/{report_period:%Y-%m}/"),
    ]


def query_counts(pages, user, code):
    """{page name: queries} for one signed-in request each (after one warm-up request), with
    Django's test client in this process; plus the baseline's own query."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from .wsgi import trivial_response

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    rng = Random(7)
    counts = {}
    for page in pages:
        if page.method == "POST":
            form = rating_form(client.get(page.path).content, rng)
            client.post(page.path, form)
            with CaptureQueriesContext(connection) as queries:
                response = client.post(page.path, form)
        else:
            client.get(page.path)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(page.path)
        if response.status_code not in page.expect:
            raise RuntimeError(f"{page.name} {page.path} answered {response.status_code} in process")
        counts[page.name] = len(queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        trivial_response(code)
    counts["baseline"] = len(queries.captured_queries)
    return counts


# --- The benchmark ------------------------------------------------------------------------------


@dataclass
class PagesResult:
    rows: list
    notes: list
    web_peak_mb: float | None = None
    web_idle_mb: float | None = None
    workers: int = 0


def sender(page, forms):
    """send(session) for run_load: GET the page, or POST that session's rating form."""
    if page.method == "GET":
        return lambda session: session.get(page.path)[0]

    def post(session):
        status, _ = session.post(page.path, forms[id(session)])
        session.cookies.pop("messages", None)  # the "Saved" message is never shown: don't pile them up
        return status

    return post


def run(*, database_url, trust, password, requests, concurrency, today=None):
    today = today or date.today()
    notes = []
    _, note = open_round(trust, today)
    notes += [note] if note else []
    period = last_month(today)
    note = ensure_report(trust, period)
    notes += [note] if note else []
    members = raters(trust, concurrency)
    if len(members) < concurrency:
        raise RuntimeError(f"{trust.code} has {len(members)} raters; {concurrency} clients need one each")
    changed = ensure_password([m.user for m in members], password)
    if changed:
        notes.append(f"set the bench password on {changed} {trust.code} account(s)")
    pages = bench_pages(trust.code, objective_ref(trust), period)
    say("Counting queries in process")
    queries = query_counts(pages, members[0].user, trust.code)

    port = free_port()
    results = {}
    with Gunicorn(database_url, port) as server:
        idle_mb, workers = server.workers_peak_mb()
        sessions = [Session("127.0.0.1", port) for _ in members]
        for session, member in zip(sessions, members, strict=True):
            if not session.sign_in(member.user.email, password):
                raise RuntimeError(f"could not sign in as {member.user.email}; see {server.log}")
        rng = Random(2002)
        forms = {}
        for session in sessions:
            status, page = session.get(f"/trusts/{trust.code}/rate/")
            forms[id(session)] = {"csrfmiddlewaretoken": csrf_token(page), **rating_form(page, rng)}
            if status != 200 or len(forms[id(session)]) < 5:
                raise RuntimeError(f"the rating page of {trust.code} has no form to submit (status {status})")

        trivial = Page("baseline", f"/bench/trivial?code={trust.code}")
        for page in [trivial, *pages]:
            send = sender(page, forms)
            run_load(sessions, send, total=2 * len(sessions), expect=page.expect)  # warm-up, not counted
            say(f"Load: {page.name} ({requests} requests, {concurrency} clients)")
            results[page.name] = run_load(sessions, send, total=requests, expect=page.expect)
            result = results[page.name]
            say(
                f"  {result.count} ok, {result.errors} errors, median {ms(result.median or 0)}, "
                f"p95 {ms(result.p95 or 0)}, {result.throughput or 0:,.0f} req/s"
            )
        peak_mb, workers = server.workers_peak_mb()

    base = results["baseline"]
    rows = [
        Row(
            "baseline: /bench/trivial",
            "median / p95 server time",
            f"{ms(base.median)} / {ms(base.p95)}",
            note=_load_note(base, concurrency) + f"; {queries['baseline']} query",
        ),
        Row("baseline: /bench/trivial", "throughput", f"{base.throughput:,.0f} req/s"),
    ]
    for page in pages:
        result = results[page.name]
        label = f"{page.name}: {page.method} {page.path}"
        if not result.latencies:
            rows.append(Row(label, "server time", "no request succeeded", note=_load_note(result, concurrency)))
            continue
        rows += [
            Row(
                label,
                "median / p95 server time",
                f"{ms(result.median)} / {ms(result.p95)}",
                f"{ms(base.median)} / {ms(base.p95)}",
                "p95 " + times(ratio(result.p95, base.p95)),
                _load_note(result, concurrency),
            ),
            Row(
                label,
                "throughput",
                f"{result.throughput:,.1f} req/s",
                f"{base.throughput:,.0f} req/s",
                times(ratio(result.throughput, base.throughput)),
            ),
            Row(label, "queries per request", str(queries[page.name]), str(queries["baseline"]), ""),
        ]
    return PagesResult(rows, notes, peak_mb, idle_mb, workers)


def _load_note(result, concurrency):
    note = f"{result.count} requests, {concurrency} clients, {result.wall:.1f} s"
    if result.errors:
        note += f", {result.errors} errors {dict(result.statuses)}"
    if result.stopped_by_time:
        note += f", stopped at the {MAX_SECONDS} s limit"
    return note
