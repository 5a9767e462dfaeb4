"""Management commands: create_trust, seed_demo, setup_periodic_tasks (DESIGN.md §6)."""

import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_scopes import scopes_disabled

from partnership.demo import people as demo
from partnership.management.commands.setup_periodic_tasks import schedule_collect
from partnership.models import Directorate, Invitation, Membership, Trust, User

PERIODIC_TASKS = schedule_collect()  # every app's schedule

pytestmark = pytest.mark.django_db


def run(*args, **options):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def snapshot():
    with scopes_disabled():
        return (
            list(Trust.objects.order_by("pk").values()),
            list(User.objects.order_by("pk").values()),
            list(Membership.objects.order_by("pk").values()),
            list(Directorate.objects.order_by("pk").values()),
        )


# --- create_trust ---------------------------------------------------------------------------


def test_create_trust_creates_the_trust():
    out = run("create_trust", "RXY", "Riverside NHS Trust")

    assert out.strip() == "Created trust RXY 'Riverside NHS Trust'"
    trust = Trust.objects.get(code="RXY")
    assert (trust.name, trust.timezone, trust.min_group_size) == ("Riverside NHS Trust", "Europe/London", 5)


def test_create_trust_is_idempotent_on_code():
    run("create_trust", "RXY", "Riverside NHS Trust")

    out = run("create_trust", "RXY", "Riverside NHS Trust")

    assert out.startswith("Already exists: trust RXY")
    assert Trust.objects.filter(code="RXY").count() == 1


def test_create_trust_renames_when_the_name_differs():
    run("create_trust", "RXY", "Riverside NHS Trust")

    run("create_trust", "RXY", "Riverside University Hospitals NHS Trust")

    assert Trust.objects.get(code="RXY").name == "Riverside University Hospitals NHS Trust"
    assert Trust.objects.count() == 1


def test_create_trust_upper_cases_the_code():
    run("create_trust", "rxy", "Riverside NHS Trust")

    assert Trust.objects.filter(code="RXY").exists()
    assert run("create_trust", "Rxy", "Riverside NHS Trust").startswith("Already exists: trust RXY")


@pytest.mark.parametrize("code", ["R!", "TOOLONGCODE", "RX", "R X", ""])
def test_create_trust_refuses_an_invalid_code(code):
    with pytest.raises(CommandError, match="A trust code is 3 to 5 capital letters or digits"):
        run("create_trust", code, "Riverside NHS Trust")

    assert not Trust.objects.exists()


def test_create_trust_refuses_a_blank_name():
    with pytest.raises(CommandError, match="A trust name is required"):
        run("create_trust", "RXY", "   ")

    assert not Trust.objects.exists()


def test_create_trust_invites_the_administrator_once(django_capture_on_commit_callbacks, unscoped):
    with django_capture_on_commit_callbacks(execute=True):
        out = run("create_trust", "RXY", "Riverside NHS Trust", admin_email="Admin@Riverside.nhs.uk")

    assert "invited Admin@Riverside.nhs.uk as administrator" in out
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["admin@riverside.nhs.uk"]
    assert "/invitations/" in mail.outbox[0].body
    admin = Membership.objects.get(trust__code="RXY")
    assert (admin.role, admin.user.email) == ("administrator", "admin@riverside.nhs.uk")


def test_create_trust_twice_with_admin_email_sends_nothing_again(django_capture_on_commit_callbacks, unscoped):
    with django_capture_on_commit_callbacks(execute=True):
        run("create_trust", "RXY", "Riverside NHS Trust", admin_email="admin@riverside.nhs.uk")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        out = run("create_trust", "RXY", "Riverside NHS Trust", admin_email="ADMIN@riverside.nhs.uk")

    assert "already an administrator with a password or a pending invitation" in out
    assert mail.outbox == []
    assert Invitation.objects.count() == 1
    assert Membership.objects.count() == 1


@pytest.mark.parametrize("email", ["not-an-email", "admin@", "admin@riverside"])
def test_create_trust_refuses_an_invalid_admin_email_and_creates_nothing(email, unscoped):
    with pytest.raises(CommandError, match="valid email"):
        run("create_trust", "RXY", "Riverside NHS Trust", admin_email=email)

    assert not Trust.objects.exists()
    assert not User.objects.exists()
    assert mail.outbox == []


