"""Issue 12, "Integrity and sign-in hardening": each hole an attacker-minded review found on
main, as a named regression test. Each section is one numbered item of the issue."""

import io
import logging
import time
from datetime import date

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.urls import reverse
from django_scopes import scopes_disabled

from objectives.importing import objectives_import_apply, objectives_import_plan
from objectives.models import Objective, SignOff
from partnership.models import Directorate, Invitation, Membership, User
from partnership.services.invitations import invitation_url
from partnership.services.people import directorate_get_or_create
from partnership.services.people_import import people_import_apply, people_import_plan
from tests.factories import PASSWORD, DirectorateFactory, MembershipFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db

PEOPLE_HEADER = "email,full_name,professional_group,level,role,directorate,receives_board_report"
OBJECTIVES_HEADER = "ref,title,description,theme,directorate,clinical_lead_email,managerial_lead_email,status"


def csv_file(tmp_path, header, *rows, name="file.csv"):
    path = tmp_path / name
    path.write_text("".join(f"{line}\r\n" for line in (header, *rows)), encoding="utf-8")
    return path


def upload(client, url, text, name="file.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(url, {"file": SimpleUploadedFile(name, text.encode("utf-8"), "text/csv")})


# --- 1. lockout bypass by spelling the address differently ---------------------------------------


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5


def sign_in(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


@pytest.mark.parametrize(
    "variant", ["BM4@south.nhs.uk", "bM4@SOUTH.nhs.uk", " bm4@south.nhs.uk ", "bm4@south.nhs.uk\t"]
)
def test_issue12_1_lockout_holds_for_every_spelling_of_the_address(client, trust, axes_on, variant):
    MembershipFactory(trust=trust, user__email="bm4@south.nhs.uk")
    for _ in range(4):
        assert sign_in(client, "bm4@south.nhs.uk", "wrong-password").status_code == 200
    assert sign_in(client, "bm4@south.nhs.uk", "wrong-password").status_code == 429

    # No fresh guesses under another spelling, and the right password does not get in either.
    assert sign_in(client, variant, "wrong-password").status_code == 429
    assert sign_in(client, variant, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_issue12_1_failures_under_different_spellings_add_up_to_one_lockout(client, trust, axes_on):
    MembershipFactory(trust=trust, user__email="bm4@south.nhs.uk")
    for variant in [
        "bm4@south.nhs.uk",
        "BM4@south.nhs.uk",
        "bM4@SOUTH.nhs.uk",
        " bm4@south.nhs.uk",
        "BM4@SOUTH.NHS.UK ",
    ]:
        sign_in(client, variant, "wrong-password")
    assert sign_in(client, "bm4@south.nhs.uk", PASSWORD).status_code == 429


def test_issue12_1_one_normalisation_of_sign_in_identifiers(trust):
    from partnership.identity import normalise_email

    assert normalise_email("  BM4@SOUTH.nhs.uk\t") == "bm4@south.nhs.uk"
    assert normalise_email("ＢＭ４@south.nhs.uk") == "bm4@south.nhs.uk"  # full-width letters (NFKC)
    user = MembershipFactory(trust=trust, user__email=" BM4@South.NHS.uk ").user
    user.refresh_from_db()
    assert user.email == "bm4@south.nhs.uk"  # stored normalised, however it was written
    assert User.objects.get_by_natural_key("bM4@SOUTH.nhs.uk ") == user


# --- 2. the objectives import bypasses dual sign-off ---------------------------------------------


@pytest.fixture
def signed(trust):
    """OBJ-05 proposed with the clinical side signed; OBJ-06 agreed with both sides signed."""
    md = MembershipFactory(trust=trust, medical_director=True, user__email="md@ashby.nhs.uk")
    ceo = MembershipFactory(trust=trust, chief_executive=True, user__email="ceo@ashby.nhs.uk")
    proposed = ObjectiveFactory(
        trust=trust, ref="OBJ-05", title="Joint job plans", status="proposed", clinical_lead=md, managerial_lead=ceo
    )
    agreed = ObjectiveFactory(
        trust=trust, ref="OBJ-06", title="Shared theatre lists", status="agreed", clinical_lead=md, managerial_lead=ceo
    )
    with scopes_disabled():
        SignOff.objects.create(trust=trust, objective=proposed, side="clinical", membership=md)
        SignOff.objects.create(trust=trust, objective=agreed, side="clinical", membership=md)
        SignOff.objects.create(trust=trust, objective=agreed, side="managerial", membership=ceo)
    return proposed, agreed


def state(ref):
    with scopes_disabled():
        objective = Objective.objects.get(ref=ref)
        return objective.status, objective.title, sorted(objective.signoffs.values_list("side", flat=True))


def test_issue12_2_an_import_cannot_agree_a_proposal_without_the_managerial_sign_off(tmp_path, trust, signed):
    row = "OBJ-05,Joint job plans,,dialogue,,md@ashby.nhs.uk,ceo@ashby.nhs.uk,agreed"
    with scopes_disabled():
        plan = objectives_import_plan(trust=trust, text=f"{OBJECTIVES_HEADER}\r\n{row}\r\n")
    assert [(e.line, "sign-off" in e.message) for e in plan.errors] == [(2, True)]

    with pytest.raises(CommandError):
        call_command(
            "import_objectives",
            "RAA",
            str(csv_file(tmp_path, OBJECTIVES_HEADER, row)),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert state("OBJ-05") == ("proposed", "Joint job plans", ["clinical"])


@pytest.mark.parametrize(
    ("ref", "status"), [("OBJ-07", "proposed"), ("OBJ-07", "agreed"), ("OBJ-07", "achieved"), ("OBJ-06", "achieved")]
)
def test_issue12_2_an_import_never_moves_an_objective_into_proposed_agreed_or_achieved(trust, signed, ref, status):
    ObjectiveFactory(trust=trust, ref="OBJ-07", title="A draft", status="draft")
    title = "A draft" if ref == "OBJ-07" else "Shared theatre lists"
    row = f"{ref},{title},,dialogue,,md@ashby.nhs.uk,ceo@ashby.nhs.uk,{status}"
    with scopes_disabled():
        plan = objectives_import_plan(trust=trust, text=f"{OBJECTIVES_HEADER}\r\n{row}\r\n")
    assert [e.line for e in plan.errors] == [2]
    assert status in plan.errors[0].message


def test_issue12_2_rewording_an_agreed_objective_by_import_clears_its_sign_offs(client, trust, signed, login):
    admin = MembershipFactory(trust=trust, administrator=True, user__email="admin@ashby.nhs.uk")
    row = "OBJ-06,Shared theatre lists for every specialty,,dialogue,,md@ashby.nhs.uk,ceo@ashby.nhs.uk,agreed"
    login(admin)
    preview = upload(client, reverse("objectives_import", args=["RAA"]), f"{OBJECTIVES_HEADER}\r\n{row}\r\n")
    page = preview.content.decode()
    assert "The file is ready to import" in page
    assert "sign-offs will be cleared" in page

    client.post(reverse("objectives_import_confirm", args=["RAA"]))

    status, title, sides = state("OBJ-06")
    assert (title, sides) == ("Shared theatre lists for every specialty", [])
    assert status != "agreed"  # never agreed on wording nobody signed


def test_issue12_2_new_objectives_imported_as_agreed_carry_their_history_note(trust, signed):
    row = "OBJ-20,Agreed at the March board,,dialogue,,md@ashby.nhs.uk,ceo@ashby.nhs.uk,agreed"
    with scopes_disabled():
        plan = objectives_import_plan(trust=trust, text=f"{OBJECTIVES_HEADER}\r\n{row}\r\n")
        assert plan.is_valid
        objectives_import_apply(trust=trust, plan=plan, source="board.csv")
        record = Objective.history.filter(ref="OBJ-20").get()
    assert record.history_change_reason == "Imported as agreed (agreed before import, no sign-offs) from board.csv"


# --- 3. password-reset links from the Host header -----------------------------------------------


def test_issue12_3_password_reset_links_come_from_site_url_not_the_host_header(client, trust, settings):
    settings.SITE_URL = "https://commonground.example.nhs.uk"
    MembershipFactory(trust=trust, user__email="bm4@south.nhs.uk")

    client.post(reverse("password_reset"), {"email": " BM4@South.nhs.uk"}, HTTP_HOST="localhost:31337")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    bodies = [message.body] + [content for content, _ in message.alternatives]
    for body in bodies:
        assert "31337" not in body and "localhost" not in body
        assert "https://commonground.example.nhs.uk/accounts/reset/" in body


def test_issue12_3_invitation_and_sign_off_links_come_from_site_url(
    client, trust, settings, login, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://commonground.example.nhs.uk"
    admin = MembershipFactory(trust=trust, administrator=True, user__email="admin@ashby.nhs.uk")
    md = MembershipFactory(trust=trust, medical_director=True, user__email="md@ashby.nhs.uk")
    ceo = MembershipFactory(trust=trust, chief_executive=True, user__email="ceo@ashby.nhs.uk")
    draft = ObjectiveFactory(trust=trust, ref="OBJ-01", clinical_lead=md, managerial_lead=ceo)
    login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("person_invite", args=["RAA"]),
            {
                "email": "new@ashby.nhs.uk",
                "full_name": "New Person",
                "professional_group": "clinical",
                "level": "operational",
                "role": "consultant",
            },
            HTTP_HOST="localhost:31337",
        )
    login(md)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("objective_propose", args=["RAA", draft.ref]), HTTP_HOST="localhost:31337")

    assert [message.to for message in mail.outbox] == [["new@ashby.nhs.uk"], ["ceo@ashby.nhs.uk"]]
    for message, path in zip(mail.outbox, ["/invitations/", "/trusts/RAA/objectives/OBJ-01/"], strict=True):
        for body in [message.body] + [content for content, _ in message.alternatives]:
            assert "31337" not in body
            assert f"https://commonground.example.nhs.uk{path}" in body


def test_issue12_3_no_email_template_builds_a_link_itself():
    """Links in emails come from the one builder (SITE_URL + path, passed in the context):
    no email template makes its own from {% url %}, a domain or a protocol."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "templates" / "emails"
    for template in folder.iterdir():
        text = template.read_text(encoding="utf-8")
        for fragment in ("{% url", "{{ domain", "{{ protocol", "request.get_host", "build_absolute_uri"):
            assert fragment not in text, f"{template.name} builds a link with {fragment}"


# --- 4. a 40,000-column header ---------------------------------------------------------------------


WIDE_HEADER = PEOPLE_HEADER + "," + ",".join(f"x{i}" for i in range(40_000))


def test_issue12_4_a_40000_column_header_is_refused_at_once_in_the_browser(client, trust, login):
    admin = MembershipFactory(trust=trust, administrator=True, user__email="admin@ashby.nhs.uk")
    login(admin)
    started = time.perf_counter()
    response = upload(client, reverse("people_import", args=["RAA"]), WIDE_HEADER + "\r\n")
    assert time.perf_counter() - started < 2
    assert response.status_code == 200
    assert "columns" in response.content.decode()
    assert "at most 50" in response.content.decode()


@pytest.mark.parametrize("command", ["import_people", "import_objectives", "import_ratings", "import_pulse"])
def test_issue12_4_a_40000_column_header_is_refused_at_once_by_every_command(tmp_path, trust, command):
    path = csv_file(tmp_path, WIDE_HEADER)
    err = io.StringIO()
    started = time.perf_counter()
    with pytest.raises(CommandError) as excinfo:
        call_command(command, "RAA", str(path), stdout=io.StringIO(), stderr=err)
    assert time.perf_counter() - started < 2
    assert "at most 50" in str(excinfo.value) + err.getvalue()


def test_issue12_4_duplicate_columns_are_still_reported(trust):
    import csv

    from partnership.csv_import import ImportFileError, read_header

    with pytest.raises(ImportFileError, match="Duplicate column.*email"):
        read_header(csv.reader([PEOPLE_HEADER + ",Email"]), PEOPLE_HEADER.split(","))


# --- 5. Unicode case-folding collisions -----------------------------------------------------------


IT_ROWS = (
    "one@ashby.nhs.uk,One,clinical,operational,consultant,IT,no",
    "two@ashby.nhs.uk,Two,clinical,operational,consultant,\u0130T,no",
)


def test_issue12_5_directorates_differing_only_by_unicode_case_are_a_per_line_error(trust):
    plan = people_import_plan(trust=trust, text="\r\n".join((PEOPLE_HEADER, *IT_ROWS)) + "\r\n")
    assert [error.line for error in plan.errors] == [3]
    assert "\u0130T" in plan.errors[0].message and "IT" in plan.errors[0].message


def test_issue12_5_the_browser_import_reports_it_and_never_500s(client, trust, login):
    admin = MembershipFactory(trust=trust, administrator=True, user__email="admin@ashby.nhs.uk")
    login(admin)
    client.raise_request_exception = False
    text = "\r\n".join((PEOPLE_HEADER, *IT_ROWS)) + "\r\n"
    preview = upload(client, reverse("people_import", args=["RAA"]), text)
    assert preview.status_code == 200
    assert "Nothing was imported" in preview.content.decode()
    confirm = client.post(reverse("people_import_confirm", args=["RAA"]))
    assert confirm.status_code == 302
    with scopes_disabled():
        assert Directorate.objects.count() == 0


def test_issue12_5_the_command_prints_the_line_not_a_traceback(tmp_path, trust):
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_people", "RAA", str(csv_file(tmp_path, PEOPLE_HEADER, *IT_ROWS)), stdout=io.StringIO(), stderr=err
        )
    assert "line 3" in err.getvalue()


def test_issue12_5_an_existing_directorate_that_folds_the_same_is_an_error_too(trust):
    DirectorateFactory(trust=trust, name="IT")
    plan = people_import_plan(trust=trust, text="\r\n".join((PEOPLE_HEADER, IT_ROWS[1])) + "\r\n")
    assert [error.line for error in plan.errors] == [2]
    with scopes_disabled():
        assert directorate_get_or_create(trust=trust, name="\u0130T").name == "IT"  # no IntegrityError
        assert Directorate.objects.count() == 1


def _clash(*args, **kwargs):
    raise IntegrityError('duplicate key value violates unique constraint "directorate_name_unique_per_trust"')


def test_issue12_5_an_integrity_error_during_apply_is_a_clear_message_in_the_browser(client, trust, login, monkeypatch):
    admin = MembershipFactory(trust=trust, administrator=True, user__email="admin@ashby.nhs.uk")
    login(admin)
    client.raise_request_exception = False
    upload(client, reverse("people_import", args=["RAA"]), f"{PEOPLE_HEADER}\r\n{IT_ROWS[0]}\r\n")
    monkeypatch.setattr(Directorate.objects, "bulk_create", _clash)

    response = client.post(reverse("people_import_confirm", args=["RAA"]), follow=True)

    assert response.status_code == 200
    assert "nothing was imported" in response.content.decode().lower()
    with scopes_disabled():
        assert not User.objects.filter(email="one@ashby.nhs.uk").exists()


def test_issue12_5_an_integrity_error_during_apply_is_a_clear_message_in_the_command(tmp_path, trust, monkeypatch):
    monkeypatch.setattr(Directorate.objects, "bulk_create", _clash)
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(
            "import_people",
            "RAA",
            str(csv_file(tmp_path, PEOPLE_HEADER, IT_ROWS[0])),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    with scopes_disabled():
        assert not User.objects.filter(email="one@ashby.nhs.uk").exists()


# --- 6. inviting an account that exists in another trust ------------------------------------------


@pytest.fixture
def elsewhere(other_trust):
    """Someone with an account in Brook Valley, under the name they chose there."""
    return MembershipFactory(trust=other_trust, user__email="dr.jones@nhs.net", user__full_name="Dr Secret Jones")


def invite(client, **extra):
    data = {
        "email": "Dr.Jones@nhs.net",
        "full_name": "Alex Jones",
        "professional_group": "clinical",
        "level": "operational",
        "role": "consultant",
        **extra,
    }
    return client.post(reverse("person_invite", args=["RAA"]), data)


def test_issue12_6_inviting_an_existing_account_reveals_nothing_about_it(client, trust, elsewhere, login):
    admin = MembershipFactory(trust=trust, administrator=True, user__email="admin@ashby.nhs.uk")
    login(admin)
    invite(client)

    page = client.get(reverse("people_list", args=["RAA"])).content.decode()
    assert "Dr Secret Jones" not in page
    assert "Alex Jones" in page
    assert "Signed up" not in page.split("Alex Jones", 1)[1].split("</tr>", 1)[0]
    assert "Dr Secret Jones" not in client.get(reverse("people_list", args=["RAA"]), {"q": "Secret"}).content.decode()
    with scopes_disabled():
        membership = Membership.objects.get(trust=trust, user=elsewhere.user)
        assert not membership.is_active  # not a member until they accept
        assert User.objects.get(pk=elsewhere.user.pk).full_name == "Dr Secret Jones"


def test_issue12_6_an_imported_existing_account_is_not_a_member_until_it_accepts(trust, elsewhere):
    text = f"{PEOPLE_HEADER}\r\ndr.jones@nhs.net,Alex Jones,clinical,operational,consultant,,no\r\n"
    plan = people_import_plan(trust=trust, text=text)
    assert "account" not in plan.summary()  # how many addresses already have accounts is not said
    people_import_apply(trust=trust, plan=plan, invite=True)
    with scopes_disabled():
        membership = Membership.objects.get(trust=trust, user=elsewhere.user)
        assert not membership.is_active
        assert Invitation.objects.filter(membership=membership, status="pending").exists()  # invited all the same
    people_import_apply(trust=trust, plan=people_import_plan(trust=trust, text=text))  # re-import
    with scopes_disabled():
        assert not Membership.objects.get(pk=membership.pk).is_active


def test_issue12_6_a_link_scanner_following_the_link_accepts_nothing(client, trust, elsewhere, login):
    admin = MembershipFactory(trust=trust, administrator=True, user__email="admin@ashby.nhs.uk")
    login(admin)
    invite(client)
    client.logout()
    with scopes_disabled():
        invitation = Invitation.objects.get(membership__user=elsewhere.user)
    url = invitation_url(invitation).removeprefix("http://testserver")

    page = client.get(url)
    assert page.status_code == 200
    assert 'method="post"' in page.content.decode()
    with scopes_disabled():
        invitation.refresh_from_db()
        assert invitation.status == "pending"
        assert not invitation.membership.is_active
    # The person themselves cannot get into the trust yet.
    client.login(username="dr.jones@nhs.net", password=PASSWORD)
    assert client.get(reverse("trust_home", args=["RAA"])).status_code == 404
    client.logout()

    accepted = client.post(url)
    assert accepted.status_code == 302
    with scopes_disabled():
        invitation.refresh_from_db()
        assert invitation.status == "accepted"
        assert Membership.objects.get(pk=invitation.membership_id).is_active
    login(admin)
    assert "Dr Secret Jones" in client.get(reverse("people_list", args=["RAA"])).content.decode()


# --- 7. caching, 403 logging, delivery counts, response-rate parity --------------------------------


def test_issue12_7_personal_and_dashboard_pages_are_never_stored(client, trust, login):
    member = MembershipFactory(trust=trust, user__email="consultant@ashby.nhs.uk")
    login(member)
    for url in (
        reverse("rate", args=["RAA"]),
        reverse("my_data"),
        reverse("dashboard", args=["RAA"]),
        reverse("trust_home", args=["RAA"]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.get("Cache-Control", ""), url


@pytest.mark.parametrize("status", [403, 404])
def test_issue12_7_refusals_are_logged_as_one_line_without_a_traceback(client, trust, login, caplog, status):
    member = MembershipFactory(trust=trust, user__email="consultant@ashby.nhs.uk")
    login(member)
    url = reverse("people_list", args=["RAA"]) if status == 403 else reverse("trust_home", args=["RZZ"])
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(url).status_code == status
    records = [record for record in caplog.records if record.name == "django.request"]
    assert len(records) == 1
    assert records[0].exc_info is None
    assert "\n" not in caplog.text.strip()


@pytest.fixture
def report(trust):
    from surveys.models import DivergenceReport, OutboxStatus, RatingRound, ReportDelivery

    with scopes_disabled():
        round_ = RatingRound.objects.create(
            trust=trust,
            period=date(2025, 1, 1),
            opens_on=date(2025, 1, 1),
            closes_on=date(2025, 1, 14),
        )
        built = DivergenceReport.objects.create(
            trust=trust, round=round_, period=round_.period, data={}, csv="", pulse_csv=""
        )
        for n, status in enumerate([OutboxStatus.SENT, OutboxStatus.SENT, OutboxStatus.FAILED]):
            ReportDelivery.objects.create(trust=trust, report=built, email=f"b{n}@ashby.nhs.uk", status=status)
    return built


def test_issue12_7_delivery_counts_are_for_administrators_only(client, trust, login, report):
    member = MembershipFactory(trust=trust, chief_executive=True, user__email="ceo@ashby.nhs.uk")
    login(member)
    page = client.get(reverse("report_list", args=["RAA"])).content.decode()
    assert "January 2025" in page
    assert "Failed" not in page and "Pending" not in page

    admin = MembershipFactory(trust=trust, administrator=True, user__email="admin@ashby.nhs.uk")
    login(admin)
    page = client.get(reverse("report_list", args=["RAA"])).content.decode()
    assert "Failed" in page and "Pending" in page


@pytest.mark.parametrize("role", ["chief_executive", "clinical_director", "medical_director", "directorate_manager"])
def test_issue12_7_response_rates_parity_for_the_four_leadership_roles(client, trust, login, role):
    import time_machine

    from surveys.services.rounds import round_get_or_create

    groups = {
        "chief_executive": ("managerial", "board"),
        "medical_director": ("clinical", "board"),
        "clinical_director": ("clinical", "operational"),
        "directorate_manager": ("managerial", "operational"),
    }
    group, level = groups[role]
    medicine = DirectorateFactory(trust=trust, name="Medicine")
    member = MembershipFactory(
        trust=trust,
        role=role,
        professional_group=group,
        level=level,
        directorate=medicine,
        user__email="lead@ashby.nhs.uk",
    )
    with time_machine.travel(date(2026, 3, 10), tick=False):
        round_ = round_get_or_create(trust=trust, period=date(2026, 3, 1))
        login(member)
        response = client.get(reverse("round_responses", args=["RAA", round_.slug]))
    assert response.status_code == 200
