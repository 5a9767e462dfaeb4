"""A person's data (issue #8 item 4): erasure (command and admin action) that keeps the
aggregates unchanged and leaves the person's name and email nowhere in the database; the
export of one person's data (command and the signed-in person's own page); retention."""

import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from axes.models import AccessLog
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.management import CommandError, call_command
from django.db import models
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from objectives.models import SignOff, SignOffRequest
from partnership.models import Invitation, Membership, User
from partnership.schedules import PERIODIC_TASKS
from partnership.services import privacy
from partnership.services.privacy import (
    ERASED_NAME,
    is_erased,
    person_erase,
    person_export,
    retention_purge,
)
from partnership.tasks import retention_purge_task
from surveys.analysis import round_analysis
from surveys.exports import pulse_csv_rows, report_csv_rows
from surveys.models import DivergenceReport, PulseResponse, Rating, ReminderLog, ReportDelivery
from surveys.services.rounds import round_get_or_create
from tests.factories import InvitationFactory, MembershipFactory, ObjectiveFactory, UserFactory

pytestmark = pytest.mark.django_db

NAME = "Ada Quillfeather"
EMAIL = "ada.quillfeather@ashby.nhs.uk"
COMMENT = "Quillfeather thinks the forum is a talking shop"
OTHER_COMMENT = "A colleague's remark about theatre lists"
SEARCHED = ("Quillfeather", "ada.quillfeather")  # the name and the address, in any column


def rate(round_, objective, member, score, comment=""):
    with scopes_disabled():
        return Rating.objects.create(
            trust=round_.trust,
            round=round_,
            objective=objective,
            rater=member,
            score=score,
            comment=comment,
            professional_group=member.professional_group,
            level=member.level,
            directorate_id=member.directorate_id,
        )


def pulse(round_, member, quality):
    with scopes_disabled():
        return PulseResponse.objects.create(
            trust=round_.trust,
            round=round_,
            rater=member,
            quality=quality,
            outlook="same",
            category="tension",
            professional_group=member.professional_group,
            level=member.level,
        )


@pytest.fixture
def world(trust):
    """A trust with six clinicians and six managers who rated one objective in a closed round
    (so both groups are shown), the person to erase among the clinicians, and every kind of
    row that names or points at her."""
    person = MembershipFactory(
        trust=trust, user__full_name=NAME, user__email=EMAIL, receives_board_report=True, medical_director=True
    )
    other = MembershipFactory(trust=trust, user__full_name="Brian Other", user__email="brian.other@ashby.nhs.uk")
    clinicians = [person, other] + [MembershipFactory(trust=trust) for _ in range(4)]
    managers = [MembershipFactory(trust=trust, directorate_manager=True) for _ in range(6)]
    objective = ObjectiveFactory(trust=trust, ref="OBJ-01", status="agreed")
    round_ = round_get_or_create(trust=trust, period=date(2026, 1, 1))
    for i, member in enumerate(clinicians):
        rate(round_, objective, member, 1 + i % 3, COMMENT if member is person else "")
        pulse(round_, member, 2 + i % 2)
    rate(round_, ObjectiveFactory(trust=trust, ref="OBJ-02", status="agreed"), other, 4, OTHER_COMMENT)
    for i, member in enumerate(managers):
        rate(round_, objective, member, 3 + i % 3)
        pulse(round_, member, 4)
    with scopes_disabled():
        invitation = InvitationFactory(membership=person)
        ReminderLog.objects.create(trust=trust, round=round_, membership=person, kind="round_open")
        ReminderLog.objects.create(trust=trust, round=round_, membership=other, kind="round_open")
        # Another month's report (its deliveries hold the address): the January round stays live,
        # so the aggregates below are computed afresh, not read back from a frozen snapshot.
        december = round_get_or_create(trust=trust, period=date(2025, 12, 1))
        report = DivergenceReport.objects.create(
            trust=trust, round=december, period=december.period, data={}, csv="", pulse_csv=""
        )
        ReportDelivery.objects.create(
            trust=trust, report=report, membership=person, email=EMAIL, last_error=f"550 {EMAIL} refused"
        )
        ReportDelivery.objects.create(trust=trust, report=report, membership=other, email=other.user.email)
        signed = ObjectiveFactory(trust=trust, ref="OBJ-03", status="proposed", clinical_lead=person)
        SignOff.objects.create(trust=trust, objective=signed, side="clinical", membership=person)
        SignOffRequest.objects.create(trust=trust, objective=signed, membership=person, proposal_version=1)
    AccessLog.objects.create(username=EMAIL, ip_address="10.0.0.1", user_agent="test", http_accept="*/*")
    editor = UserFactory(is_staff=True)
    for obj in (person.user, person, invitation):
        LogEntry.objects.log_actions(user_id=editor.pk, queryset=[obj], action_flag=CHANGE, change_message="[]")
    return {"person": person, "other": other, "round": round_, "objective": objective, "trust": trust}


