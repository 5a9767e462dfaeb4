"""Issue #8: with Redis stopped, people can still sign in, rate, view dashboards, invite and
propose; the emails that could not be queued go out once, by the catch-up tasks, when Redis is
back. Runs a dedicated redis-server on a free port, stopped and started by the test - the
machine's shared Redis (6379) is never touched."""

import json
import socket
import subprocess
import time
from datetime import timedelta

import pytest
import redis
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from kombu import pools
from kombu.utils.collections import eqhash

from objectives import services as objective_services
from objectives.models import SignOffRequest
from partnership.celery import app
from partnership.models import Invitation, Membership
from partnership.queueing import enqueue_on_commit
from partnership.services.invitations import invitations_send_due
from partnership.tasks import invitations_expire_task
from surveys.models import Rating, RatingRound
from tests.factories import PASSWORD, MembershipFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db(transaction=True)  # so that on_commit callbacks really run

NEW_PERSON = {
    "email": "dr.new@ashby.nhs.uk",
    "full_name": "Dr Nadia New",
    "professional_group": "clinical",
    "level": "operational",
    "role": "consultant",
    "directorate": "",
    "receives_board_report": "",
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DedicatedRedis:
    """A throw-away redis-server on 127.0.0.1:port, no persistence."""

    def __init__(self, port):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)

    def queued(self, queue="celery"):
        """The task names waiting in a queue (Celery's Redis transport keeps a queue as a list)."""
        return [json.loads(raw)["headers"]["task"] for raw in self.client().lrange(queue, 0, -1)]


def _use_the_configured_broker():
    """Make the app fetch its pools again, so the next publish goes to the broker now configured.
    (kombu keeps the pools in a registry keyed by broker, so the shared broker's pool is left
    open there for the tests that come after.)"""
    app._pool = None
    app.amqp._producer_pool = None


def _close_the_pools_of(connection):
    """Close and forget kombu's pools for this broker, so that a later test on the same port
    does not find them closed."""
    key = eqhash(connection)
    for group in (pools.producers, pools.connections):
        pool = dict.pop(group, key, None)
        if pool is not None:
            pool.force_close_all()


@pytest.fixture
def broker(settings):
    """Celery publishes to a dedicated Redis for the test (started), not eagerly; all restored after."""
    server = DedicatedRedis(free_port())
    saved = {
        key: app.conf[key]
        for key in ("broker_url", "broker_write_url", "broker_transport_options", "task_always_eager")
    }
    try:
        server.start()
        settings.CELERY_BROKER_URL = server.url
        settings.CELERY_TASK_ALWAYS_EAGER = False
        app.conf.broker_url = server.url
        app.conf.broker_write_url = None
        app.conf.broker_transport_options = {}  # the embedded broker's folder options are not Redis's
        app.conf.task_always_eager = False
        _use_the_configured_broker()
        with app.connection_for_write() as connection:
            assert connection.as_uri().endswith(f"127.0.0.1:{server.port}/0")
        yield server
    finally:
        server.stop()
        with app.connection_for_write() as connection:
            _close_the_pools_of(connection)
        for key, value in saved.items():
            app.conf[key] = value
        _use_the_configured_broker()


def test_enqueue_on_commit_publishes_to_the_broker_after_commit(broker):
    with transaction.atomic():
        enqueue_on_commit(invitations_expire_task)
        assert broker.queued() == []  # not before the commit

    assert broker.queued() == ["partnership.tasks.invitations_expire_task"]


@pytest.fixture
def people(trust):
    """The Ashby trust's board and staff, and an objective each can rate or propose."""
    with scopes_disabled():
        md = MembershipFactory(trust=trust, medical_director=True, user__email="md@ashby.nhs.uk")
        ceo = MembershipFactory(trust=trust, chief_executive=True, user__email="ceo@ashby.nhs.uk")
        managerial = MembershipFactory(
            trust=trust,
            role="board_member",
            level="board",
            professional_group="managerial",
            user__email="managerial.board@ashby.nhs.uk",
        )
        consultant = MembershipFactory(trust=trust, user__email="consultant@ashby.nhs.uk")
        admin = MembershipFactory(trust=trust, administrator=True, user__email="admin@ashby.nhs.uk")
        agreed = ObjectiveFactory(trust=trust, ref="OBJ-01", status="agreed")
        today = timezone.localdate()
        month = today.replace(day=1)
        RatingRound.objects.create(trust=trust, period=month, opens_on=month, closes_on=month + timedelta(days=40))
    draft = objective_services.objective_create(
        trust=trust,
        by=md,
        ref="OBJ-02",
        title="Joint job planning",
        description="Consultants and managers plan job plans together.",
        theme="dialogue",
        clinical_lead=md,
        managerial_lead=ceo,
        success_measure="Every job plan signed by both.",
    )
    return {
        "md": md,
        "ceo": ceo,
        "managerial": managerial,
        "consultant": consultant,
        "admin": admin,
        "agreed": agreed,
        "draft": draft,
    }


