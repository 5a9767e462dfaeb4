"""No individual rating or attributable comment in any page, email, CSV, PDF, log line or
admin list (issue #8), tested by searching every output for a planted rater's name.

The demo trust is seeded, then a consultant with a name found nowhere else rates every
objective of the latest closed round (with a distinctive comment on OBJ-01) and answers the
pulse, in that round and in the open one. Then every trust page is fetched (walked from the
URL resolver, for every object each URL can name) as the medical director, the
administrator and another consultant; the board report is built and its email rendered for
every recipient (text, HTML, PDF text, CSV); reminder emails are rendered; the Django admin's
rating and pulse lists are fetched as a superuser; and every log line is captured.

The planted name and email may appear only where people are listed as people, never beside
an answer: the administrator's people list, and the objective forms' lead pickers (which list
the trust's active members). The comment may appear only on the objective's page (the groups
there are large enough), without the name, and on the superuser's admin page of that one
rating, which never shows the rater.
"""

import csv as csv_module
import io
import logging

import pytest
from django.contrib.admin import site as admin_site
from django.core import mail
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_scopes import scope, scopes_disabled
from pypdf import PdfReader

from objectives.models import Objective
from partnership.models import Directorate, Invitation, Membership, Trust, User
from surveys.analysis import latest_closed_round
from surveys.models import PulseResponse, Rating, RatingRound, ReminderLog, ReportDelivery
from surveys.services.ratings import objectives_rateable
from surveys.services.reminders import reminder_message, reminders_opt_out_token
from surveys.services.reports import report_build, report_message
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NAME = "Zebedee Quartermaine"
EMAIL = "zebedee.quartermaine@northgate.example.nhs.uk"
NEEDLES = ("Zebedee", "Quartermaine", "zebedee.quartermaine")
COMMENT = "The marmalade protocol was shelved without asking the wards"
COMMENT_NEEDLE = "marmalade protocol"
VIEWERS = {
    "medical_director": "md@northgate.example.nhs.uk",
    "administrator": "admin@northgate.example.nhs.uk",
    "consultant": "consultant1@northgate.example.nhs.uk",
}
# Pages that list people as people (not answers): the planted name may be on them.
PEOPLE_DIRECTORIES = {
    "people_list",
    "objective_create",
    "objective_edit",
    "comment_reviewers",
}  # lists of people, no answer
# Admin lists of people as people: the name is expected there (never beside an answer).
ADMIN_PEOPLE_LISTS = {User, Membership, Invitation}
# Loggers of the test tools (factory_boy logs the arguments it builds people with).
TEST_TOOL_LOGGERS = ("factory", "faker")
POST_ONLY = {"person_reinvite", "people_import_confirm", "objectives_import_confirm"}


def _trust_url_names():
    names = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and (prefix + str(p.pattern)).startswith("trusts/") and p.name:
                names.append(p.name)

    walk(get_resolver().url_patterns)
    return sorted(set(names) - POST_ONLY)


def _url_args(name):
    return get_resolver().reverse_dict.getlist(name)[0][0][0][1]


@pytest.fixture
def demo(caplog):
    """The seeded demo trust with the planted rater's answers."""
    caplog.set_level(logging.DEBUG)
    call_command("seed_demo", allow_production=True, stdout=io.StringIO(), stderr=io.StringIO())
    trust = Trust.objects.get(code="RNG")
    with scope(trust=trust):
        medicine = Directorate.objects.get(name="Medicine")
        planted = MembershipFactory(trust=trust, directorate=medicine, user__full_name=NAME, user__email=EMAIL)
        closed = latest_closed_round(trust)
        current = RatingRound.objects.order_by("-period").first()
        assert current.is_open and closed.pk != current.pk
        for round_, comment in ((closed, COMMENT), (current, "")):
            for objective in objectives_rateable(planted):
                Rating.objects.create(
                    trust=trust,
                    round=round_,
                    objective=objective,
                    rater=planted,
                    score=1,
                    comment=comment if objective.ref == "OBJ-01" else "",
                    professional_group=planted.professional_group,
                    level=planted.level,
                    directorate=medicine,
                )
            PulseResponse.objects.create(
                trust=trust,
                round=round_,
                rater=planted,
                quality=1,
                outlook="deteriorate",
                category="unresolved",
                professional_group=planted.professional_group,
                level=planted.level,
                directorate=medicine,
            )
    report = report_build(round=closed)  # after the planted answers: its pages, PDF and email are checked
    return {"trust": trust, "planted": planted, "closed": closed, "current": current, "report": report}


