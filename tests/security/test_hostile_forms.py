"""Every string payload of the hostile corpus (tests/data/hostile/strings.jsonl) through every
form, query string and URL of the site (issue #8 item 3).

For each payload the site must answer below 500 and either refuse it with a form error, the
database exactly as it was, or store it and show it escaped: the raw payload never appears
in the page it lands on, nor in the pages that show the stored value.

Each payload runs inside a rolled-back block, so every payload starts from the same data, and
failures are collected so that one run lists every payload that breaks a page.
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlencode, urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from partnership.models import Membership
from partnership.services.invitations import invitation_create, invitation_token
from surveys.services.rounds import month_start, round_get_or_create
from surveys.statements import STATEMENTS
from tests.factories import PASSWORD, MembershipFactory

from .conftest import (
    PAYLOADS,
    db_snapshot,
    describe,
    form_errors,
    html_problems,
    needs_escaping,
    page_text,
    rolled_back,
    snapshot_diff,
)

pytestmark = pytest.mark.django_db

CODE = "RAA"
GOOD_PASSWORD = "Tall-Giraffe-Orbit-2931"
REDIRECTS = (301, 302, 303)


def url(name, **kwargs):
    return reverse(name, kwargs={"trust_code": CODE, **kwargs})


class Checker:
    """Sends each payload and collects what went wrong, for one assertion at the end."""

    def __init__(self, client):
        self.client = client
        self.failures = []
        self.baseline = None

    def fail(self, payload, message):
        self.failures.append(f"{describe(payload)}: {message}")

    def page(self, payload, response, what):
        """A response must be below 500 and, when HTML, free of the payload unescaped."""
        if response.status_code >= 500:
            self.fail(payload, f"{what} answered {response.status_code}")
            return False
        for problem in html_problems(page_text(response), [payload]):
            self.fail(payload, f"{what}: {problem}")
        return True

    def run(self, payloads, send, *, prepare=None, show=(), show_all=False, must_refuse=False):
        """`send(payload)` makes the request; `show` are pages to check after an accepted POST
        (for the payloads with HTML-significant characters, or all of them with `show_all`).

        Refused = no redirect: the form must say why and nothing may have been written.
        `prepare()`, run before each payload, sets up what the request needs (e.g. an
        invitation) and returns what `send(payload, prepared)` is then given.
        """
        for payload in payloads:
            with rolled_back():
                if prepare is not None:
                    prepared = prepare()
                    self.baseline = db_snapshot()
                    response = send(payload, prepared)
                else:
                    if self.baseline is None:
                        self.baseline = db_snapshot()
                    response = send(payload)
                request = response.wsgi_request
                what = f"{request.method} {request.path}"
                if not self.page(payload, response, what):
                    continue
                if response.status_code in REDIRECTS:
                    if must_refuse:
                        self.fail(payload, f"{what} accepted it (redirect to {response['Location']})")
                    if request.method == "POST" and (show_all or _worth_showing(payload)):
                        target = self.client.get(response["Location"])
                        self.page(payload, target, f"the page after {what} ({response['Location']})")
                        if show_all or needs_escaping(payload):
                            for shown in show:
                                self.page(payload, self.client.get(shown), f"{shown} after {what}")
                    continue
                if request.method == "POST" and response.status_code == 200 and not form_errors(response):
                    self.fail(payload, f"{what} neither redirected nor showed a form error")
                after = db_snapshot()
                if after != self.baseline:
                    self.fail(payload, f"{what} refused it but wrote: {', '.join(snapshot_diff(self.baseline, after))}")
        return self

    def check(self):
        assert not self.failures, f"{len(self.failures)} problem(s):\n" + "\n".join(self.failures[:60])


def _worth_showing(payload):
    """Whether to look at the page showing a stored payload: plain short ASCII cannot break it."""
    return needs_escaping(payload) or not payload.isascii() or len(payload) > 100


def signed_in(client, membership):
    assert client.login(username=membership.user.email, password=PASSWORD)
    return client


# ------------------------------------------------------------------------------ signing in


def test_sign_in_form_refuses_every_payload(web, world):
    login = reverse("login")
    Checker(web).run(PAYLOADS, lambda p: web.post(login, {"username": p, "password": p}), must_refuse=True).check()


def test_sign_in_with_a_100k_character_email_is_a_form_error(web, world):
    """The username field has no length limit: the lookup's LIKE pattern is too long for SQLite."""
    response = web.post(reverse("login"), {"username": "é" * 100_000, "password": "x"})
    assert response.status_code == 200 and form_errors(response)


