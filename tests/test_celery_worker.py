"""Tasks through a real Celery worker and the configured broker (Redis in CI, the embedded
file broker locally): the same path beat and the web process use in production."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone
from django_scopes import scopes_disabled

from partnership.celery import app
from partnership.models import Invitation
from partnership.services.invitations import invitation_create
from partnership.tasks import invitations_expire_task
from tests.factories import InvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    app.control.purge() if app.conf.worker_enable_remote_control else None
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker
    app.conf.task_always_eager = True


def wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_the_housekeeping_task_runs_in_a_worker(worker):
    stale = InvitationFactory(expires_at=timezone.now() - timedelta(hours=1))

    invitations_expire_task.delay()

    def expired():
        with scopes_disabled():
            return Invitation.objects.get(pk=stale.pk).status == "expired"

    assert wait_for(expired), f"the worker did not run the task via {app.conf.broker_url.split('@')[-1]}"


def test_an_invitation_email_is_sent_by_the_worker_after_commit(worker):
    membership = MembershipFactory(user__password="!unusable")

    invitation = invitation_create(membership=membership)  # autocommit: queued at once

    assert wait_for(lambda: len(mail.outbox) == 1), "the invitation email was not sent by the worker"
    assert mail.outbox[0].to == [membership.user.email]
    with scopes_disabled():
        assert Invitation.objects.get(pk=invitation.pk).sent_at is not None