def _app_log_text(caplog):
    """Every captured log line (message and arguments) except the test tools' own."""
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith(TEST_TOOL_LOGGERS)
    )


def _text(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return content.decode("utf-8", errors="replace")


def _check(label, text, *, name_allowed=False, comment_allowed=False):
    """Problems with one output: the planted name or email, or the comment where it may not be,
    or the comment next to the name."""
    problems = []
    lowered = text.lower()
    named = [n for n in NEEDLES if n.lower() in lowered]
    commented = COMMENT_NEEDLE in lowered
    if named and not name_allowed:
        problems.append(f"{label}: names the planted rater ({', '.join(named)})")
    if commented and not comment_allowed:
        problems.append(f"{label}: shows the planted comment")
    if commented and named:
        problems.append(f"{label}: shows the planted comment AND the planted rater's name")
    return problems


def _kwargs_for(name, trust, viewer):
    """Every combination of objects this URL can name (within the trust)."""
    with scopes_disabled():
        values = {
            "trust_code": [trust.code],
            "ref": list(Objective.objects.filter(trust=trust).values_list("ref", flat=True)),
            "period": [r.slug for r in RatingRound.objects.filter(trust=trust)],
            "directorate_id": list(Directorate.objects.filter(trust=trust).values_list("pk", flat=True)),
            "membership_id": list(Membership.objects.filter(trust=trust).values_list("pk", flat=True)[:3]),
            "token": [reminders_opt_out_token(viewer)],
        }
    combos = [{}]
    for arg in _url_args(name):
        combos = [{**combo, arg: value} for combo in combos for value in values[arg]]
    return combos


@pytest.mark.parametrize("role", sorted(VIEWERS))
def test_no_page_attributes_a_rating(role, demo, client, caplog):
    trust, planted = demo["trust"], demo["planted"]
    with scopes_disabled():
        viewer = Membership.objects.select_related("user").get(trust=trust, user__email=VIEWERS[role])
    client.force_login(viewer.user)
    problems, fetched, comment_shown_on, kinds = [], 0, [], set()
    for name in _trust_url_names():
        for kwargs in _kwargs_for(name, trust, viewer):
            url = reverse(name, kwargs=kwargs)
            response = client.get(url)
            fetched += 1
            if response.status_code in (301, 302, 403, 404, 405):
                continue
            assert response.status_code == 200, (url, response.status_code)
            text = _text(response)
            kinds.add(response["Content-Type"].split(";")[0])
            comment_page = name == "objective_detail" and kwargs["ref"] == "OBJ-01"
            problems += _check(
                f"{role} GET {url}", text, name_allowed=name in PEOPLE_DIRECTORIES, comment_allowed=comment_page
            )
            if COMMENT_NEEDLE in text:
                comment_shown_on.append(url)
    for url in (reverse("home"), reverse("my_data"), reverse("my_data") + "?format=json"):
        problems += _check(f"{role} GET {url}", _text(client.get(url)))
    problems += _check(f"{role} log lines", _app_log_text(caplog))
    assert fetched > 100  # the walk really covered the site: pages, CSVs and the board pack PDF
    assert {"text/html", "text/csv", "application/pdf"} <= kinds, kinds
    assert problems == []
    # Comments are shown (only) on the objective's page, for a group large enough.
    assert comment_shown_on == [reverse("objective_detail", args=[trust.code, "OBJ-01"])]
    with scopes_disabled():
        assert Rating.objects.filter(rater=planted, comment=COMMENT).exists()


def test_the_planted_rater_is_found_where_he_may_be(demo, client):
    """The searches work: the name is on his own profile and the administrator's people list."""
    client.force_login(demo["planted"].user)
    assert NAME in client.get(reverse("profile", args=["RNG"])).content.decode()
    assert COMMENT in client.get(reverse("rate_period", args=["RNG", demo["closed"].slug])).content.decode()
    with scopes_disabled():
        admin = Membership.objects.get(user__email=VIEWERS["administrator"]).user
    client.force_login(admin)
    people = client.get(reverse("people_list", args=["RNG"]), {"q": "Quartermaine"}).content.decode()
    assert NAME in people and COMMENT_NEEDLE not in people


def _message_texts(message):
    """Subject, text body, every alternative and every attachment (PDF as its text)."""
    texts = [message.subject, message.body, *(content for content, _ in message.alternatives)]
    for attachment in message.attachments:
        if hasattr(attachment, "get_payload"):
            content, kind = attachment.get_payload(decode=True), attachment.get_content_type()
        else:
            _, content, kind = attachment
        if kind == "application/pdf":
            texts.append("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))
        else:
            texts.append(content.decode("utf-8") if isinstance(content, bytes) else content)
    texts.append(message.message().as_string())  # headers and the raw parts too
    return texts


def test_no_email_attributes_a_rating(demo, caplog):
    trust, planted, current = demo["trust"], demo["planted"], demo["current"]
    report = demo["report"]
    with scopes_disabled():
        deliveries = list(ReportDelivery.objects.filter(report=report))
        board_recipients = {d.email for d in deliveries}
        assert "md@northgate.example.nhs.uk" in board_recipients and EMAIL not in board_recipients
        problems = []
        for delivery in deliveries:
            message = report_message(delivery)
            for text in _message_texts(message):
                problems += _check(f"board report to {delivery.email}", text)
        problems += _check("report snapshot", str(report.data) + report.csv + report.pulse_csv)
        # Reminder emails of the open round, to everyone who rates except the planted rater.
        raters = Membership.objects.filter(trust=trust, is_active=True).exclude(role="administrator")
        ReminderLog.objects.bulk_create(
            ReminderLog(trust=trust, round=current, membership=m, kind="round_open") for m in raters
        )
        reminders = 0
        for row in ReminderLog.objects.filter(round=current).exclude(membership=planted):
            message = reminder_message(row)
            if message is not None:
                reminders += 1
                for text in _message_texts(message):
                    problems += _check(f"reminder to {message.to}", text)
    for message in mail.outbox:
        if EMAIL not in message.to:
            for text in _message_texts(message):
                problems += _check(f"sent email to {message.to}", text)
    problems += _check("log lines", _app_log_text(caplog))
    assert reminders > 10
    assert problems == []


def test_the_admin_lists_answers_without_raters(demo, client, caplog):
    """Every admin list (people lists excepted for the name), and the rating's own page."""
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with scopes_disabled():
        planted_rating = Rating.objects.get(rater=demo["planted"], round=demo["closed"], objective__ref="OBJ-01")
        pulse = PulseResponse.objects.get(rater=demo["planted"], round=demo["closed"])
    pages = [
        (reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist"), m in ADMIN_PEOPLE_LISTS, False)
        for m in admin_site._registry
    ]
    pages += [
        (reverse("admin:surveys_rating_changelist") + "?all=&o=-1", False, False),
        (reverse("admin:surveys_rating_change", args=[planted_rating.pk]), False, True),
        (reverse("admin:surveys_pulseresponse_change", args=[pulse.pk]), False, False),
    ]
    problems, shown = [], []
    for url, name_allowed, comment_allowed in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = _text(response)
        if COMMENT_NEEDLE in text:
            shown.append(url)
        problems += _check(f"admin {url}", text, name_allowed=name_allowed, comment_allowed=comment_allowed)
    problems += _check("log lines", _app_log_text(caplog))
    assert problems == []
    assert shown == [reverse("admin:surveys_rating_change", args=[planted_rating.pk])]


def test_the_results_count_the_planted_answers(demo, client):
    """The planted answers are in the results (so their absence from the outputs above means
    something): the round's CSV counts him among OBJ-01's clinical scores."""
    with scopes_disabled():
        viewer = Membership.objects.get(user__email=VIEWERS["medical_director"]).user
        ratings = Rating.objects.filter(round=demo["closed"], objective__ref="OBJ-01", professional_group="clinical")
        n_clinical = ratings.exclude(score=None).count()
        assert ratings.filter(rater=demo["planted"]).exists()
    client.force_login(viewer)
    csv = b"".join(client.get(reverse("report_csv", args=["RNG", demo["closed"].slug])).streaming_content).decode()
    row = next(r for r in csv_module.DictReader(io.StringIO(csv)) if r["objective_ref"] == "OBJ-01")
    assert row["n_clinical"] == str(n_clinical)
