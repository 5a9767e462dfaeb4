"""Sign-off request emails: sent after the proposal commits, to exactly the people whose
sign-off is still needed, once per proposal version, and safe to retry."""

import contextlib

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django_scopes import scopes_disabled

from objectives import services
from objectives.models import SignOffRequest
from objectives.tasks import signoff_requests_send_task
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

DETAIL_LINK = "http://testserver/trusts/RAA/objectives/OBJ-01/"


def recipients():
    return sorted(address for message in mail.outbox for address in message.to)


def emails(*members):
    return sorted(member.user.email for member in members)


@pytest.fixture
def bystanders(trust, other_trust, surgery):
    """People who must never get a trust-wide request: an inactive board member, operational
    staff (the surgery team) and another trust's chief executive."""
    MembershipFactory(
        trust=trust,
        role="board_member",
        level="board",
        professional_group="managerial",
        is_active=False,
        user__email="gone@ashby.nhs.uk",
    )
    MembershipFactory(trust=other_trust, chief_executive=True, user__email="ceo@brook.nhs.uk")


@pytest.fixture
def propose(create, django_capture_on_commit_callbacks):
    """propose(by, **fields): create and propose, running the on-commit email task."""

    def _propose(by, **fields):
        draft = create(by=by, **fields)
        with django_capture_on_commit_callbacks(execute=True):
            return services.objective_propose(objective=draft, by=by)

    return _propose


# --- who is emailed ---------------------------------------------------------------------------


def test_the_medical_directors_proposal_emails_every_managerial_board_member(propose, board, bystanders):
    propose(by=board.md)

    assert recipients() == emails(board.ceo, board.managerial)


def test_the_chief_executives_proposal_emails_every_clinical_board_member(propose, board, bystanders):
    propose(by=board.ceo)

    assert recipients() == emails(board.md, board.clinical)


def test_a_proposal_through_the_page_emails_the_other_side(create, board, login, django_capture_on_commit_callbacks):
    draft = create(by=board.md)
    client = login(board.md)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("objective_propose", kwargs={"trust_code": "RAA", "ref": draft.ref}))

    assert recipients() == emails(board.ceo, board.managerial)


def test_a_clinical_directors_proposal_emails_their_directorate_manager_only(propose, board, surgery, medicine):
    propose(by=surgery.cd, directorate=surgery.directorate, clinical_lead=surgery.cd, managerial_lead=surgery.dm)

    assert recipients() == emails(surgery.dm)


def test_nothing_is_sent_before_the_proposal_commits(create, board, django_capture_on_commit_callbacks):
    draft = create(by=board.md)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.objective_propose(objective=draft, by=board.md)

    assert len(callbacks) == 1
    assert mail.outbox == []


# --- what the email says ------------------------------------------------------------------------


@pytest.fixture
def request_email(propose, board):
    propose(by=board.md, title="Joint job planning")
    return next(message for message in mail.outbox if message.to == [board.ceo.user.email])


def test_the_subject_names_the_objective(request_email):
    assert "OBJ-01" in request_email.subject
    assert "Joint job planning" in request_email.subject


def test_the_text_links_to_the_objective(request_email):
    assert DETAIL_LINK in request_email.body


def test_the_html_links_to_the_objective(request_email):
    html, mimetype = request_email.alternatives[0]

    assert mimetype == "text/html"
    assert f'href="{DETAIL_LINK}"' in html


def test_the_email_says_who_proposed_what_for_which_trust(request_email):
    assert "Maya Desai has proposed a shared objective for Ashby Hospitals NHS Trust" in request_email.body


def test_the_email_says_which_side_the_person_signs_for(request_email):
    assert "You can sign for the managerial side" in request_email.body


# Subject and text body are plain text: "A&E" must not arrive as "A&amp;E".
PLAIN_TITLE = "A&E flow <together>"


def test_the_subject_shows_the_title_as_written(propose, board):
    propose(by=board.md, title=PLAIN_TITLE)

    assert mail.outbox[0].subject == f"Please sign off OBJ-01: {PLAIN_TITLE}"


def test_the_text_body_shows_the_title_as_written(propose, board):
    propose(by=board.md, title=PLAIN_TITLE)

    assert f"OBJ-01 {PLAIN_TITLE}" in mail.outbox[0].body


def test_html_in_the_title_is_escaped_in_the_html_email(propose, board):
    propose(by=board.md, title="<script>alert(1)</script>")
    html, _ = mail.outbox[0].alternatives[0]

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


# --- sent once -------------------------------------------------------------------------------------


