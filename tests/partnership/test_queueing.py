"""Queueing after commit that survives a broker outage, and the invitations catch-up that sends
what could not be queued (issue #8). The same with a real Redis stopped: tests/test_redis_down.py."""

import logging
import smtplib
from datetime import timedelta

import pytest
import redis.exceptions
from django.core import mail
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from partnership.models import Invitation
from partnership.queueing import PUBLISH_RETRY_POLICY, enqueue_on_commit
from partnership.schedules import EVERY_15_MINUTES, PERIODIC_TASKS
from partnership.services.invitations import invitation_create, invitations_send_due
from partnership.tasks import invitation_send_task, invitations_send_due_task
from tests.factories import InvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


class FakeTask:
    """Records apply_async calls; raises `error` instead, if given."""

    name = "tests.fake_task"

    def __init__(self, error=None):
        self.error = error
        self.calls = []

    def apply_async(self, args=None, kwargs=None, **options):
        if self.error is not None:
            raise self.error
        self.calls.append((args, kwargs, options))


# --- enqueue_on_commit ------------------------------------------------------------------------


def test_the_task_is_published_only_after_the_commit(django_capture_on_commit_callbacks):
    task = FakeTask()

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            enqueue_on_commit(task, 7, "v2", flag=True)
            assert task.calls == []

    assert task.calls == [((7, "v2"), {"flag": True}, {"retry": True, "retry_policy": PUBLISH_RETRY_POLICY})]


def test_nothing_is_published_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    task = FakeTask()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            enqueue_on_commit(task, 7)
            raise RuntimeError("the request failed")

    assert task.calls == []


def test_the_publish_gives_up_fast_rather_than_holding_the_request():
    # One quick retry after reconnecting (a connection left stale by a Redis restart), no waiting.
    assert PUBLISH_RETRY_POLICY["max_retries"] == 1
    assert PUBLISH_RETRY_POLICY["interval_start"] == 0
    assert PUBLISH_RETRY_POLICY["interval_max"] <= 0.5


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        redis.exceptions.ConnectionError("Connection closed by server."),
        redis.exceptions.TimeoutError("Timeout connecting to server"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
)
def test_an_unreachable_broker_is_logged_and_the_request_goes_on(error, django_capture_on_commit_callbacks, caplog):
    task = FakeTask(error=error)

    with caplog.at_level(logging.WARNING, logger="partnership.queueing"):
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_on_commit(task, 42)

    assert len(caplog.records) == 1
    assert "Could not queue tests.fake_task(42,)" in caplog.records[0].getMessage()


def test_other_errors_are_not_hidden(django_capture_on_commit_callbacks):
    with pytest.raises(TypeError), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(FakeTask(error=TypeError("a bug")), 42)


# --- invitations: broker down, then the catch-up --------------------------------------------


def later(minutes=3):
    return timezone.now() + timedelta(minutes=minutes)


def test_an_invitation_that_could_not_be_queued_is_sent_once_by_the_catch_up(
    monkeypatch, django_capture_on_commit_callbacks, unscoped
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(invitation_send_task, "apply_async", broker_down)
    membership = MembershipFactory(user__password="!unusable")

    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(membership=membership)

    assert Invitation.objects.get(pk=invitation.pk).sent_at is None
    assert mail.outbox == []
    monkeypatch.undo()

    assert invitations_send_due(now=later()) == 1
    assert invitations_send_due(now=later()) == 0
    assert [message.to for message in mail.outbox] == [[membership.user.email]]
    assert Invitation.objects.get(pk=invitation.pk).sent_at is not None


def test_the_catch_up_leaves_fresh_invitations_to_their_own_task(unscoped):
    InvitationFactory()

    assert invitations_send_due() == 0
    assert invitations_send_due(now=later(minutes=1)) == 0
    assert invitations_send_due(now=later(minutes=3)) == 1


def test_the_catch_up_skips_sent_used_replaced_and_expired_invitations(unscoped):
    InvitationFactory(sent_at=timezone.now())
    InvitationFactory(status="accepted")
    InvitationFactory(status="revoked")
    InvitationFactory(status="expired")
    InvitationFactory(expires_at=timezone.now() + timedelta(minutes=2))  # expired by the time it runs
    due = InvitationFactory()

    assert invitations_send_due(now=later()) == 1
    assert [message.to for message in mail.outbox] == [[due.membership.user.email]]


def test_a_failed_email_does_not_hold_up_the_others_and_is_tried_again(monkeypatch, unscoped):
    first, second = InvitationFactory(), InvitationFactory()
    real_send = mail.EmailMultiAlternatives.send

    def refuse_first(message, *args, **kwargs):
        if message.to == [first.membership.user.email]:
            raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"No such user")})
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", refuse_first)
    assert invitations_send_due(now=later()) == 1
    assert [message.to for message in mail.outbox] == [[second.membership.user.email]]
    assert Invitation.objects.get(pk=first.pk).sent_at is None

    monkeypatch.undo()
    assert invitations_send_due(now=later()) == 1
    assert len(mail.outbox) == 2


def test_the_catch_up_task_runs_every_15_minutes(unscoped):
    assert PERIODIC_TASKS["Send invitations whose task was lost (every 15 minutes)"] == (
        "partnership.tasks.invitations_send_due_task",
        EVERY_15_MINUTES,
    )
    InvitationFactory(created_at=timezone.now() - timedelta(minutes=5))

    assert invitations_send_due_task.delay().get() == 1
    assert len(mail.outbox) == 1