def sign_in(client, membership):
    client.logout()
    response = client.post(reverse("login"), {"username": membership.user.email, "password": PASSWORD})
    assert response.status_code == 302, "sign-in failed"
    return client


def test_the_site_works_with_redis_stopped_and_the_emails_go_out_once_it_is_back(
    client, trust, people, broker, caplog, unscoped
):
    # Redis was up (the pool holds a live connection), then it stops.
    enqueue_on_commit(invitations_expire_task)
    assert broker.queued() == ["partnership.tasks.invitations_expire_task"]
    broker.stop()
    caplog.set_level("WARNING", logger="partnership.queueing")

    # A consultant signs in, rates and looks at the trust home and the dashboard.
    sign_in(client, people["consultant"])
    assert client.get(reverse("trust_home", args=[trust.code])).status_code == 200
    assert client.get(reverse("rate", args=[trust.code])).status_code == 200
    rated = client.post(reverse("rate", args=[trust.code]), {f"score_{people['agreed'].pk}": "4"})
    assert rated.status_code == 302
    assert list(Rating.objects.values_list("objective__ref", "rater_id", "score")) == [
        ("OBJ-01", people["consultant"].pk, 4)
    ]
    assert client.get(reverse("dashboard", args=[trust.code])).status_code == 200

    # An administrator invites a new person: saved, nothing sent, no error page.
    sign_in(client, people["admin"])
    invited = client.post(reverse("person_invite", args=[trust.code]), NEW_PERSON)
    assert invited.status_code == 302
    membership = Membership.objects.get(trust=trust, user__email="dr.new@ashby.nhs.uk")
    invitation = Invitation.objects.get(membership=membership)
    assert (invitation.status, invitation.sent_at) == ("pending", None)

    # The medical director proposes an objective: the sign-off requests are stored unsent.
    sign_in(client, people["md"])
    proposed = client.post(reverse("objective_propose", kwargs={"trust_code": trust.code, "ref": "OBJ-02"}))
    assert proposed.status_code == 302
    requests = SignOffRequest.objects.filter(objective=people["draft"])
    assert sorted(requests.values_list("membership__user__email", "sent_at")) == [
        ("ceo@ashby.nhs.uk", None),
        ("managerial.board@ashby.nhs.uk", None),
    ]

    assert mail.outbox == []
    not_queued = [record.getMessage() for record in caplog.records if record.name == "partnership.queueing"]
    assert len(not_queued) == 2
    assert "invitation_send_task" in not_queued[0] and "signoff_requests_send_task" in not_queued[1]

    # Redis comes back (empty: nothing was queued while it was down).
    broker.start()
    assert broker.queued() == []

    # The catch-up tasks (beat, every 15 minutes) send what could not be queued: once each.
    assert invitations_send_due(now=timezone.now() + timedelta(minutes=3)) == 1
    assert objective_services.signoff_requests_send_due() == 2
    assert sorted(address for message in mail.outbox for address in message.to) == [
        "ceo@ashby.nhs.uk",
        "dr.new@ashby.nhs.uk",
        "managerial.board@ashby.nhs.uk",
    ]
    assert invitations_send_due(now=timezone.now() + timedelta(minutes=3)) == 0
    assert objective_services.signoff_requests_send_due() == 0
    assert len(mail.outbox) == 3
    assert Invitation.objects.get(pk=invitation.pk).sent_at is not None
    assert not SignOffRequest.objects.filter(sent_at__isnull=True).exists()

    # And queueing works again through the same (revived) connection pool.
    sign_in(client, people["admin"])
    again = client.post(reverse("person_invite", args=[trust.code]), {**NEW_PERSON, "email": "dr.two@ashby.nhs.uk"})
    assert again.status_code == 302
    assert broker.queued() == ["partnership.tasks.invitation_send_task"]