def test_running_the_task_again_sends_nothing_more(propose, board):
    objective = propose(by=board.md)

    sent = services.signoff_requests_send(objective_id=objective.pk, version=objective.proposal_version)

    assert sent == 0
    assert len(mail.outbox) == 2


def test_the_catch_up_job_sends_nothing_more(propose, board):
    propose(by=board.md)

    assert services.signoff_requests_send_due() == 0
    assert len(mail.outbox) == 2


def test_the_catch_up_job_sends_requests_whose_task_was_lost(create, board, django_capture_on_commit_callbacks):
    draft = create(by=board.md)
    with django_capture_on_commit_callbacks(execute=False):  # the broker lost the task
        services.objective_propose(objective=draft, by=board.md)

    assert services.signoff_requests_send_due() == 2
    assert services.signoff_requests_send_due() == 0
    assert recipients() == emails(board.ceo, board.managerial)


def test_nothing_is_sent_when_the_objective_is_agreed_before_the_task_runs(
    create, board, django_capture_on_commit_callbacks
):
    draft = create(by=board.md)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.objective_propose(objective=draft, by=board.md)
    services.objective_sign_off(objective=draft, by=board.managerial)

    for callback in callbacks:
        callback()

    assert mail.outbox == []


def test_a_reset_on_edit_sends_a_new_round_of_requests(propose, board, django_capture_on_commit_callbacks):
    objective = services.objective_sign_off(objective=propose(by=board.md), by=board.ceo)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.objective_update(objective=objective, by=board.md, fields={"title": "Reworded"}, confirm_reset=True)

    # Both sides were cleared: everyone who can sign either side is asked, but not the editor.
    assert recipients() == emails(board.clinical, board.ceo, board.managerial)
    assert all("Reworded" in message.subject for message in mail.outbox)


def test_each_proposal_version_has_its_own_requests(propose, board, django_capture_on_commit_callbacks):
    objective = propose(by=board.md)
    with django_capture_on_commit_callbacks(execute=True):
        services.objective_update(objective=objective, by=board.md, fields={"title": "Reworded"}, confirm_reset=True)

    with scopes_disabled():
        versions = sorted(
            SignOffRequest.objects.filter(membership=board.ceo).values_list("proposal_version", flat=True)
        )
    assert versions == [1, 2]


# --- failures and retries -----------------------------------------------------------------------------


def failing_send(*args, **kwargs):
    raise OSError("mail server unreachable")


def test_a_failed_send_releases_the_claim(create, board, monkeypatch, django_capture_on_commit_callbacks):
    draft = create(by=board.md)
    with django_capture_on_commit_callbacks(execute=False):
        objective = services.objective_propose(objective=draft, by=board.md)
    monkeypatch.setattr(EmailMultiAlternatives, "send", failing_send)

    with pytest.raises(OSError):
        services.signoff_requests_send(objective_id=objective.pk, version=objective.proposal_version)

    with scopes_disabled():
        assert not SignOffRequest.objects.filter(sent_at__isnull=False).exists()


def test_a_retry_after_a_failed_send_sends_each_request_exactly_once(
    create, board, monkeypatch, django_capture_on_commit_callbacks
):
    draft = create(by=board.md)
    with django_capture_on_commit_callbacks(execute=False):
        objective = services.objective_propose(objective=draft, by=board.md)
    with monkeypatch.context() as patch:
        patch.setattr(EmailMultiAlternatives, "send", failing_send)
        with pytest.raises(OSError):
            services.signoff_requests_send(objective_id=objective.pk, version=objective.proposal_version)

    assert services.signoff_requests_send(objective_id=objective.pk, version=objective.proposal_version) == 2
    assert services.signoff_requests_send(objective_id=objective.pk, version=objective.proposal_version) == 0
    assert recipients() == emails(board.ceo, board.managerial)


def test_the_task_run_again_after_a_failure_sends_each_request_once(
    create, board, monkeypatch, django_capture_on_commit_callbacks
):
    draft = create(by=board.md)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        objective = services.objective_propose(objective=draft, by=board.md)
    with monkeypatch.context() as patch:
        patch.setattr(EmailMultiAlternatives, "send", failing_send)
        # The failed send releases its claims; whether the eager run re-raises the OSError or the
        # queueing helper logs it, nothing has been sent.
        with contextlib.suppress(OSError):
            callbacks[0]()
    assert recipients() == []

    signoff_requests_send_task.apply(args=(objective.pk, objective.proposal_version))  # the catch-up's run

    assert recipients() == emails(board.ceo, board.managerial)
