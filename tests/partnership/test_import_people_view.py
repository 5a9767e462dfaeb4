"""Importing a staff list in the browser: upload, check, preview, confirm."""

from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from django_scopes import scopes_disabled

from partnership.models import Directorate, Membership, User
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data" / "people"
HEADER = "email,full_name,professional_group,level,role,directorate,receives_board_report"


def import_url(code="RAA"):
    return reverse("people_import", kwargs={"trust_code": code})


def confirm_url(code="RAA"):
    return reverse("people_import_confirm", kwargs={"trust_code": code})


def people_url(code="RAA"):
    return reverse("people_list", kwargs={"trust_code": code})


def upload(client, content, code="RAA", invite=False, name="people.csv"):
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    if invite:
        data["invite"] = "on"
    return client.post(import_url(code), data)


def good_csv():
    return (DATA / "good.csv").read_bytes()


def counts():
    with scopes_disabled():
        return User.objects.count(), Membership.objects.count(), Directorate.objects.count()


def flash(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def admin_client(login, admin_membership):
    return login(admin_membership)


def test_admin_sees_the_upload_form(admin_client):
    response = admin_client.get(import_url())

    assert response.status_code == 200
    assert b'type="file"' in response.content


def test_good_file_shows_a_preview_and_writes_nothing(admin_client):
    before = counts()

    response = upload(admin_client, good_csv())

    assert response.status_code == 200
    assert "The file is ready to import" in response.text
    assert "5 row(s): 5 new member(s), 0 updated, 0 unchanged; new directorate(s): Surgery, Medicine" in response.text
    assert counts() == before


def test_confirm_writes_the_rows_and_returns_to_the_people_list(admin_client, trust, unscoped):
    upload(admin_client, good_csv())

    response = admin_client.post(confirm_url())

    assert response.status_code == 302
    assert response.url == people_url()
    assert flash(response) == [
        "Import complete: 5 created, 0 updated, 0 unchanged, 2 directorate(s) created, 0 invitation(s) sent."
    ]
    assert Membership.objects.filter(trust=trust).count() == 6  # the administrator and the five
    assert Directorate.objects.filter(trust=trust).count() == 2


def test_confirm_twice_does_not_import_twice(admin_client):
    upload(admin_client, good_csv())
    admin_client.post(confirm_url())
    after_first = counts()

    response = admin_client.post(confirm_url())

    assert response.url == import_url()
    assert flash(response)[-1] == "There is no checked file to import. Upload it again."
    assert counts() == after_first


def test_bad_file_lists_each_error_with_its_line_and_writes_nothing(admin_client):
    before = counts()

    response = upload(admin_client, (DATA / "bad.csv").read_bytes(), name="bad.csv")

    assert response.status_code == 200
    assert "fix 5 problems and upload again" in response.text
    expected = [
        (3, "email 'not-an-email' is not a valid email address"),
        (4, "unknown role 'surgeon'"),
        (5, "role medical_director needs professional_group clinical and level board"),
        (6, "duplicate email md@ashby.nhs.uk (first on line 2)"),
        (7, "receives_board_report must be yes or no, not 'maybe'"),
    ]
    for line, message in expected:
        assert f"<td>{line}</td><td>{escape(message)}" in response.text
    assert "ready to import" not in response.text
    assert counts() == before


def test_confirm_after_a_bad_file_redirects_with_an_error(admin_client):
    upload(admin_client, (DATA / "bad.csv").read_bytes())
    before = counts()

    response = admin_client.post(confirm_url())

    assert response.status_code == 302
    assert response.url == import_url()
    assert flash(response) == ["There is no checked file to import. Upload it again."]
    assert counts() == before


def test_checking_a_bad_file_discards_an_earlier_checked_file(admin_client):
    # The last file checked is the one that counts: its errors were the last thing shown.
    upload(admin_client, good_csv())
    upload(admin_client, (DATA / "bad.csv").read_bytes())
    before = counts()

    response = admin_client.post(confirm_url())

    assert response.url == import_url()
    assert counts() == before


def test_unreadable_file_is_shown_as_a_form_error(admin_client):
    response = upload(admin_client, "\n".join([HEADER, "a,b"]).encode("utf-16"))

    assert response.status_code == 200
    assert "NUL bytes" in response.text
    assert counts() == (1, 1, 0)


def test_wrong_header_is_explained(admin_client):
    response = upload(admin_client, b"mail,name\r\njo@ashby.nhs.uk,Jo\r\n")

    assert "The header is wrong (missing column(s): email, full_name," in response.text
    assert "unknown column(s): mail, name" in response.text


def test_error_messages_quoting_the_file_are_escaped(admin_client):
    row = "jo@ashby.nhs.uk,Jo,clinical,operational,<b>boss</b>,,no"

    response = upload(admin_client, f"{HEADER}\n{row}\n".encode())

    assert "&lt;b&gt;boss&lt;/b&gt;" in response.text
    assert "<b>boss</b>" not in response.text


def test_confirm_with_invite_emails_the_new_people(admin_client, django_capture_on_commit_callbacks):
    upload(admin_client, good_csv(), invite=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(confirm_url())

    assert "5 invitation(s) sent" in flash(response)[0]
    assert len(mail.outbox) == 5
    assert all("/invitations/" in message.body for message in mail.outbox)


def test_html_in_a_name_is_escaped_on_the_people_list(admin_client):
    row = "eve@ashby.nhs.uk,<script>alert(1)</script>,clinical,operational,consultant,,no"
    upload(admin_client, f"{HEADER}\n{row}\n".encode())
    admin_client.post(confirm_url())

    response = admin_client.get(people_url())

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert(1)</script>" not in response.text


def test_confirm_in_one_trust_does_not_apply_a_file_checked_in_another(
    admin_client, admin_membership, trust, other_trust, unscoped
):
    MembershipFactory(trust=other_trust, user=admin_membership.user, administrator=True)
    upload(admin_client, good_csv(), code="RBB")
    before = counts()

    response = admin_client.post(confirm_url("RAA"))

    assert response.url == import_url("RAA")
    assert flash(response) == ["There is no checked file to import. Upload it again."]
    assert counts() == before


def test_file_checked_in_another_trust_can_still_be_confirmed_there(
    admin_client, admin_membership, trust, other_trust, unscoped
):
    MembershipFactory(trust=other_trust, user=admin_membership.user, administrator=True)
    upload(admin_client, good_csv(), code="RBB")
    admin_client.post(confirm_url("RAA"))

    response = admin_client.post(confirm_url("RBB"))

    assert response.url == people_url("RBB")
    assert Membership.objects.filter(trust=other_trust).count() == 6
    assert Membership.objects.filter(trust=trust).count() == 1


# --- who may import -------------------------------------------------------------------------


def test_consultant_is_forbidden_to_see_the_import_page(login, consultant_membership):
    client = login(consultant_membership)

    assert client.get(import_url()).status_code == 403


def test_consultant_is_forbidden_to_upload(login, consultant_membership):
    client = login(consultant_membership)
    before = counts()

    assert upload(client, good_csv()).status_code == 403
    assert counts() == before


def test_consultant_is_forbidden_to_confirm(login, consultant_membership):
    client = login(consultant_membership)

    assert client.post(confirm_url()).status_code == 403


def test_admin_of_another_trust_gets_not_found(login, trust, other_admin_membership):
    client = login(other_admin_membership)
    before = counts()

    assert client.get(import_url("RAA")).status_code == 404
    assert upload(client, good_csv(), code="RAA").status_code == 404
    assert client.post(confirm_url("RAA")).status_code == 404
    assert counts() == before


def test_anonymous_visitor_is_sent_to_sign_in(client, trust):
    for response in (client.get(import_url()), client.post(confirm_url())):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")
