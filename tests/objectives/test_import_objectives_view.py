"""Importing objectives in the browser: upload, check, preview, confirm (administrators only)."""

from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from django_scopes import scopes_disabled

from objectives.models import Objective
from tests.factories import DirectorateFactory, MembershipFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data" / "objectives"
HEADER = "ref,title,description,theme,directorate,clinical_lead_email,managerial_lead_email,status"


def import_url(code="RAA"):
    return reverse("objectives_import", args=[code])


def confirm_url(code="RAA"):
    return reverse("objectives_import_confirm", args=[code])


def list_url(code="RAA"):
    return reverse("objective_list", args=[code])


def upload(client, content, code="RAA", name="objectives.csv"):
    return client.post(import_url(code), {"file": SimpleUploadedFile(name, content, content_type="text/csv")})


def good_csv():
    return (DATA / "good.csv").read_bytes()


def snapshot():
    with scopes_disabled():
        return list(Objective.objects.order_by("pk").values()), Objective.history.count()


def flash(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def people(trust, other_trust):
    """The leads good.csv names, in trust RAA; and a medical director of RBB."""
    surgery = DirectorateFactory(trust=trust, name="Surgery")
    DirectorateFactory(trust=trust, name="Medicine")
    return {
        "md": MembershipFactory(trust=trust, medical_director=True, user__email="md@ashby.nhs.uk"),
        "ceo": MembershipFactory(trust=trust, chief_executive=True, user__email="ceo@ashby.nhs.uk"),
        "cd": MembershipFactory(
            trust=trust, role="clinical_director", directorate=surgery, user__email="cd.surgery@ashby.nhs.uk"
        ),
        "dm": MembershipFactory(
            trust=trust, directorate_manager=True, directorate=surgery, user__email="dm.surgery@ashby.nhs.uk"
        ),
        "brook_md": MembershipFactory(trust=other_trust, medical_director=True, user__email="md@brook.nhs.uk"),
    }


@pytest.fixture
def admin_client(login, admin_membership, people):
    return login(admin_membership)


def test_admin_sees_the_upload_form_with_the_columns(admin_client):
    response = admin_client.get(import_url())

    assert response.status_code == 200
    assert b'type="file"' in response.content
    assert HEADER in response.text


def test_good_file_shows_a_preview_and_writes_nothing(admin_client):
    before = snapshot()

    response = upload(admin_client, good_csv())

    assert response.status_code == 200
    assert "The file is ready to import" in response.text
    assert "4 row(s): 4 new objective(s), 0 updated, 0 unchanged; new ref(s) assigned: OBJ-04" in response.text
    assert snapshot() == before


def test_confirm_writes_the_rows_and_returns_to_the_objective_list(admin_client, admin_membership, trust, people):
    upload(admin_client, good_csv())

    response = admin_client.post(confirm_url())

    assert response.status_code == 302
    assert response.url == list_url()
    assert flash(response) == ["Import complete: 4 created, 0 updated, 0 unchanged."]
    with scopes_disabled():
        assert list(Objective.objects.filter(trust=trust).values_list("ref", "status")) == [
            ("OBJ-01", "agreed"),
            ("OBJ-02", "proposed"),
            ("OBJ-03", "draft"),
            ("OBJ-04", "draft"),
        ]
        assert Objective.objects.get(ref="OBJ-02").clinical_lead == people["cd"]
        history = Objective.history.filter(ref="OBJ-03").get()
    assert (history.history_user, history.history_change_reason) == (
        admin_membership.user,
        "Imported from a CSV upload",
    )


def test_importing_the_same_file_again_changes_nothing(admin_client):
    upload(admin_client, good_csv())
    admin_client.post(confirm_url())
    before = snapshot()

    preview = upload(admin_client, good_csv())
    response = admin_client.post(confirm_url())

    assert "4 row(s): 0 new objective(s), 0 updated, 4 unchanged" in preview.text
    assert flash(response) == ["Import complete: 0 created, 0 updated, 4 unchanged."]
    assert snapshot() == before


def test_confirm_twice_does_not_import_twice(admin_client):
    upload(admin_client, good_csv())
    admin_client.post(confirm_url())
    after_first = snapshot()

    response = admin_client.post(confirm_url())

    assert response.url == import_url()
    assert flash(response)[-1] == "There is no checked file to import. Upload it again."
    assert snapshot() == after_first


def test_bad_file_lists_each_error_with_its_line_and_writes_nothing(admin_client):
    before = snapshot()

    response = upload(admin_client, (DATA / "bad.csv").read_bytes(), name="bad.csv")

    assert response.status_code == 200
    assert "fix 10 problems and upload again" in response.text
    expected = [
        (3, "unknown theme 'synergy'"),
        (4, "unknown status 'approved'"),
        (5, "clinical_lead_email md@brook.nhs.uk is not an active member of this trust"),
        (6, "clinical_lead_email ceo@ashby.nhs.uk is in the managerial group"),
        (6, "managerial_lead_email md@ashby.nhs.uk is in the clinical group"),
        (7, "duplicate ref OBJ-01 (first on line 2)"),
        (8, "unknown directorate 'Surgry' (known: Medicine, Surgery)"),
        (9, "title is longer than 200 characters"),
        (10, "description is longer than 4000 characters"),
        (11, "title is blank"),
    ]
    for line, message in expected:
        assert f"<td>{line}</td><td>{escape(message)}" in response.text
    assert "ready to import" not in response.text
    assert snapshot() == before


def test_confirm_after_a_bad_file_writes_nothing(admin_client):
    upload(admin_client, (DATA / "bad.csv").read_bytes())
    before = snapshot()

    response = admin_client.post(confirm_url())

    assert response.url == import_url()
    assert flash(response) == ["There is no checked file to import. Upload it again."]
    assert snapshot() == before


def test_wrong_header_is_explained(admin_client):
    response = upload(admin_client, b"ref,name\r\nOBJ-01,Shared\r\n")

    assert "The header is wrong (missing column(s): title, description," in response.text
    assert "unknown column(s): name" in response.text


def test_html_quoted_in_an_error_is_escaped(admin_client):
    rows = "OBJ-10,Shared,,<script>alert(1)</script>,,,,\nOBJ-11,Shared too,,dialogue,<b>Surgery</b>,,,"

    response = upload(admin_client, f"{HEADER}\n{rows}\n".encode())

    assert escape("unknown theme '<script>alert(1)</script>'") in response.text
    assert escape("unknown directorate '<b>Surgery</b>'") in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert "<b>Surgery</b>" not in response.text


def test_script_in_a_title_is_stored_as_text_and_shown_escaped(admin_client, trust):
    # Agreed, so that everyone (the administrator too) sees it on the list; drafts are for their authors.
    row = "OBJ-10,<script>alert(1)</script>,,dialogue,,md@ashby.nhs.uk,ceo@ashby.nhs.uk,agreed"
    preview = upload(admin_client, f"{HEADER}\n{row}\n".encode())
    admin_client.post(confirm_url())

    response = admin_client.get(list_url())

    assert "<script>alert(1)</script>" not in preview.text
    with scopes_disabled():
        assert Objective.objects.get(trust=trust, ref="OBJ-10").title == "<script>alert(1)</script>"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert(1)</script>" not in response.text


def test_windows_1252_upload_is_read(admin_client, trust):
    row = "OBJ-10,Women’s health – joint rounds,,dialogue,,,,"
    upload(admin_client, f"{HEADER}\r\n{row}\r\n".encode("cp1252"))
    admin_client.post(confirm_url())

    with scopes_disabled():
        assert Objective.objects.get(trust=trust, ref="OBJ-10").title == "Women’s health – joint rounds"


# --- who may import -------------------------------------------------------------------------


def test_medical_director_is_forbidden(login, people):
    client = login(people["md"])
    before = snapshot()

    assert client.get(import_url()).status_code == 403
    assert upload(client, good_csv()).status_code == 403
    assert client.post(confirm_url()).status_code == 403
    assert snapshot() == before


def test_admin_of_another_trust_gets_not_found(login, people, other_admin_membership):
    client = login(other_admin_membership)
    before = snapshot()

    assert client.get(import_url("RAA")).status_code == 404
    assert upload(client, good_csv(), code="RAA").status_code == 404
    assert client.post(confirm_url("RAA")).status_code == 404
    assert snapshot() == before


def test_file_checked_in_one_trust_is_not_confirmed_in_another(
    admin_client, admin_membership, trust, other_trust, unscoped
):
    MembershipFactory(trust=other_trust, user=admin_membership.user, administrator=True)
    upload(admin_client, f"{HEADER}\nOBJ-10,Shared,,dialogue,,,,\n".encode(), code="RBB")

    response = admin_client.post(confirm_url("RAA"))

    assert response.url == import_url("RAA")
    assert Objective.objects.count() == 0


def test_anonymous_visitor_is_sent_to_sign_in(client, trust):
    for response in (client.get(import_url()), client.post(confirm_url())):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")
