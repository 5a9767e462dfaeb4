"""`manage.py import_people TRUST_CODE FILE.csv` (DESIGN.md §6): all rows checked first,
nothing written when any is bad, re-running changes nothing."""

import io
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django_scopes import scopes_disabled

from partnership.models import Directorate, Invitation, Membership, User
from partnership.services.people_import import people_import_apply, people_import_plan
from tests.factories import DirectorateFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data" / "people"
GOOD = DATA / "good.csv"
GOOD_EMAILS = {
    "md@ashby.nhs.uk",
    "ceo@ashby.nhs.uk",
    "cd.surgery@ashby.nhs.uk",
    "dm.surgery@ashby.nhs.uk",
    "consultant1@ashby.nhs.uk",
}
HEADER = "email,full_name,professional_group,level,role,directorate,receives_board_report"
ROW = "jo@ashby.nhs.uk,Jo Bloggs,clinical,operational,consultant,Medicine,no"


def write_csv(tmp_path, *rows, header=HEADER, encoding="utf-8", name="people.csv"):
    path = tmp_path / name
    path.write_bytes("".join(f"{line}\r\n" for line in (header, *rows)).encode(encoding))
    return path


def run_import(trust_code, path, *args):
    """(stdout, stderr) of a successful import."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_people", trust_code, str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failed_import(trust_code, path, *args):
    """(CommandError message, stderr) of an import that must fail."""
    err = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_people", trust_code, str(path), *args, stdout=io.StringIO(), stderr=err)
    return str(excinfo.value), err.getvalue()


def counts():
    with scopes_disabled():
        return User.objects.count(), Membership.objects.count(), Directorate.objects.count()


def snapshot():
    """Every stored user, membership and directorate, to show that nothing changed."""
    with scopes_disabled():
        return (
            list(User.objects.order_by("pk").values()),
            list(Membership.objects.order_by("pk").values()),
            list(Directorate.objects.order_by("pk").values()),
        )


def membership(email, trust):
    with scopes_disabled():
        return Membership.objects.select_related("user", "directorate").get(user__email__iexact=email, trust=trust)


# --- a good file ---------------------------------------------------------------------------


def test_good_file_creates_people_and_memberships(trust):
    out, _ = run_import("RAA", GOOD)

    assert out.strip() == (
        "Imported good.csv into RAA: 5 created, 0 updated, 0 unchanged, 2 directorate(s) created, 0 invitation(s) sent"
    )
    assert counts() == (5, 5, 2)
    md = membership("md@ashby.nhs.uk", trust)
    assert (md.user.full_name, md.professional_group, md.level, md.role) == (
        "Amara Okoye",
        "clinical",
        "board",
        "medical_director",
    )
    assert md.receives_board_report is True
    assert md.directorate is None
    assert not md.user.has_usable_password()


def test_missing_directorates_are_created_in_the_trust(trust, other_trust, unscoped):
    DirectorateFactory(trust=other_trust, name="Surgery")

    run_import("RAA", GOOD)

    assert sorted(Directorate.objects.filter(trust=trust).values_list("name", flat=True)) == ["Medicine", "Surgery"]
    assert membership("cd.surgery@ashby.nhs.uk", trust).directorate.trust == trust


def test_existing_directorate_is_reused_whatever_its_case(trust, unscoped):
    surgery = DirectorateFactory(trust=trust, name="SURGERY")

    out, _ = run_import("RAA", GOOD)

    assert "1 directorate(s) created" in out
    assert membership("cd.surgery@ashby.nhs.uk", trust).directorate == surgery
    assert Directorate.objects.filter(trust=trust).count() == 2


def test_directorate_spelt_in_two_cases_in_one_file_is_created_once(tmp_path, trust, unscoped):
    path = write_csv(
        tmp_path,
        "a@ashby.nhs.uk,A Person,clinical,operational,consultant,Surgery,no",
        "b@ashby.nhs.uk,B Person,clinical,operational,consultant,  SURGERY ,no",
    )

    out, _ = run_import("RAA", path)

    assert "1 directorate(s) created" in out
    assert list(Directorate.objects.values_list("name", flat=True)) == ["Surgery"]
    assert membership("b@ashby.nhs.uk", trust).directorate.name == "Surgery"


def test_quoted_values_may_contain_commas(tmp_path, trust):
    path = write_csv(
        tmp_path, 'jo@ashby.nhs.uk,"Bloggs, Jo",clinical,operational,consultant,"Women\'s, Children\'s",no'
    )

    run_import("RAA", path)

    jo = membership("jo@ashby.nhs.uk", trust)
    assert (jo.user.full_name, jo.directorate.name) == ("Bloggs, Jo", "Women's, Children's")


def test_trust_code_is_case_insensitive(trust):
    run_import("raa", GOOD)

    assert counts()[1] == 5


def test_columns_may_come_in_any_order(tmp_path, trust):
    path = write_csv(
        tmp_path,
        "no,Medicine,consultant,operational,clinical,Jo Bloggs,jo@ashby.nhs.uk",
        header="receives_board_report,directorate,role,level,professional_group,full_name,email",
    )

    run_import("RAA", path)

    jo = membership("jo@ashby.nhs.uk", trust)
    assert (jo.user.full_name, jo.role, jo.directorate.name) == ("Jo Bloggs", "consultant", "Medicine")


def test_values_are_trimmed_and_vocabulary_is_case_insensitive(tmp_path, trust):
    path = write_csv(tmp_path, " Jo@Ashby.NHS.uk ,  Jo   Bloggs ,Clinical,OPERATIONAL,Consultant, Medicine ,YES")

    run_import("RAA", path)

    jo = membership("jo@ashby.nhs.uk", trust)
    assert (jo.user.email, jo.user.full_name, jo.role, jo.directorate.name) == (
        "jo@ashby.nhs.uk",
        "Jo Bloggs",
        "consultant",
        "Medicine",
    )
    assert jo.receives_board_report is True


def test_blank_receives_board_report_means_no(tmp_path, trust):
    path = write_csv(tmp_path, "jo@ashby.nhs.uk,Jo Bloggs,clinical,operational,consultant,,")

    run_import("RAA", path)

    assert membership("jo@ashby.nhs.uk", trust).receives_board_report is False


def test_blank_lines_are_ignored(tmp_path, trust):
    path = write_csv(tmp_path, "", ROW, ",,,,,,", "")

    out, _ = run_import("RAA", path)

    assert "1 created" in out


# --- re-running and updating ---------------------------------------------------------------


def test_rerunning_the_same_file_changes_nothing(trust):
    run_import("RAA", GOOD)
    before = snapshot()

    out, _ = run_import("RAA", GOOD)

    assert out.strip() == (
        "Imported good.csv into RAA: 0 created, 0 updated, 5 unchanged, 0 directorate(s) created, 0 invitation(s) sent"
    )
    assert snapshot() == before


def test_changed_row_updates_the_membership(tmp_path, trust):
    run_import("RAA", GOOD)
    text = GOOD.read_text().replace(
        "consultant1@ashby.nhs.uk,Eve Hughes,clinical,operational,consultant,Medicine,no",
        "consultant1@ashby.nhs.uk,Eve Hughes,clinical,operational,clinical_director,Surgery,yes",
    )
    path = tmp_path / "changed.csv"
    path.write_text(text)

    out, _ = run_import("RAA", path)

    assert "0 created, 1 updated, 4 unchanged, 0 directorate(s) created" in out
    eve = membership("consultant1@ashby.nhs.uk", trust)
    assert (eve.role, eve.directorate.name, eve.receives_board_report) == ("clinical_director", "Surgery", True)


def test_import_reactivates_an_inactive_member(tmp_path, trust):
    existing = MembershipFactory(trust=trust, user__email="jo@ashby.nhs.uk", is_active=False)

    out, _ = run_import("RAA", write_csv(tmp_path, ROW))

    assert "1 updated" in out
    existing.refresh_from_db()
    assert existing.is_active


def test_people_missing_from_the_file_are_left_alone(trust, consultant_membership):
    before = (consultant_membership.role, consultant_membership.is_active, consultant_membership.directorate_id)

    run_import("RAA", GOOD)

    consultant_membership.refresh_from_db()
    assert (consultant_membership.role, consultant_membership.is_active, consultant_membership.directorate_id) == (
        before
    )


def test_existing_user_is_matched_whatever_the_case_of_the_email(tmp_path, trust, unscoped):
    jo = UserFactory(email="Jo@X.nhs.uk", full_name="Jo Bloggs")
    path = write_csv(tmp_path, "jo@x.nhs.uk,Jo Bloggs,clinical,operational,consultant,,no")

    out, _ = run_import("RAA", path)

    assert "1 created" in out
    assert User.objects.count() == 1
    assert Membership.objects.get(trust=trust).user == jo


def test_person_in_another_trust_joins_this_one_too(tmp_path, trust, other_trust, unscoped):
    elsewhere = MembershipFactory(trust=other_trust, user__email="jo@ashby.nhs.uk", role="consultant")

    run_import("RAA", write_csv(tmp_path, "jo@ashby.nhs.uk,Jo Bloggs,managerial,board,chief_executive,,yes"))

    assert Membership.objects.get(trust=trust).user == elsewhere.user
    elsewhere.refresh_from_db()
    assert elsewhere.role == "consultant"


# --- bad rows: nothing is written ------------------------------------------------------------


@pytest.mark.parametrize(
    "row, message",
    [
        (
            "jo@ashby.nhs.uk,Jo Bloggs,clinical,operational,surgeon,,no",
            "unknown role 'surgeon'",
        ),
        ("not-an-email,Jo Bloggs,clinical,operational,consultant,,no", "email 'not-an-email' is not a valid email"),
        ("jo@ashby,Jo Bloggs,clinical,operational,consultant,,no", "email 'jo@ashby' is not a valid email"),
        (",Jo Bloggs,clinical,operational,consultant,,no", "email is blank"),
        ("jo@ashby.nhs.uk,Jo Bloggs,nursing,operational,consultant,,no", "unknown professional_group 'nursing'"),
        ("jo@ashby.nhs.uk,Jo Bloggs,clinical,ward,consultant,,no", "unknown level 'ward'"),
        (
            "jo@ashby.nhs.uk,Jo Bloggs,managerial,operational,medical_director,,yes",
            "role medical_director needs professional_group clinical and level board",
        ),
        (
            "jo@ashby.nhs.uk,Jo Bloggs,clinical,board,consultant,,no",
            "role consultant needs level operational",
        ),
        (
            "jo@ashby.nhs.uk,Jo Bloggs,clinical,board,chief_executive,,yes",
            "role chief_executive needs professional_group managerial",
        ),
        (
            "jo@ashby.nhs.uk,Jo Bloggs,clinical,operational,consultant,,maybe",
            "receives_board_report must be yes or no, not 'maybe'",
        ),
        ("jo@ashby.nhs.uk,   ,clinical,operational,consultant,,no", "full_name is blank"),
        (
            "jo@ashby.nhs.uk," + "J" * 201 + ",clinical,operational,consultant,,no",
            "full_name is longer than 200 characters",
        ),
        (
            "jo@ashby.nhs.uk,Jo Bloggs,clinical,operational,consultant," + "D" * 201 + ",no",
            "directorate is longer than 200 characters",
        ),
        ("jo@ashby.nhs.uk,Jo Bloggs,clinical,operational,consultant,no", "expected 7 values, found 6"),
        ("jo@ashby.nhs.uk,Jo Bloggs,clinical,operational,consultant,,no,extra", "expected 7 values, found 8"),
    ],
)
def test_bad_row_is_reported_by_line_and_nothing_is_written(tmp_path, trust, row, message):
    path = write_csv(tmp_path, "first@ashby.nhs.uk,First Person,clinical,operational,consultant,New Dir,no", row)
    before = counts()

    error, stderr = failed_import("RAA", path)

    assert f"people.csv: line 3: {message}" in stderr
    assert error == "1 error(s) in people.csv; nothing was imported."
    assert counts() == before


def test_name_of_exactly_200_characters_is_accepted(tmp_path, trust):
    path = write_csv(tmp_path, "jo@ashby.nhs.uk," + "J" * 200 + ",clinical,operational,consultant,,no")

    out, _ = run_import("RAA", path)

    assert "1 created" in out


def test_duplicate_email_is_reported_whatever_its_case(tmp_path, trust):
    path = write_csv(tmp_path, ROW, "JO@ashby.nhs.uk,Jo Other,clinical,operational,consultant,,no")

    _, stderr = failed_import("RAA", path)

    assert "line 3: duplicate email jo@ashby.nhs.uk (first on line 2)" in stderr
    assert counts() == (0, 0, 0)


def test_every_bad_row_is_reported_not_just_the_first(trust):
    error, stderr = failed_import("RAA", DATA / "bad.csv")

    assert error == "5 error(s) in bad.csv; nothing was imported."
    for line in (3, 4, 5, 6, 7):
        assert f"bad.csv: line {line}: " in stderr
    assert "line 2:" not in stderr


def test_one_bad_row_among_good_ones_writes_nothing(tmp_path, trust, consultant_membership):
    rows = GOOD.read_text().splitlines()[1:]
    path = write_csv(tmp_path, *rows, "jo@ashby.nhs.uk,Jo Bloggs,clinical,operational,porter,,no")
    before = snapshot()

    failed_import("RAA", path)

    assert snapshot() == before


def test_bad_row_also_blocks_updates_to_existing_members(tmp_path, trust):
    run_import("RAA", GOOD)
    before = snapshot()
    path = write_csv(
        tmp_path,
        "consultant1@ashby.nhs.uk,Eve Hughes,clinical,operational,clinical_director,Surgery,yes",
        "jo@ashby.nhs.uk,Jo Bloggs,clinical,operational,consultant,,perhaps",
    )

    failed_import("RAA", path)

    assert snapshot() == before


# --- the file as a whole ------------------------------------------------------------------


def test_utf8_with_bom_is_read(tmp_path, trust):
    path = tmp_path / "bom.csv"
    path.write_bytes(
        f"{HEADER}\r\nzoe@ashby.nhs.uk,Zoë Ní Bhriain,clinical,operational,consultant,,no\r\n".encode("utf-8-sig")
    )

    run_import("RAA", path)

    assert membership("zoe@ashby.nhs.uk", trust).user.full_name == "Zoë Ní Bhriain"


def test_windows_1252_is_read(tmp_path, trust):
    path = write_csv(
        tmp_path,
        "sean@ashby.nhs.uk,Seán Ó Briain,clinical,operational,consultant,Women’s Health,no",
        "zoe@ashby.nhs.uk,Zoë Brontë,managerial,operational,directorate_manager,,no",
        encoding="cp1252",
    )

    run_import("RAA", path)

    sean = membership("sean@ashby.nhs.uk", trust)
    assert (sean.user.full_name, sean.directorate.name) == ("Seán Ó Briain", "Women’s Health")
    assert membership("zoe@ashby.nhs.uk", trust).user.full_name == "Zoë Brontë"


def test_utf16_file_is_refused_with_a_clear_message(tmp_path, trust):
    path = write_csv(tmp_path, ROW, encoding="utf-16")

    error, _ = failed_import("RAA", path)

    assert "NUL bytes" in error
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    "header, message",
    [
        (
            "mail,full_name,professional_group,level,role,directorate,receives_board_report",
            "The header is wrong (missing column(s): email; unknown column(s): mail)",
        ),
        (
            "email,full_name,professional_group,level,role,directorate",
            "The header is wrong (missing column(s): receives_board_report)",
        ),
        (
            "email,email,full_name,professional_group,level,role,directorate,receives_board_report",
            "Duplicate column(s) in the header: email",
        ),
        (
            "jo@ashby.nhs.uk,Jo Bloggs,clinical,operational,consultant,Medicine,no",
            "The header is wrong (missing column(s): email,",
        ),
    ],
)
def test_wrong_header_is_refused_with_a_clear_message(tmp_path, trust, header, message):
    path = write_csv(tmp_path, ROW, header=header)

    _, stderr = failed_import("RAA", path)

    assert f"people.csv: line 1: {message}" in stderr
    assert counts() == (0, 0, 0)


def test_wrong_header_message_shows_the_expected_header(tmp_path, trust):
    _, stderr = failed_import("RAA", write_csv(tmp_path, ROW, header="mail,name"))

    assert "Expected: " + HEADER in stderr


def test_empty_file_is_refused_with_a_clear_message(tmp_path, trust):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    error, stderr = failed_import("RAA", path)

    assert "line 1: The file is empty: expected a header row with " + HEADER in stderr
    assert "nothing was imported" in error


def test_header_without_rows_is_refused(tmp_path, trust):
    error, stderr = failed_import("RAA", write_csv(tmp_path))

    assert "line 1: The file has a header but no data rows." in stderr
    assert "nothing was imported" in error


def test_unknown_trust_code_is_refused(trust):
    error, _ = failed_import("RZZ", GOOD)

    assert error == "No trust with code 'RZZ'. Create it with create_trust first."
    assert counts() == (0, 0, 0)


def test_missing_file_is_refused(tmp_path, trust):
    path = tmp_path / "nowhere.csv"

    error, _ = failed_import("RAA", path)

    assert error == f"No such file: {path}"


def test_directory_instead_of_a_file_is_refused_with_a_clear_message(tmp_path, trust):
    # A directory (or an unreadable file) must give a CommandError, not a traceback.
    error, _ = failed_import("RAA", tmp_path)

    assert str(tmp_path) in error


# --- large files -------------------------------------------------------------------------


def big_csv(tmp_path, count=2500):
    groups = [
        ("clinical", "operational", "consultant"),
        ("managerial", "operational", "directorate_manager"),
        ("clinical", "board", "board_member"),
        ("managerial", "board", "board_member"),
    ]
    rows = [
        f"person{i}@ashby.nhs.uk,Person {i},{','.join(groups[i % 4])},Directorate {i % 7},{'yes' if i % 3 else 'no'}"
        for i in range(count)
    ]
    return write_csv(tmp_path, *rows, name="big.csv")


def test_large_file_shows_progress_on_stderr(tmp_path, trust):
    out, stderr = run_import("RAA", big_csv(tmp_path))

    assert "Checked 1,000/2,500" in stderr
    assert "Checked 2,500/2,500 rows" in stderr
    assert "Imported 2,500/2,500 rows" in stderr
    assert "2500 created, 0 updated, 0 unchanged, 7 directorate(s) created" in out
    assert counts() == (2500, 2500, 7)


def test_applying_a_large_file_uses_bulk_queries(tmp_path, trust, django_assert_max_num_queries):
    plan = people_import_plan(trust=trust, text=big_csv(tmp_path).read_text())
    assert plan.is_valid

    # Reading the existing users, memberships and directorates is one query each; writing
    # is bulk_create/bulk_update in batches, plus savepoints. A row-by-row apply would take
    # thousands of queries. SQLite binds at most 999 parameters per statement, so Django
    # splits each bulk_create into batches of about 100 rows: 2,500 new people and
    # memberships take about 50 INSERTs there (5 on PostgreSQL). The bound allows that and
    # nothing per row.
    with django_assert_max_num_queries(60):
        result = people_import_apply(trust=trust, plan=plan)

    assert result.created == 2500


def test_updating_a_large_file_uses_bulk_queries(tmp_path, trust, django_assert_max_num_queries):
    path = big_csv(tmp_path)
    run_import("RAA", path)
    changed = path.read_text().replace(",no\n", ",yes\n")
    plan = people_import_plan(trust=trust, text=changed)

    # Reads as above, then bulk_update in batches (CASE WHEN ... per batch): 834 changed
    # memberships are about a dozen statements on SQLite, not 834 UPDATEs.
    with django_assert_max_num_queries(40):
        result = people_import_apply(trust=trust, plan=plan)

    assert (result.created, result.updated) == (0, 834)


# --- invitations --------------------------------------------------------------------------


def test_invite_sends_one_invitation_per_new_person(trust, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run_import("RAA", GOOD, "--invite")

    assert "5 invitation(s) sent" in out
    assert len(mail.outbox) == 5
    assert {message.to[0] for message in mail.outbox} == GOOD_EMAILS
    assert all("/invitations/" in message.body for message in mail.outbox)


def test_rerunning_with_invite_sends_no_more_invitations(trust, django_capture_on_commit_callbacks, unscoped):
    with django_capture_on_commit_callbacks(execute=True):
        run_import("RAA", GOOD, "--invite")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run_import("RAA", GOOD, "--invite")

    assert "0 invitation(s) sent" in out
    assert mail.outbox == []
    assert Invitation.objects.count() == 5


def test_invite_skips_people_who_already_have_a_password(
    tmp_path, trust, consultant_membership, django_capture_on_commit_callbacks
):
    path = write_csv(tmp_path, ROW, "consultant@ashby.nhs.uk,Con Sultant,clinical,operational,consultant,,no")

    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run_import("RAA", path, "--invite")

    assert "1 invitation(s) sent" in out
    assert [message.to for message in mail.outbox] == [["jo@ashby.nhs.uk"]]


def test_without_invite_no_email_is_sent(trust, django_capture_on_commit_callbacks, unscoped):
    with django_capture_on_commit_callbacks(execute=True):
        run_import("RAA", GOOD)

    assert mail.outbox == []
    assert not Invitation.objects.exists()