def test_next_parameter_of_the_sign_in_never_leaves_the_site(web, world):
    login = reverse("login")
    failures = []
    for payload in PAYLOADS:
        response = web.post(
            f"{login}?{urlencode({'next': payload[:2000]})}",
            {"username": world.admin.user.email, "password": PASSWORD, "next": payload},
        )
        if response.status_code >= 500:
            failures.append(f"{describe(payload)}: {response.status_code}")
        elif response.status_code in REDIRECTS:
            location = response["Location"]
            parts = urlsplit(location)
            if parts.scheme or parts.netloc or location.startswith(("//", "/\\", "\\")):
                failures.append(f"{describe(payload)}: redirected off the site to {location!r}")
        web.logout()
    assert not failures, "\n".join(failures)


def test_password_reset_form(web, world):
    reset = reverse("password_reset")
    Checker(web).run(PAYLOADS, lambda p: web.post(reset, {"email": p})).check()
    for message in mail.outbox:  # only the real account's address can get an email
        assert message.to == [world.admin.user.email]


# ------------------------------------------------------------------------------ invitations


def _invitation_page(world, index):
    membership = MembershipFactory(trust=world.trust, user__email=f"invitee{index}@ashby.nhs.uk", user__password="!")
    token = invitation_token(invitation_create(membership=membership, invited_by=world.admin.user))
    return reverse("invitation_accept", kwargs={"token": token})


