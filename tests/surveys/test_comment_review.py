"""Issue #23, the review: who may review (administrators, and members they name), what the
page shows (the comment, what was found, the objective; never the writer, their group,
directorate or a date), the decisions and their log, and the other trust's 404."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django_scopes import scopes_disabled

from surveys.comment_detector import Detector
from surveys.models import CommentDecision, CommentReview, CommentReviewer
from surveys.services.comment_review import comment_text_for_board, is_comment_reviewer, review_decide
from tests.factories import DirectorateFactory, MembershipFactory
from tests.surveys.test_comment_quarantine import FLAGGED, rate

pytestmark = pytest.mark.django_db
URL = reverse("comment_review", args=["RAA"])


def main(page):
    """The page's content, without the header naming the signed-in person and their role."""
    return page.split('<main id="main"')[1].split("</main>")[0]


@pytest.fixture
def flagged(trust, agreed_objective, february_round):
    cardiology = DirectorateFactory(trust=trust, name="Cardiology")
    writer = MembershipFactory(
        trust=trust, directorate=cardiology, user__full_name="Zebedee Quill", user__email="zq@ashby.nhs.uk"
    )
    MembershipFactory(trust=trust, directorate_manager=True, user__full_name="Priya Raman")
    objective = agreed_objective(ref="OBJ-07", title="Job plans agreed on time")
    rating = rate(february_round, objective, writer, 2, FLAGGED)
    with scopes_disabled():
        return CommentReview.objects.select_related("rating__round").get(rating=rating)


def test_administrators_are_reviewers_and_name_others(flagged, admin_membership, consultant_membership, login, client):
    assert is_comment_reviewer(admin_membership) and not is_comment_reviewer(consultant_membership)
    login(admin_membership)
    reviewers = reverse("comment_reviewers", args=["RAA"])
    client.post(reviewers, {"reviewer": consultant_membership.pk, "named": "1"})
    assert is_comment_reviewer(consultant_membership)
    assert consultant_membership.user.full_name in client.get(reviewers).content.decode()
    client.post(reviewers, {"reviewer": consultant_membership.pk, "named": "0"})
    assert not is_comment_reviewer(consultant_membership)
    client.logout()
    login(consultant_membership)
    assert client.get(reviewers).status_code == 403  # only administrators name reviewers


def test_a_consultant_gets_403_and_another_trusts_admin_404(
    flagged, consultant_membership, other_admin_membership, login, client
):
    login(consultant_membership)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"review": flagged.pk, "decision": "publish"}).status_code == 403
    client.logout()
    login(other_admin_membership)
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"review": flagged.pk, "decision": "publish"}).status_code == 404
    with scopes_disabled():
        assert CommentReview.objects.get().decision == CommentDecision.PENDING


def test_the_page_shows_the_comment_and_what_was_found_never_the_writer(
    flagged, admin_membership, consultant_membership, login, client
):
    """A named reviewer's whole page and an administrator's: no member is named on it (reviewers
    are named on a page of their own, with no comment on it)."""
    with scopes_disabled():
        CommentReviewer.objects.create(trust=flagged.trust, membership=consultant_membership)
    login(admin_membership)
    queue = main(client.get(URL).content.decode())
    client.logout()
    login(consultant_membership)
    page = main(client.get(URL).content.decode())
    assert "Comment reviewers</h2>" not in page
    assert "OBJ-07" in page and "Job plans agreed on time" in page
    assert '<mark title="NHS number">943 476 5919</mark>' in page
    assert '<mark title="a member&#x27;s name">Priya Raman</mark>' in page
    assert "Found: NHS number, a member&#x27;s name, phone, extension or bleep number" in page
    for leak in ("Zebedee", "Quill", "zq@ashby", "Cardiology", "clinical", "Consultant", "2026", "February"):
        assert leak not in page, leak
        assert leak not in queue, leak


def test_a_named_reviewer_decides_and_the_administrator_sees_the_log(
    flagged, admin_membership, consultant_membership, login, client
):
    with scopes_disabled():
        CommentReviewer.objects.create(trust=flagged.trust, membership=consultant_membership)
    login(consultant_membership)
    page = client.get(URL).content.decode()
    assert "943 476 5919" in page and 'data-testid="decisions"' not in page  # the log is for administrators
    response = client.post(URL, {"review": flagged.pk, "decision": "redact"})
    assert response.status_code == 302
    with scopes_disabled():
        review = CommentReview.objects.select_related("rating").get()
    assert review.decision == CommentDecision.REDACT and review.decided_by == consultant_membership
    assert review.decided_by_name == consultant_membership.user.full_name and review.decided_at is not None
    assert review.rating.comment == FLAGGED
    assert 'data-testid="no-pending"' in client.get(URL).content.decode()
    client.logout()
    login(admin_membership)
    log = client.get(URL).content.decode().split('data-testid="decisions"')[1]
    assert consultant_membership.user.full_name in log and "OBJ-07" in log
    assert "Publish with the found details removed" in log and "943 476 5919" not in log


def test_review_decide_checks_the_reviewer_and_the_decision(flagged, consultant_membership, admin_membership):
    with pytest.raises(PermissionDenied):
        review_decide(review=flagged, by=consultant_membership, decision=CommentDecision.PUBLISH)
    with pytest.raises(ValidationError):
        review_decide(review=flagged, by=admin_membership, decision="pending")
    other = MembershipFactory(administrator=True)
    with pytest.raises(PermissionDenied):
        review_decide(review=flagged, by=other, decision=CommentDecision.PUBLISH)


def test_comment_text_for_board(flagged, admin_membership):
    rating = flagged.rating
    assert comment_text_for_board(rating, None) == FLAGGED
    assert comment_text_for_board(rating, flagged) is None
    for decision, text in (
        (CommentDecision.PUBLISH, FLAGGED),
        (CommentDecision.REDACT, "Patient [removed] waited nine hours; [removed] says ring her on [removed]."),
        (CommentDecision.WITHHOLD, None),
    ):
        review_decide(review=flagged, by=admin_membership, decision=decision)
        assert comment_text_for_board(rating, flagged) == text


def test_a_reported_rounds_comments_stay_frozen(flagged, admin_membership, login, client):
    from unittest import mock

    from surveys.services.reports import report_build

    with mock.patch("surveys.services.reports.report_pdf", return_value=b"%PDF-1.4 stub"):
        report_build(round=flagged.rating.round)
    with pytest.raises(ValidationError, match="cannot be reviewed"):
        review_decide(review=flagged, by=admin_membership, decision=CommentDecision.PUBLISH)
    login(admin_membership)
    page = client.get(URL).content.decode()
    assert "943 476 5919" not in page and 'data-testid="frozen-waiting"' in page


def test_detector_spans_are_stored_not_the_text(flagged):
    assert all(set(f) == {"kind", "start", "end"} for f in flagged.found)
    found = Detector(member_names=["Priya Raman"]).find(FLAGGED)
    assert [(f.start, f.end) for f in found] == [(f["start"], f["end"]) for f in flagged.found]