def aggregates(round_):
    with scope(trust=round_.trust):
        analysis = round_analysis(round_)
        return {
            "results": analysis.results,
            "pulse": analysis.pulse,
            "history": analysis.history,
            "counts": analysis.counts,
            "csv": report_csv_rows(analysis),
            "pulse_csv": pulse_csv_rows(analysis),
        }


def text_columns_mentioning(needles):
    """(model, field, pk) of every stored text (char, text, email, JSON) that contains any needle."""
    found = []
    with scopes_disabled():
        for model in apps.get_models(include_auto_created=True):
            for f in model._meta.concrete_fields:
                if isinstance(f, models.CharField | models.TextField | models.EmailField):
                    for needle in needles:
                        hits = model._base_manager.filter(**{f"{f.attname}__icontains": needle})
                        found += [(model.__name__, f.name, pk) for pk in hits.values_list("pk", flat=True)]
                elif isinstance(f, models.JSONField):
                    for pk, value in model._base_manager.values_list("pk", f.attname):
                        text = json.dumps(value).lower()
                        found += [(model.__name__, f.name, pk) for n in needles if n.lower() in text]
    return found


def erased_user(world):
    return User.objects.get(pk=world["person"].user_id)


# --- Erasure ---------------------------------------------------------------------------------


def test_the_setup_does_name_the_person_in_many_places(world):
    tables = {model for model, _, _ in text_columns_mentioning(SEARCHED)}
    assert {"User", "Rating", "ReportDelivery", "AccessLog", "LogEntry"} <= tables


def test_erase_command_removes_identity_and_links(world):
    person = world["person"]
    call_command("erase_person", EMAIL.upper(), "--yes", stdout=(out := _Out()))
    assert "Erased user" in out.text and "ratings unlinked" in out.text and EMAIL not in out.text

    user = erased_user(world)
    assert is_erased(user) and user.email.startswith("erased-") and user.email.endswith("@erased.invalid")
    assert user.full_name == ERASED_NAME and not user.has_usable_password()
    assert not user.is_active and not user.is_staff and not user.is_superuser
    with scopes_disabled():
        membership = Membership.objects.get(pk=person.pk)
        assert not membership.is_active and not membership.receives_board_report and not membership.receives_reminders
        assert not Rating.objects.filter(rater=person).exists()
        assert not PulseResponse.objects.filter(rater=person).exists()
        assert not Rating.objects.filter(comment=COMMENT).exists()  # blanked, not just unlinked
        assert Rating.objects.filter(comment=OTHER_COMMENT, rater=world["other"]).exists()  # others untouched
        assert not Invitation.objects.filter(membership=person).exists()
        assert list(ReminderLog.objects.values_list("membership_id", flat=True)) == [world["other"].pk]
        delivery = ReportDelivery.objects.get(membership=person)
        assert delivery.email == user.email and delivery.last_error == "" and delivery.status == "cancelled"
        assert SignOff.objects.get(membership=person)  # who agreed what stays, anonymised
        assert not SignOffRequest.objects.filter(membership=person).exists()
    assert not AccessLog.objects.filter(username__iexact=EMAIL).exists()