def test_invitation_accept_form_with_payload_names(web, world):
    counter = iter(range(10_000))

    def prepare():
        web.logout()
        return _invitation_page(world, next(counter))

    def send(payload, page):
        return web.post(page, {"full_name": payload, "new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD})

    Checker(web).run(PAYLOADS, send, prepare=prepare, show=[url("profile")]).check()


def test_invitation_accept_form_with_payload_passwords(web, world):
    counter = iter(range(10_000))

    def prepare():
        web.logout()
        return _invitation_page(world, next(counter))

    def send(payload, page):
        return web.post(page, {"full_name": "Invited Person", "new_password1": payload, "new_password2": payload})

    Checker(web).run(PAYLOADS, send, prepare=prepare).check()


# ------------------------------------------------------------------------------ people


def _invite_data(**changes):
    data = {
        "email": "invited.person@ashby.nhs.uk",
        "full_name": "Invited Person",
        "professional_group": "clinical",
        "level": "operational",
        "role": "consultant",
        "directorate": "",
        "receives_board_report": "",
    }
    return {**data, **changes}


def test_invite_form_with_payload_names(web, world):
    signed_in(web, world.admin)
    invite = url("person_invite")
    send = lambda p: web.post(invite, _invite_data(full_name=p))  # noqa: E731
    Checker(web).run(PAYLOADS, send, show=[f"{url('people_list')}?q=invited.person"]).check()


def test_invite_form_with_payload_emails(web, world):
    signed_in(web, world.admin)
    invite = url("person_invite")
    send = lambda p: web.post(invite, _invite_data(email=p))  # noqa: E731
    Checker(web).run(PAYLOADS, send).check()


def test_invite_form_refuses_payloads_in_its_choices(web, world):
    signed_in(web, world.admin)
    invite = url("person_invite")
    choices = ("professional_group", "level", "role", "directorate")
    send = lambda p: web.post(invite, _invite_data(**dict.fromkeys(choices, p)))  # noqa: E731
    Checker(web).run(PAYLOADS, send, must_refuse=True).check()


def test_invitation_email_escapes_a_payload_name(web, world, django_capture_on_commit_callbacks):
    signed_in(web, world.admin)
    html_payloads = [p for p in PAYLOADS if "<" in p and len(p) <= 200]
    for index, payload in enumerate(html_payloads):
        with django_capture_on_commit_callbacks(execute=True):
            response = web.post(
                url("person_invite"), _invite_data(email=f"mailed{index}@ashby.nhs.uk", full_name=payload)
            )
        assert response.status_code == 302, describe(payload)
    assert len(mail.outbox) == len(html_payloads)
    for message, payload in zip(mail.outbox, html_payloads, strict=True):
        html = message.alternatives[0][0]
        assert not html_problems(html, [payload]), (describe(payload), html_problems(html, [payload]))
        assert "\n" not in message.subject


def test_people_search(web, world):
    signed_in(web, world.admin)
    people = url("people_list")
    Checker(web).run(PAYLOADS, lambda p: web.get(people, {"q": p})).check()


@pytest.mark.parametrize("query", ["\x00", "abc\x00def"], ids=["nul", "nul-inside"])
def test_people_search_with_a_nul_character_is_not_a_server_error(web, world, query):
    """PostgreSQL refuses NUL in a query parameter: the search must not pass it through."""
    signed_in(web, world.admin)
    response = web.get(url("people_list"), {"q": query})
    assert response.status_code < 500, f"?q={query!r} answered {response.status_code}"


# ------------------------------------------------------------------------------ objectives

TEXT_FIELDS = ("title", "description", "success_measure")
CHOICE_FIELDS = ("theme", "directorate", "clinical_lead", "managerial_lead")


def _objective_data(**changes):
    data = {
        "ref": "",
        "title": "A shared objective",
        "description": "Worded by both sides.",
        "theme": "dialogue",
        "directorate": "",
        "clinical_lead": "",
        "managerial_lead": "",
        "success_measure": "Both sides say so.",
        "target_date": "",
    }
    return {**data, **changes}


def test_objective_create_form_with_payload_texts(web, world):
    signed_in(web, world.md)
    new = url("objective_create")
    send = lambda p: web.post(new, _objective_data(**dict.fromkeys(TEXT_FIELDS, p)))  # noqa: E731
    Checker(web).run(PAYLOADS, send, show=[url("objective_list"), url("trust_home")]).check()


def test_objective_create_form_with_payload_refs(web, world):
    signed_in(web, world.md)
    new = url("objective_create")
    Checker(web).run(PAYLOADS, lambda p: web.post(new, _objective_data(ref=p))).check()


def test_objective_create_form_refuses_payloads_in_its_choices_and_date(web, world):
    signed_in(web, world.md)
    new = url("objective_create")
    send = lambda p: web.post(new, _objective_data(target_date=p, **dict.fromkeys(CHOICE_FIELDS, p)))  # noqa: E731
    Checker(web).run([p for p in PAYLOADS if p.strip()], send, must_refuse=True).check()


def test_objective_edit_form_with_payload_texts(web, world):
    signed_in(web, world.md)
    edit = url("objective_edit", ref=world.draft.ref)
    send = lambda p: web.post(edit, _objective_data(**dict.fromkeys(TEXT_FIELDS, p)))  # noqa: E731
    Checker(web).run(PAYLOADS, send, show=[url("objective_list")]).check()


def test_objective_edit_form_with_payload_target_dates(web, world):
    signed_in(web, world.md)
    edit = url("objective_edit", ref=world.draft.ref)
    send = lambda p: web.post(edit, _objective_data(target_date=p))  # noqa: E731
    Checker(web).run(PAYLOADS, send, show=[url("trust_home")], show_all=True).check()


def test_objective_list_filters(web, world):
    signed_in(web, world.md)
    objectives = url("objective_list")
    send = lambda p: web.get(objectives, dict.fromkeys(("status", "theme", "directorate", "lead"), p))  # noqa: E731
    Checker(web).run(PAYLOADS, send).check()


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999999999999999999", "1e3", "\uff19", "9" * 5000])
def test_objective_list_page_number_junk_is_not_a_server_error(web, world, page):
    signed_in(web, world.md)
    assert web.get(url("objective_list"), {"page": page}).status_code in (200, 404)


# ------------------------------------------------------------------------------ rating


@pytest.fixture
def open_round(world):
    """This month's round, open from yesterday to tomorrow."""
    today = timezone.localdate()
    round_ = round_get_or_create(trust=world.trust, period=month_start(today))
    with scopes_disabled():
        round_.opens_on, round_.closes_on = today - timedelta(days=1), today + timedelta(days=1)
        round_.save()
    return round_


def _rating_data(objective, **changes):
    data = {f"score_{objective.pk}": "3", f"comment_{objective.pk}": "Fine.", "quality": "4", "outlook": "same"}
    return {**data, **changes}


def test_rating_comment_with_payloads(web, world, open_round):
    signed_in(web, world.clin)
    rate = url("rate")
    field = f"comment_{world.agreed.pk}"
    Checker(web).run(PAYLOADS, lambda p: web.post(rate, _rating_data(world.agreed, **{field: p}))).check()


def test_rating_form_refuses_payloads_in_its_scales(web, world, open_round):
    signed_in(web, world.clin)
    rate = url("rate")
    fields = [f"score_{world.agreed.pk}", "quality", "outlook", "category", *(f"statement_{k}" for k in STATEMENTS)]
    send = lambda p: web.post(rate, _rating_data(world.agreed, **dict.fromkeys(fields, p)))  # noqa: E731
    Checker(web).run([p for p in PAYLOADS if p.strip()], send, must_refuse=True).check()


# ------------------------------------------------------------------------------ rounds and settings


def test_round_create_form_with_payload_periods(web, world):
    signed_in(web, world.admin)
    rounds = url("round_list")
    send = lambda p: web.post(rounds, {"period": p})  # noqa: E731
    Checker(web).run(PAYLOADS, send, show=[url("trust_home"), url("dashboard")], show_all=True).check()


@pytest.mark.parametrize("period", ["0999-12", "+202-01", "0001-01"])
def test_round_create_form_refuses_a_month_before_year_1000(web, world, period):
    """period_parse accepts these and the round is created, after which every page that links
    to the round (the rounds list, the trust home) fails to build its URL."""
    signed_in(web, world.admin)
    response = web.post(url("round_list"), {"period": period})
    assert web.get(url("round_list")).status_code == 200
    assert web.get(url("trust_home")).status_code == 200
    assert response.status_code == 200 and form_errors(response), "a round for a month before 1000 was created"


def test_round_edit_form_with_payload_dates(web, world, open_round):
    signed_in(web, world.admin)
    edit = url("round_edit", period=open_round.slug)
    send = lambda p: web.post(edit, {"opens_on": p, "closes_on": p})  # noqa: E731
    Checker(web).run(PAYLOADS, send, show=[url("rate"), url("trust_home")], show_all=True).check()
    for field in ("opens_on", "closes_on"):
        dates = {"opens_on": f"{open_round.opens_on:%Y-%m-%d}", "closes_on": f"{open_round.closes_on:%Y-%m-%d}"}
        dated = [p for p in PAYLOADS if p[:1].isdigit()]
        send = lambda p, field=field, dates=dates: web.post(edit, {**dates, field: p})  # noqa: E731
        Checker(web).run(dated, send, show=[url("rate")], show_all=True).check()


SETTINGS = {
    "min_group_size": "5",
    "watch_gap": "0.50",
    "divergent_gap": "1.00",
    "q_threshold": "0.050",
    "round_opens_day": "1",
    "round_closes_day": "14",
}


def _numeric(payload):
    try:
        Decimal(payload.strip())
    except (InvalidOperation, ValueError):
        return False
    return True


def test_analysis_settings_form_with_payload_numbers(web, world):
    signed_in(web, world.admin)
    page = url("analysis_settings")
    Checker(web).run(PAYLOADS, lambda p: web.post(page, dict.fromkeys(SETTINGS, p))).check()
    numbers = [p for p in PAYLOADS if _numeric(p)]
    for field in SETTINGS:
        send = lambda p, field=field: web.post(page, {**SETTINGS, field: p})  # noqa: E731
        Checker(web).run(numbers, send, show_all=True).check()


def test_profile_form(web, world):
    signed_in(web, world.clin)
    profile = url("profile")
    Checker(web).run(PAYLOADS, lambda p: web.post(profile, {"receives_reminders": p})).check()


# ------------------------------------------------------------------------------ dashboard picker and URLs


@pytest.mark.parametrize(
    "query",
    [{"round": "{p}", "directorate": "{p}"}, {"round": "2025-06", "directorate": "{p}"}],
    ids=["round-and-directorate", "directorate"],
)
def test_dashboard_picker(web, world, query):
    signed_in(web, world.md)
    dashboard = url("dashboard")
    send = lambda p: web.get(dashboard, {key: value.format(p=p) for key, value in query.items()})  # noqa: E731
    Checker(web).run(PAYLOADS, send).check()


@pytest.mark.parametrize(
    "query",
    [
        {"round": " 2025-06"},
        {"round": "2025-+6"},
        {"round": "2025-\u0660\u0666"},
        {"round": "2025-06", "directorate": "\u00b2"},
        {"round": "2025-06", "directorate": "9" * 5000},
    ],
    ids=["leading-space", "plus-sign", "arabic-indic-digits", "superscript-two", "5000-digits"],
)
def test_dashboard_picker_odd_values_are_not_a_server_error(web, world, query):
    signed_in(web, world.md)
    response = web.get(url("dashboard"), query, follow=True)
    assert response.status_code < 500, f"{query} answered {response.status_code}"


PATHS = [
    "/trusts/{p}/",
    "/trusts/RAA/rate/{p}/",
    "/trusts/RAA/objectives/{p}/",
    "/trusts/RAA/objectives/{p}/edit/",
    "/trusts/RAA/reminders/opt-out/{p}/",
    "/invitations/{p}/",
]


@pytest.mark.parametrize("path", PATHS)
def test_payloads_in_url_paths_are_not_found_not_server_errors(web, world, path):
    signed_in(web, world.admin)
    checker = Checker(web)

    def send(payload):
        quoted = quote(payload[:2000], safe="")
        return web.get(path.format(p=quoted))

    checker.run([p for p in PAYLOADS if p], send).check()


@pytest.mark.parametrize(
    "path",
    [
        "/trusts/RAA/rate/2026-13/",
        "/trusts/RAA/rate/0000-01/",
        "/trusts/RAA/rounds/2026-13/edit/",
        "/trusts/RAA/rounds/0000-00/responses/",
        "/trusts/RAA/dashboard/2026-13/",
        "/trusts/RAA/dashboard/9999-12/",
        "/trusts/RAA/dashboard/2025-06/directorates/99999999999999999999/",
        "/trusts/RAA/reports/2026-13.csv",
        "/trusts/RAA/reports/0000-01-pulse.csv",
        "/trusts/RAA/reports/2026-00/",
        "/trusts/RAA/reports/2026-13.pdf",
        "/trusts/RAA/objectives/obj-01/",
        "/trusts/RAA/objectives/OBJ_01/edit/",
        "/trusts/RAA/objectives/OBJ-01%20/",
        "/trusts/RAA/objectives/%F0%9F%98%80/",
        "/trusts/RAA/people/99999999999999999999/invite/",
        "/trusts/raa/",
        "/trusts/RAA%00/",
        "/invitations/%00/",
    ],
)
def test_junk_in_url_paths_is_not_found(web, world, path):
    signed_in(web, world.admin)
    for method in (web.get, web.post):
        response = method(path)
        assert response.status_code in (404, 405, 410) or (response.status_code == 302 and path == "/trusts/raa/"), (
            f"{method.__name__.upper()} {path} answered {response.status_code}"
        )


def test_every_member_page_still_works_after_the_payload_runs(web, world):
    """The baseline: the pages the checks above follow exist and answer 200 for their roles."""
    with scopes_disabled():
        assert Membership.objects.count() == 4
    for membership, names in (
        (world.admin, ["people_list", "person_invite", "round_list", "analysis_settings", "people_import"]),
        (world.md, ["objective_list", "objective_create", "dashboard", "trust_home"]),
        (world.clin, ["rate", "profile"]),
    ):
        signed_in(web, membership)
        for name in names:
            assert web.get(url(name)).status_code == 200, name
        web.logout()
