"""Issue #23, the quarantine: a flagged comment (an NHS number, a member's full name, a mobile
number) is shown on no page and in no download for any role until a reviewer publishes or
redacts it; a benign comment still reaches the objective page; the rating page warns the rater
(never blocking the save); both import paths screen what they write."""

import io
import os

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from surveys.models import CommentDecision, CommentReview, Rating
from surveys.services.comment_review import comment_screen, review_decide
from surveys.services.ratings import Answer, ratings_save
from tests.factories import MembershipFactory
from tests.surveys.helpers import stored_rating

pytestmark = pytest.mark.django_db

FLAGGED = "Patient 943 476 5919 waited nine hours; Priya Raman says ring her on 07700 900123."
PIECES = ("943 476 5919", "Priya Raman", "07700 900123", "waited nine hours")
BENIGN = "Rota meetings have improved a lot since the autumn."
REDACTED = "Patient [removed] waited nine hours; [removed] says ring her on [removed]."


def rate(round_, objective, member, score, comment=""):
    """A stored rating, screened as every write path screens it."""
    rating = stored_rating(round_, objective, member, score, comment)
    with scope(trust=round_.trust):
        comment_screen(rating=rating)
    return rating


@pytest.fixture
def people(trust, agreed_objective):
    """10 consultants and 10 managers (one of them Priya Raman), a medical director, an
    administrator; OBJ-01 agreed."""
    return {
        "consultants": [MembershipFactory(trust=trust) for _ in range(10)],
        "managers": [MembershipFactory(trust=trust, directorate_manager=True) for _ in range(9)]
        + [MembershipFactory(trust=trust, directorate_manager=True, user__full_name="Priya Raman")],
        "md": MembershipFactory(trust=trust, medical_director=True),
        "admin": MembershipFactory(trust=trust, administrator=True),
        "objective": agreed_objective(ref="OBJ-01"),
    }


@pytest.fixture
def rated_february(people, february_round):
    objective = people["objective"]
    for i, member in enumerate(people["consultants"]):
        comment = FLAGGED if i == 0 else BENIGN if i == 1 else ""
        rate(february_round, objective, member, 1 + i % 3, comment)
    for i, member in enumerate(people["managers"]):
        rate(february_round, objective, member, 3 + i % 3)
    return february_round


def everything_seen(client):
    """Every page and download that could carry a February comment, as one text."""
    pages = [
        reverse("objective_detail", args=["RAA", "OBJ-01"]),
        reverse("dashboard", args=["RAA"]),
        reverse("dashboard_period", args=["RAA", "2026-02"]),
        reverse("trust_home", args=["RAA"]),
    ]
    texts = []
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        texts.append(response.content.decode())
    for name in ("report_csv", "report_pulse_csv"):
        response = client.get(reverse(name, args=["RAA", "2026-02"]))
        assert response.status_code == 200
        texts.append(b"".join(response.streaming_content).decode())
    return "\n".join(texts)


def test_the_flagged_comment_is_held_for_review(rated_february, unscoped):
    review = CommentReview.objects.get()
    assert review.decision == CommentDecision.PENDING
    assert [f["kind"] for f in review.found] == ["nhs_number", "member_name", "phone"]
    assert review.rating.comment == FLAGGED  # stored as typed


@pytest.mark.parametrize("role", ["md", "consultant", "admin", "manager"])
def test_a_flagged_comment_is_shown_nowhere_until_reviewed(rated_february, people, login, role, client):
    member = {"consultant": people["consultants"][5], "manager": people["managers"][0]}.get(role) or people[role]
    login(member)
    seen = everything_seen(client)
    assert BENIGN in seen  # the comment threshold is met: the benign comment reaches the page
    for piece in PIECES:
        assert piece not in seen


def test_the_writer_does_not_see_it_published_either(rated_february, people, login, client):
    login(people["consultants"][0])
    seen = everything_seen(client)
    assert "943 476 5919" not in seen


@pytest.mark.parametrize("decision", [CommentDecision.PUBLISH, CommentDecision.REDACT, CommentDecision.WITHHOLD])
def test_the_decision_says_how_the_comment_is_shown(rated_february, people, login, client, decision):
    with scopes_disabled():
        review = CommentReview.objects.select_related("rating__round").get()
    review_decide(review=review, by=people["admin"], decision=decision)
    login(people["md"])
    page = client.get(reverse("objective_detail", args=["RAA", "OBJ-01"])).content.decode()
    assert BENIGN in page
    if decision == CommentDecision.PUBLISH:
        assert FLAGGED in page
    elif decision == CommentDecision.REDACT:
        assert REDACTED in page and "943 476 5919" not in page and "Priya Raman" not in page
    else:
        assert "waited nine hours" not in page
    with scopes_disabled():
        assert Rating.objects.get(comment_review=review).comment == FLAGGED  # never edited