def test_create_trust_refuses_to_make_an_existing_member_administrator(trust, consultant_membership, unscoped):
    with pytest.raises(CommandError, match="already the trust's consultant"):
        run("create_trust", "RAA", trust.name, admin_email="consultant@ashby.nhs.uk")

    consultant_membership.refresh_from_db()
    assert consultant_membership.role == "consultant"
    assert not Invitation.objects.exists()


# --- seed_demo ---------------------------------------------------------------------------


@pytest.fixture
def seeded(db):
    return run("seed_demo", allow_production=True)


def demo_members():
    with scopes_disabled():
        return Membership.objects.filter(trust__code=demo.TRUST_CODE)


def test_seed_demo_refuses_without_debug_or_allow_production(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--allow-production"):
        run("seed_demo")

    assert not Trust.objects.exists()


def test_seed_demo_runs_with_debug_on(settings):
    settings.DEBUG = True

    run("seed_demo")

    assert demo_members().count() == 60


def test_seed_demo_creates_sixty_people_in_four_directorates(seeded):
    assert demo_members().count() == 60
    with scopes_disabled():
        assert set(Directorate.objects.filter(trust__code=demo.TRUST_CODE).values_list("name", flat=True)) == set(
            demo.DIRECTORATES
        )


@pytest.mark.parametrize(
    "group, level",
    [("clinical", "board"), ("managerial", "board"), ("clinical", "operational"), ("managerial", "operational")],
)
def test_seed_demo_fills_every_davies_group(seeded, group, level):
    assert demo_members().filter(professional_group=group, level=level).count() >= 5


def test_seed_demo_prints_the_demo_logins(seeded):
    assert demo.DEMO_PASSWORD in seeded
    for label, email in demo.DEMO_LOGINS:
        assert label in seeded
        assert email in seeded


@pytest.mark.parametrize("email", [email for _, email in demo.DEMO_LOGINS])
def test_each_demo_login_can_sign_in(seeded, client, email):
    assert client.login(username=email, password=demo.DEMO_PASSWORD)


def test_seed_demo_twice_changes_nothing(seeded):
    before = snapshot()

    out = run("seed_demo", allow_production=True)

    assert "0 created, 0 updated, 60 unchanged" in out
    assert snapshot() == before


def test_seed_demo_keeps_a_password_someone_has_changed(seeded):
    user = User.objects.get(email=demo.DEMO_LOGINS[0][1])
    user.set_password("my-own-new-password-1")
    user.save()

    run("seed_demo", allow_production=True)

    user.refresh_from_db()
    assert user.check_password("my-own-new-password-1")


# --- setup_periodic_tasks ------------------------------------------------------------------


def test_setup_periodic_tasks_creates_every_scheduled_task():
    out = run("setup_periodic_tasks")

    assert (
        out.strip()
        == f"Periodic tasks: {len(PERIODIC_TASKS)} created, 0 updated ({len(PERIODIC_TASKS)} in the schedule)"
    )
    for name, (task, fields) in PERIODIC_TASKS.items():
        periodic = PeriodicTask.objects.get(name=name)
        assert periodic.task == task
        assert periodic.enabled
        for field, value in fields.items():
            assert getattr(periodic.crontab, field) == value


def test_setup_periodic_tasks_schedules_in_london_time():
    run("setup_periodic_tasks")

    assert {str(task.crontab.timezone) for task in PeriodicTask.objects.filter(name__in=PERIODIC_TASKS)} == {
        "Europe/London"
    }


def test_setup_periodic_tasks_is_idempotent():
    run("setup_periodic_tasks")
    tasks, crontabs = PeriodicTask.objects.count(), CrontabSchedule.objects.count()

    out = run("setup_periodic_tasks")

    assert f"0 created, {len(PERIODIC_TASKS)} updated" in out
    assert (PeriodicTask.objects.count(), CrontabSchedule.objects.count()) == (tasks, crontabs)


def test_setup_periodic_tasks_restores_an_edited_schedule():
    run("setup_periodic_tasks")
    name = next(iter(PERIODIC_TASKS))
    PeriodicTask.objects.filter(name=name).update(task="something.else")

    run("setup_periodic_tasks")

    assert PeriodicTask.objects.get(name=name).task == PERIODIC_TASKS[name][0]