def test_erasure_leaves_the_name_and_email_nowhere_in_the_database(world):
    person_erase(user=world["person"].user)
    assert text_columns_mentioning(SEARCHED) == []
    assert text_columns_mentioning(["Brian Other"])  # the search does find what is there


def test_erasure_keeps_the_aggregates_exactly(world):
    before = aggregates(world["round"])
    with scopes_disabled():
        scores_before = sorted(Rating.objects.values_list("score", "professional_group", "level"))
    person_erase(user=world["person"].user)
    assert aggregates(world["round"]) == before
    with scopes_disabled():
        assert sorted(Rating.objects.values_list("score", "professional_group", "level")) == scores_before
    shown = next(r for r in before["results"] if r.objective.ref == "OBJ-01")
    assert shown.groups["clinical"].mean is not None and shown.groups["managerial"].mean is not None


def test_erasure_is_idempotent(world):
    _, first = person_erase(user=world["person"].user)
    assert first["people_erased"] == 1 and first["ratings_unlinked"] == 1 and first["comments_blanked"] == 1
    user = erased_user(world)
    email = user.email
    _, second = person_erase(user=user)
    assert not any(second.values()), second
    assert erased_user(world).email == email


def test_erasure_is_all_or_nothing(world, monkeypatch):
    import objectives.personal_data

    def boom(user):
        raise RuntimeError("disk full")

    # Surveys' part runs first (apps in reverse order), then this one fails.
    monkeypatch.setattr(objectives.personal_data, "erase", boom)
    with pytest.raises(RuntimeError):
        person_erase(user=world["person"].user)
    assert erased_user(world).email == EMAIL
    with scopes_disabled():
        assert Rating.objects.filter(rater=world["person"], comment=COMMENT).exists()


def test_erase_command_asks_first(world, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="nothing was erased"):
        call_command("erase_person", EMAIL)
    assert erased_user(world).email == EMAIL
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    call_command("erase_person", EMAIL, stdout=_Out())
    assert is_erased(erased_user(world))


def test_erase_command_unknown_or_already_erased(world):
    with pytest.raises(CommandError, match="Nobody has the email address"):
        call_command("erase_person", "nobody@ashby.nhs.uk", "--yes")
    call_command("erase_person", EMAIL, "--yes", stdout=_Out())
    with pytest.raises(CommandError, match="Nobody has the email address"):  # the address is gone
        call_command("erase_person", EMAIL, "--yes")
    call_command("erase_person", erased_user(world).email, "--yes", stdout=(out := _Out()))
    assert "already erased" in out.text