def test_below_the_comment_threshold_even_a_published_comment_stays_hidden(people, february_round, login, client):
    objective = people["objective"]
    for member in people["consultants"][:9]:
        rate(february_round, objective, member, 3, BENIGN)
    for member in people["managers"]:
        rate(february_round, objective, member, 3)
    login(people["md"])
    assert BENIGN not in client.get(reverse("objective_detail", args=["RAA", "OBJ-01"])).content.decode()


# --- the rating page ------------------------------------------------------------------------------


def test_the_rating_page_warns_after_saving_and_never_blocks(trust, people, march_round, login, client, unscoped):
    member = people["consultants"][0]
    login(member)
    url = reverse("rate", args=["RAA"])
    objective = people["objective"]
    response = client.post(url, {f"score_{objective.pk}": "3", f"comment_{objective.pk}": FLAGGED})
    assert response.status_code == 302
    rating = Rating.objects.get(rater=member, round=march_round)
    assert rating.score == 3 and rating.comment == FLAGGED
    assert rating.comment_review.decision == CommentDecision.PENDING
    page = client.get(url).content.decode()
    assert "This looks like an NHS number — please remove patient details." in page
    assert "This names someone in the trust" in page
    assert "This looks like a phone, extension or bleep number" in page
    assert 'data-testid="comment-warning"' in page
    # Edited to something harmless: the review goes, and so does the warning.
    client.post(url, {f"score_{objective.pk}": "3", f"comment_{objective.pk}": BENIGN})
    assert not CommentReview.objects.exists()
    assert 'data-testid="comment-warning"' not in client.get(url).content.decode()


def test_ratings_save_keeps_a_decision_when_the_comment_is_unchanged(trust, people, march_round, unscoped):
    member, objective = people["consultants"][0], people["objective"]
    ratings_save(round=march_round, membership=member, answers={objective.pk: Answer(3, FLAGGED)})
    review = CommentReview.objects.select_related("rating__round").get()
    review_decide(review=review, by=people["admin"], decision=CommentDecision.REDACT)
    ratings_save(round=march_round, membership=member, answers={objective.pk: Answer(4, FLAGGED)})
    assert CommentReview.objects.get().decision == CommentDecision.REDACT
    changed = FLAGGED.replace("Priya Raman", "she")
    ratings_save(round=march_round, membership=member, answers={objective.pk: Answer(4, changed)})
    review = CommentReview.objects.get()
    assert review.decision == CommentDecision.PENDING and review.decided_by is None
    assert [f["kind"] for f in review.found] == ["nhs_number", "phone"]
    ratings_save(round=march_round, membership=member, answers={objective.pk: Answer(4, "")})
    assert not CommentReview.objects.exists()


# --- imports --------------------------------------------------------------------------------------


def import_file(tmp_path, rows):
    path = tmp_path / "ratings.csv"
    path.write_text(
        "period,objective_ref,rater_email,score,comment\r\n" + "".join(f"{row}\r\n" for row in rows), encoding="utf-8"
    )
    call_command("import_ratings", "RAA", str(path), stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture(params=["copy", "python"])
def import_path(request, monkeypatch):
    """Both import paths: on PostgreSQL the COPY one, and the Python one (SQLite's) forced. The COPY
    case is left out only on a local SQLite run; where services are required (CI, REQUIRE_SERVICES=1)
    the database is PostgreSQL (tests/test_services.py), so there it always runs."""
    if request.param == "copy" and connection.vendor != "postgresql" and os.environ.get("REQUIRE_SERVICES") != "1":
        pytest.skip("the COPY path is PostgreSQL's (run with DATABASE_URL=postgres://... to include it)")
    if request.param == "python":
        monkeypatch.setattr(connection, "vendor", "sqlite")
    return request.param


def test_imports_screen_the_comments_they_write(trust, people, mid_march, tmp_path, login, client, import_path):
    emails = [m.user.email for m in people["consultants"]] + [m.user.email for m in people["managers"]]
    rows = [
        f'2026-01,OBJ-01,{email},3,"{FLAGGED if i == 0 else BENIGN if i == 1 else ""}"'
        for i, email in enumerate(emails)
    ]
    import_file(tmp_path, rows)
    with scopes_disabled():
        review = CommentReview.objects.select_related("rating__rater__user").get()
        assert review.rating.rater.user.email == emails[0] and review.decision == CommentDecision.PENDING
    # Re-importing changes nothing; changing the comment is screened afresh.
    import_file(tmp_path, rows)
    with scopes_disabled():
        assert CommentReview.objects.get().pk == review.pk
    rows[0] = f"2026-01,OBJ-01,{emails[0]},3,All fine now."
    rows[1] = f"2026-01,OBJ-01,{emails[1]},3,Ask Priya Raman."
    import_file(tmp_path, rows)
    with scopes_disabled():
        [review] = CommentReview.objects.select_related("rating__rater__user")
        assert review.rating.rater.user.email == emails[1]