def test_admin_action_confirms_then_erases(world, client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = reverse("admin:partnership_user_changelist")
    form = {"action": "erase_people", "_selected_action": [world["person"].user_id, admin.pk]}
    page = client.post(url, form)
    assert page.status_code == 200 and "This cannot be undone" in page.content.decode()
    assert erased_user(world).email == EMAIL  # not yet
    response = client.post(url, {**form, "post": "yes"})
    assert response.status_code == 302
    assert is_erased(erased_user(world))
    assert not is_erased(User.objects.get(pk=admin.pk))  # never yourself
    assert text_columns_mentioning(SEARCHED) == []  # the admin's own log entry names the placeholder


def test_only_superusers_have_the_erase_action(world, rf):
    from django.contrib.admin.sites import site

    request = rf.get("/")
    request.user = UserFactory(is_staff=True, is_superuser=False)
    model_admin = site._registry[User]
    assert "erase_people" not in model_admin.get_actions(request)
    request.user = UserFactory(is_staff=True, is_superuser=True)
    assert "erase_people" in model_admin.get_actions(request)


# --- Export ----------------------------------------------------------------------------------


def test_export_contains_exactly_the_persons_data(world):
    data = person_export(user=world["person"].user)
    assert data["profile"]["email"] == EMAIL and data["profile"]["full_name"] == NAME
    assert [m["role"] for m in data["memberships"]] == ["medical_director"]
    assert [(r["objective_ref"], r["comment"]) for r in data["ratings"]] == [("OBJ-01", COMMENT)]
    assert len(data["pulse_answers"]) == 1 and len(data["reminders"]) == 1 and len(data["invitations"]) == 1
    assert [d["email"] for d in data["board_report_deliveries"]] == [EMAIL]
    assert [s["objective_ref"] for s in data["sign_offs"]] == ["OBJ-03"]
    assert data["objective_roles"][0]["roles"] == ["clinical lead"]
    text = json.dumps(data)
    for foreign in ("Brian Other", "brian.other", OTHER_COMMENT):
        assert foreign not in text


def test_export_command_prints_json(world):
    call_command("export_person", EMAIL, stdout=(out := _Out()))
    data = json.loads(out.text)
    assert data["profile"]["email"] == EMAIL and len(data["ratings"]) == 1
    with pytest.raises(CommandError):
        call_command("export_person", "nobody@ashby.nhs.uk")


def test_my_data_needs_sign_in(client, world):
    for url in (reverse("my_data"), reverse("my_data") + "?format=json"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_my_data_gives_only_the_signed_in_persons_data(client, world, login):
    client = login(world["other"])
    page = client.get(reverse("my_data"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Brian Other" in html and NAME not in html and "Download your data" in html

    response = client.get(reverse("my_data"), {"format": "json"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["profile"]["email"] == "brian.other@ashby.nhs.uk"
    assert {r["comment"] for r in data["ratings"]} == {"", OTHER_COMMENT}
    for foreign in ("Quillfeather", COMMENT):
        assert foreign not in response.content.decode()


# --- Retention -------------------------------------------------------------------------------


OLD = datetime(2019, 3, 10, 12, tzinfo=UTC)
RECENT = datetime(2025, 6, 10, 12, tzinfo=UTC)
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)  # cutoff with 6 years: 2020-03-15


@pytest.fixture
def history(trust):
    """Answers, invitations and logs of 2019 and of 2025, and people gone for years or not."""
    rows = {}
    for label, moment in (("old", OLD), ("recent", RECENT)):
        with time_machine.travel(moment, tick=False):
            member = MembershipFactory(trust=trust, user__last_login=moment)
            objective = ObjectiveFactory(trust=trust, status="agreed")
            round_ = round_get_or_create(trust=trust, period=moment.date().replace(day=1))
            rows[label] = {
                "member": member,
                "rating": rate(round_, objective, member, 4, f"{label} comment"),
                "pulse": pulse(round_, member, 3),
            }
            with scopes_disabled():
                rows[label]["invitation"] = InvitationFactory(membership=member)
                ReminderLog.objects.create(trust=trust, round=round_, membership=member, kind="round_open")
                report = DivergenceReport.objects.create(
                    trust=trust, round=round_, period=round_.period, data={}, csv="", pulse_csv=""
                )
                ReportDelivery.objects.create(trust=trust, report=report, membership=member, email=member.user.email)
            AccessLog.objects.create(username=member.user.email, ip_address="10.0.0.2", user_agent="t", http_accept="*")
            # People: one who left long ago (or recently), one still active, an operator.
            rows[label]["gone"] = MembershipFactory(trust=trust, is_active=False, user__last_login=moment).user
            rows[label]["staying"] = MembershipFactory(trust=trust, user__last_login=moment).user
            rows[label]["operator"] = UserFactory(is_staff=True, last_login=moment)
            rows[label]["never_signed_in"] = MembershipFactory(trust=trust, is_active=False).user  # date_joined
    return rows


def snapshot():
    with scopes_disabled():
        return {
            "ratings": sorted(Rating.objects.values_list("pk", "rater_id", "comment", "score")),
            "pulses": sorted(PulseResponse.objects.values_list("pk", "rater_id", "quality")),
            "invitations": Invitation.objects.count(),
            "reminders": ReminderLog.objects.count(),
            "deliveries": ReportDelivery.objects.count(),
            "access_logs": AccessLog.objects.count(),
            "users": sorted(User.objects.values_list("pk", "email", "full_name", "is_active")),
        }


def test_retention_purges_what_is_older_than_the_retention_period(history):
    with time_machine.travel(NOW, tick=False):
        result = retention_purge()
    old, recent = history["old"], history["recent"]
    assert result.cutoff.date() == date(2020, 3, 15)
    with scopes_disabled():
        rating = Rating.objects.get(pk=old["rating"].pk)
        assert rating.rater_id is None and rating.comment == "" and rating.score == 4  # the score stays
        assert PulseResponse.objects.get(pk=old["pulse"].pk).rater_id is None
        assert Rating.objects.get(pk=recent["rating"].pk).rater_id == recent["member"].pk
        assert Rating.objects.get(pk=recent["rating"].pk).comment == "recent comment"
        assert PulseResponse.objects.get(pk=recent["pulse"].pk).rater_id == recent["member"].pk
        assert list(Invitation.objects.values_list("pk", flat=True)) == [recent["invitation"].pk]
        assert list(ReminderLog.objects.values_list("membership_id", flat=True)) == [recent["member"].pk]
        assert list(ReportDelivery.objects.values_list("membership_id", flat=True)) == [recent["member"].pk]
    assert list(AccessLog.objects.values_list("username", flat=True)) == [recent["member"].user.email]
    erased = {u.pk for u in User.objects.all() if is_erased(u)}
    assert erased == {old["gone"].pk, old["never_signed_in"].pk}
    assert result.counts["people_erased"] == 2 and result.counts["ratings_unlinked"] == 1
    # Nothing else changed: a second run has nothing to do.
    with time_machine.travel(NOW, tick=False):
        assert not any(retention_purge().counts.values())


def test_retention_dry_run_writes_nothing(history):
    before = snapshot()
    with time_machine.travel(NOW, tick=False):
        call_command("purge_retention", "--dry-run", stdout=(out := _Out()))
    assert out.text.startswith("Would purge data from before 2020-03-15:")
    assert "2 people erased" in out.text and "1 ratings unlinked" in out.text
    assert snapshot() == before
    with time_machine.travel(NOW, tick=False):
        call_command("purge_retention", stdout=(out := _Out()))
    assert out.text.startswith("Purged data from before 2020-03-15:") and snapshot() != before


def test_retention_period_comes_from_the_setting(history, settings):
    settings.RETENTION_YEARS = 10
    with time_machine.travel(NOW, tick=False):
        assert not any(retention_purge().counts.values())
    settings.RETENTION_YEARS = 0
    with pytest.raises(CommandError, match="at least 1"):
        call_command("purge_retention")


def test_retention_runs_monthly(history):
    task, fields = next(entry for entry in PERIODIC_TASKS.values() if entry[0].endswith("retention_purge_task"))
    assert task == "partnership.tasks.retention_purge_task"
    assert fields["day_of_month"] == "1" and fields["month_of_year"] == "*"
    with time_machine.travel(NOW, tick=False):
        counts = retention_purge_task.delay().get()
    assert counts["people_erased"] == 2


def test_registered_parts_join_export_and_erasure(world, monkeypatch):
    monkeypatch.setattr(privacy, "_registered", [])
    calls = []
    privacy.register_personal_data(
        lambda user: {"extra": [user.pk]}, lambda user: calls.append(user.email) or {"extra_erased": 1}
    )
    assert person_export(user=world["person"].user)["extra"] == [world["person"].user_id]
    _, counts = person_erase(user=world["person"].user)
    assert calls == [EMAIL] and counts["extra_erased"] == 1  # runs before the address is replaced


class _Out:
    """A stdout for call_command that keeps what was written."""

    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass
