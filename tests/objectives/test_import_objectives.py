"""`manage.py import_objectives TRUST_CODE FILE.csv` (DESIGN.md §6): all rows checked first,
nothing written when any is bad, re-running changes nothing."""

import io
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from objectives.importing import objectives_import_apply, objectives_import_plan
from objectives.models import Objective, SignOff, SignOffRequest
from tests.factories import DirectorateFactory, MembershipFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data" / "objectives"
GOOD = DATA / "good.csv"
HEADER = "ref,title,description,theme,directorate,clinical_lead_email,managerial_lead_email,status"
ROW = "OBJ-10,Shared dashboard,,dialogue,,md@ashby.nhs.uk,ceo@ashby.nhs.uk,draft"


@pytest.fixture
def people(trust, other_trust):
    """The leads good.csv names, in trust RAA; and a medical director of RBB."""
    surgery = DirectorateFactory(trust=trust, name="Surgery")
    DirectorateFactory(trust=trust, name="Medicine")
    DirectorateFactory(trust=other_trust, name="Cardiology")
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


def write_csv(tmp_path, *rows, header=HEADER, encoding="utf-8", name="objectives.csv"):
    path = tmp_path / name
    path.write_bytes("".join(f"{line}\r\n" for line in (header, *rows)).encode(encoding))
    return path


def run_import(trust_code, path):
    """(stdout, stderr) of a successful import."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_objectives", trust_code, str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failed_import(trust_code, path):
    """(CommandError message, stderr) of an import that must fail."""
    err = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_objectives", trust_code, str(path), stdout=io.StringIO(), stderr=err)
    return str(excinfo.value), err.getvalue()


def snapshot():
    """Every stored objective, history record and sign-off, to show that nothing changed."""
    with scopes_disabled():
        return (
            list(Objective.objects.order_by("pk").values()),
            list(Objective.history.order_by("pk").values()),
            list(SignOff.objects.order_by("pk").values()),
        )


def objective(trust, ref):
    with scopes_disabled():
        return Objective.objects.select_related("directorate", "clinical_lead__user", "managerial_lead__user").get(
            trust=trust, ref=ref
        )


def history_count():
    with scopes_disabled():
        return Objective.history.count()


# --- a good file ---------------------------------------------------------------------------


def test_good_file_creates_objectives_with_leads_directorates_and_status(trust, people):
    out, _ = run_import("RAA", GOOD)

    assert out.strip() == "Imported good.csv into RAA: 4 created, 0 updated, 0 unchanged"
    plan_obj = objective(trust, "OBJ-01")
    assert (plan_obj.title, plan_obj.theme, plan_obj.status, plan_obj.directorate) == (
        "Clinicians shape the annual plan",
        "clinical-focus",
        "agreed",
        None,
    )
    assert plan_obj.description == "Clinical directors co-write each directorate's plan, with the finance team."
    assert (plan_obj.clinical_lead, plan_obj.managerial_lead) == (people["md"], people["ceo"])
    assert plan_obj.agreed_at is not None
    huddles = objective(trust, "OBJ-02")
    assert (huddles.status, huddles.directorate.name) == ("proposed", "Surgery")
    assert (huddles.clinical_lead, huddles.managerial_lead) == (people["cd"], people["dm"])
    assert huddles.proposed_at is not None
    review = objective(trust, "OBJ-03")
    assert review.directorate.name == "Surgery"  # "surgery" in the file: matched whatever its case
    assert review.clinical_lead == people["cd"]  # email matched whatever its case
    assert review.managerial_lead is None
    assert review.description == "First we count them.\nThen we talk about them together."
    board = objective(trust, "OBJ-04")  # blank ref: the next free OBJ-NN
    assert (board.title, board.status, board.theme) == (
        "Board hears both views on every business case",
        "draft",  # blank status
        "seeking-challenge",
    )


def test_every_created_objective_has_a_history_record_naming_the_file(trust, people, unscoped):
    run_import("RAA", GOOD)

    records = list(Objective.history.order_by("ref").values_list("ref", "history_type", "history_change_reason"))
    assert records == [
        ("OBJ-01", "+", "Imported as agreed (agreed before import, no sign-offs) from good.csv"),
        ("OBJ-02", "+", "Imported as proposed from good.csv"),
        ("OBJ-03", "+", "Imported from good.csv"),
        ("OBJ-04", "+", "Imported from good.csv"),
    ]


def test_imported_agreed_objective_has_no_sign_offs_and_nothing_is_emailed(
    trust, people, unscoped, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run_import("RAA", GOOD)

    assert SignOff.objects.count() == 0
    assert SignOffRequest.objects.count() == 0  # proposals by import are announced by the proposer
    assert mail.outbox == []


def test_history_user_is_the_person_importing_in_the_service(trust, people, admin_membership, unscoped):
    plan = objectives_import_plan(trust=trust, text=GOOD.read_text())
    objectives_import_apply(trust=trust, plan=plan, by_user=admin_membership.user, source="board-2024.csv")

    assert set(Objective.history.values_list("history_user", flat=True)) == {admin_membership.user.pk}
    assert set(Objective.objects.values_list("created_by", flat=True)) == {admin_membership.user.pk}
    assert Objective.history.filter(history_change_reason="Imported from board-2024.csv").count() == 2


def test_blank_refs_get_distinct_refs_after_the_trust_and_file_refs(tmp_path, trust, people):
    with scopes_disabled():
        Objective.objects.create(trust=trust, ref="OBJ-03", title="Existing", theme="dialogue")
    path = write_csv(
        tmp_path,
        ",First without a ref,,dialogue,,,,",
        "OBJ-07,Given a ref,,dialogue,,,,",
        ",Second without a ref,,continuity,,,,",
    )

    out, _ = run_import("RAA", path)

    assert "3 created" in out
    with scopes_disabled():
        assert sorted(Objective.objects.filter(trust=trust).values_list("ref", "title")) == [
            ("OBJ-03", "Existing"),
            ("OBJ-07", "Given a ref"),
            ("OBJ-08", "First without a ref"),
            ("OBJ-09", "Second without a ref"),
        ]


def test_values_are_trimmed_and_vocabulary_is_case_insensitive(tmp_path, trust, people):
    path = write_csv(tmp_path, " obj-10 ,  Shared   dashboard , , Dialogue , SURGERY , MD@Ashby.nhs.uk ,, Draft ")

    run_import("RAA", path)

    shared = objective(trust, "OBJ-10")
    assert (shared.title, shared.theme, shared.directorate.name, shared.clinical_lead, shared.status) == (
        "Shared dashboard",
        "dialogue",
        "Surgery",
        people["md"],
        "draft",
    )


def test_html_is_stored_as_text(tmp_path, trust, people):
    path = write_csv(tmp_path, 'OBJ-10,<script>alert(1)</script>,"<b>bold</b> & more",dialogue,,,,')

    run_import("RAA", path)

    stored = objective(trust, "OBJ-10")
    assert (stored.title, stored.description) == ("<script>alert(1)</script>", "<b>bold</b> & more")


def test_title_of_exactly_200_characters_is_accepted(tmp_path, trust, people):
    run_import("RAA", write_csv(tmp_path, "OBJ-10," + "T" * 200 + "," + "D" * 4000 + ",dialogue,,,,"))

    assert len(objective(trust, "OBJ-10").title) == 200


def test_trust_code_is_case_insensitive(trust, people):
    out, _ = run_import("raa", GOOD)

    assert "4 created" in out


def test_columns_may_come_in_any_order(tmp_path, trust, people):
    header = "status,managerial_lead_email,clinical_lead_email,directorate,theme,description,title,ref"
    path = write_csv(
        tmp_path, "agreed,ceo@ashby.nhs.uk,md@ashby.nhs.uk,,continuity,,Keep leaders,OBJ-10", header=header
    )

    run_import("RAA", path)

    kept = objective(trust, "OBJ-10")
    assert (kept.title, kept.status, kept.managerial_lead) == ("Keep leaders", "agreed", people["ceo"])


# --- re-running and updating ---------------------------------------------------------------


def test_rerunning_the_same_file_changes_nothing(trust, people):
    run_import("RAA", GOOD)
    before = snapshot()

    out, _ = run_import("RAA", GOOD)

    assert out.strip() == "Imported good.csv into RAA: 0 created, 0 updated, 4 unchanged"
    assert snapshot() == before  # no new history records either


def test_changed_title_updates_that_objective_only(tmp_path, trust, people):
    run_import("RAA", GOOD)
    before = history_count()
    text = GOOD.read_text().replace("Monthly joint huddles in surgery", "Fortnightly joint huddles in surgery")
    path = tmp_path / "changed.csv"
    path.write_text(text)

    out, _ = run_import("RAA", path)

    assert out.strip() == "Imported changed.csv into RAA: 0 created, 1 updated, 3 unchanged"
    assert objective(trust, "OBJ-02").title == "Fortnightly joint huddles in surgery"
    assert history_count() == before + 1
    with scopes_disabled():
        latest = Objective.history.latest()
    assert (latest.ref, latest.history_type, latest.history_change_reason) == (
        "OBJ-02",
        "~",
        "Imported from changed.csv: sign-offs cleared",  # a proposal's wording changed
    )


def test_blank_ref_rows_are_matched_by_title(tmp_path, trust, people):
    path = write_csv(tmp_path, ",Board hears both views,,dialogue,,,,draft")
    run_import("RAA", path)
    path = write_csv(tmp_path, ",Board hears both views,Now with a description,dialogue,,,,draft")

    out, _ = run_import("RAA", path)

    assert "0 created, 1 updated, 0 unchanged" in out
    with scopes_disabled():
        assert list(Objective.objects.values_list("ref", "description")) == [("OBJ-01", "Now with a description")]


def test_an_import_cannot_propose_an_existing_objective(tmp_path, trust, people, unscoped):
    """Proposing asks both sides for their sign-off: it is done on the objective's page."""
    run_import("RAA", write_csv(tmp_path, ROW))

    message, err = failed_import("RAA", write_csv(tmp_path, ROW.replace(",draft", ",proposed")))

    assert message == "1 error(s) in objectives.csv; nothing was imported."
    assert "line 2: OBJ-10: an import cannot move a draft objective to proposed" in err
    shared = objective(trust, "OBJ-10")
    assert (shared.status, shared.proposal_version) == ("draft", 0)
    assert SignOffRequest.objects.count() == 0
    assert mail.outbox == []


def test_retiring_an_agreed_objective_by_import_keeps_its_sign_offs(tmp_path, trust, people, unscoped):
    run_import("RAA", write_csv(tmp_path, ROW.replace(",draft", ",agreed")))
    shared = objective(trust, "OBJ-10")
    SignOff.objects.create(trust=trust, objective=shared, side="clinical", membership=people["md"])

    run_import("RAA", write_csv(tmp_path, ROW.replace(",draft", ",retired")))

    assert objective(trust, "OBJ-10").status == "retired"
    assert SignOff.objects.count() == 1


def test_a_closed_objective_is_not_changed_by_an_import(tmp_path, trust, people, unscoped):
    run_import("RAA", write_csv(tmp_path, ROW.replace(",draft", ",retired")))

    _, err = failed_import(
        "RAA", write_csv(tmp_path, ROW.replace("Shared dashboard", "Renamed").replace(",draft", ",retired"))
    )

    assert "OBJ-10: it is retired: a closed objective cannot be changed" in err
    assert objective(trust, "OBJ-10").title == "Shared dashboard"


def test_rewording_a_proposal_warns_and_clears_its_sign_offs(tmp_path, trust, people, unscoped):
    Objective.objects.create(
        trust=trust,
        ref="OBJ-10",
        title="Shared dashboard",
        theme="dialogue",
        status="proposed",
        clinical_lead=people["md"],
        managerial_lead=people["ceo"],
        proposal_version=1,
    )
    SignOff.objects.create(
        trust=trust, objective=Objective.objects.get(ref="OBJ-10"), side="clinical", membership=people["md"]
    )
    row = ROW.replace("Shared dashboard", "Shared dashboard for all").replace(",draft", ",proposed")

    _, err = run_import("RAA", write_csv(tmp_path, row))

    assert "line 2: OBJ-10: the wording changes, so its sign-offs will be cleared" in err
    shared = objective(trust, "OBJ-10")
    assert (shared.title, shared.status, shared.proposal_version) == ("Shared dashboard for all", "proposed", 2)
    assert SignOff.objects.count() == 0


def test_moving_an_agreed_objective_back_to_draft_clears_its_sign_offs(tmp_path, trust, people, unscoped):
    run_import("RAA", write_csv(tmp_path, ROW.replace(",draft", ",agreed")))
    shared = objective(trust, "OBJ-10")
    SignOff.objects.create(trust=trust, objective=shared, side="clinical", membership=people["md"])

    run_import("RAA", write_csv(tmp_path, ROW))

    shared.refresh_from_db()
    assert (shared.status, shared.agreed_at) == ("draft", None)
    assert SignOff.objects.count() == 0
    assert SignOff.history.filter(history_type="-").count() == 1


def test_objectives_missing_from_the_file_and_other_fields_are_left_alone(tmp_path, trust, people, unscoped):
    target = timezone.localdate()
    Objective.objects.create(trust=trust, ref="OBJ-99", title="Not in the file", theme="continuity")
    run_import("RAA", write_csv(tmp_path, ROW))
    Objective.objects.filter(ref="OBJ-10").update(success_measure="Used weekly", target_date=target)

    run_import("RAA", write_csv(tmp_path, ROW.replace("Shared dashboard", "Shared dashboards")))

    shared = objective(trust, "OBJ-10")
    assert (shared.title, shared.success_measure, shared.target_date) == ("Shared dashboards", "Used weekly", target)
    assert objective(trust, "OBJ-99").title == "Not in the file"


def test_same_ref_in_another_trust_is_a_different_objective(tmp_path, trust, other_trust, people, unscoped):
    Objective.objects.create(trust=other_trust, ref="OBJ-10", title="Brook's own", theme="continuity")

    out, _ = run_import("RAA", write_csv(tmp_path, ROW))

    assert "1 created" in out
    assert Objective.objects.get(trust=other_trust).title == "Brook's own"


# --- bad rows: nothing is written ------------------------------------------------------------


@pytest.mark.parametrize(
    "row, message",
    [
        ("OBJ-10,Shared dashboard,,synergy,,,,draft", "unknown theme 'synergy' (one of: clinical-focus, "),
        ("OBJ-10,Shared dashboard,,,,,,draft", "theme is blank (one of: clinical-focus, "),
        (
            "OBJ-10,Shared dashboard,,dialogue,,,,approved",
            "unknown status 'approved' (one of: draft, proposed, agreed, achieved, retired)",
        ),
        (
            "OBJ-10,Shared dashboard,,dialogue,,md@brook.nhs.uk,,draft",
            "clinical_lead_email md@brook.nhs.uk is not an active member of this trust",
        ),
        (
            "OBJ-10,Shared dashboard,,dialogue,,nobody@ashby.nhs.uk,,draft",
            "clinical_lead_email nobody@ashby.nhs.uk is not an active member of this trust",
        ),
        (
            "OBJ-10,Shared dashboard,,dialogue,,ceo@ashby.nhs.uk,,draft",
            "clinical_lead_email ceo@ashby.nhs.uk is in the managerial group; the clinical lead must be clinical",
        ),
        (
            "OBJ-10,Shared dashboard,,dialogue,,,md@ashby.nhs.uk,draft",
            "managerial_lead_email md@ashby.nhs.uk is in the clinical group; the managerial lead must be managerial",
        ),
        (
            "OBJ-10,Shared dashboard,,dialogue,,not-an-email,,draft",
            "clinical_lead_email 'not-an-email' is not a valid email address",
        ),
        (
            "OBJ-10,Shared dashboard,,dialogue,Surgry,,,draft",
            "unknown directorate 'Surgry' (known: Medicine, Surgery); leave it blank for trust-wide",
        ),
        (
            "OBJ-10,Shared dashboard,,dialogue,Cardiology,,,draft",  # another trust's directorate
            "unknown directorate 'Cardiology' (known: Medicine, Surgery)",
        ),
        ("OBJ-10," + "T" * 201 + ",,dialogue,,,,draft", "title is longer than 200 characters (201)"),
        (
            "OBJ-10,Shared dashboard," + "D" * 4001 + ",dialogue,,,,",
            "description is longer than 4000 characters (4001)",
        ),
        ("OBJ-10,   ,,dialogue,,,,draft", "title is blank"),
        (
            "OBJ 10,Shared dashboard,,dialogue,,,,draft",
            "ref 'OBJ 10' is not valid: up to 20 capital letters, digits and hyphens, e.g. OBJ-07",
        ),
        (
            "OBJ-10,Shared dashboard,,dialogue,,md@ashby.nhs.uk,,agreed",
            "status agreed needs both a clinical_lead_email and a managerial_lead_email",
        ),
        ("OBJ-10,Shared dashboard,,dialogue,,,draft", "expected 8 values, found 7"),
        (
            "OBJ-01,Duplicate,,dialogue,,,,draft",
            "duplicate ref OBJ-01 (first on line 2)",
        ),
        (
            ",First row's title,,dialogue,,,,draft",
            "the title is also on line 2; a row without a ref is matched by its title, so give this row a ref",
        ),
    ],
)
def test_bad_row_is_reported_by_line_and_nothing_is_written(tmp_path, trust, people, row, message):
    path = write_csv(tmp_path, "obj-01,First row's title,,dialogue,,,,draft", row)
    before = snapshot()

    error, stderr = failed_import("RAA", path)

    assert f"objectives.csv: line 3: {message}" in stderr
    assert error == "1 error(s) in objectives.csv; nothing was imported."
    assert snapshot() == before


def test_inactive_member_cannot_lead(tmp_path, trust, people):
    MembershipFactory(trust=trust, medical_director=True, user__email="gone@ashby.nhs.uk", is_active=False)

    _, stderr = failed_import("RAA", write_csv(tmp_path, "OBJ-10,Shared,,dialogue,,gone@ashby.nhs.uk,,draft"))

    assert "line 2: clinical_lead_email gone@ashby.nhs.uk is not an active member of this trust" in stderr


def test_lead_from_another_trust_is_refused_even_when_they_are_active_there(tmp_path, trust, people, unscoped):
    assert people["brook_md"].is_active
    path = write_csv(tmp_path, "OBJ-10,Shared,,dialogue,,md@brook.nhs.uk,ceo@ashby.nhs.uk,draft")

    error, stderr = failed_import("RAA", path)

    assert "line 2: clinical_lead_email md@brook.nhs.uk is not an active member of this trust" in stderr
    assert Objective.objects.count() == 0


def test_unknown_directorate_when_the_trust_has_none_says_so(tmp_path, trust):
    _, stderr = failed_import("RAA", write_csv(tmp_path, "OBJ-10,Shared,,dialogue,Surgery,,,draft"))

    assert "this trust has no directorates yet; import the staff list first" in stderr


def test_unknown_directorate_is_not_created(tmp_path, trust, people, unscoped):
    from partnership.models import Directorate

    before = Directorate.objects.count()

    failed_import("RAA", write_csv(tmp_path, "OBJ-10,Shared,,dialogue,Oncology,,,draft"))

    assert Directorate.objects.count() == before


def test_blank_ref_title_matching_several_objectives_is_ambiguous(tmp_path, trust, people, unscoped):
    for ref in ("OBJ-01", "OBJ-02"):
        Objective.objects.create(trust=trust, ref=ref, title="Twice", theme="dialogue")

    _, stderr = failed_import("RAA", write_csv(tmp_path, ",Twice,,dialogue,,,,draft"))

    assert "line 2: the title matches several objectives (OBJ-01, OBJ-02); give the ref" in stderr


def test_blank_ref_row_cannot_match_an_objective_another_row_updates_by_ref(tmp_path, trust, people, unscoped):
    Objective.objects.create(trust=trust, ref="OBJ-01", title="Old title", theme="dialogue")
    path = write_csv(tmp_path, "OBJ-01,New title,,dialogue,,,,draft", ",Old title,,dialogue,,,,draft")

    _, stderr = failed_import("RAA", path)

    assert "line 3: the title matches OBJ-01, which line 2 updates by its ref; give this row a ref" in stderr


def test_every_bad_row_is_reported_not_just_the_first(trust, people):
    before = snapshot()

    error, stderr = failed_import("RAA", DATA / "bad.csv")

    assert error == "10 error(s) in bad.csv; nothing was imported."
    expected = [
        "line 3: unknown theme 'synergy'",
        "line 4: unknown status 'approved'",
        "line 5: clinical_lead_email md@brook.nhs.uk is not an active member of this trust",
        "line 6: clinical_lead_email ceo@ashby.nhs.uk is in the managerial group",
        "line 6: managerial_lead_email md@ashby.nhs.uk is in the clinical group",
        "line 7: duplicate ref OBJ-01 (first on line 2)",
        "line 8: unknown directorate 'Surgry' (known: Medicine, Surgery)",
        "line 9: title is longer than 200 characters",
        "line 10: description is longer than 4000 characters",
        "line 11: title is blank",
    ]
    for message in expected:
        assert f"bad.csv: {message}" in stderr
    assert "line 2:" not in stderr
    assert snapshot() == before


def test_bad_row_also_blocks_updates_to_existing_objectives(tmp_path, trust, people):
    run_import("RAA", GOOD)
    before = snapshot()
    rows = GOOD.read_text().replace("Monthly joint", "Weekly joint").splitlines()[1:]
    path = write_csv(tmp_path, *rows, "OBJ-20,Bad theme,,synergy,,,,")

    failed_import("RAA", path)

    assert snapshot() == before


# --- the file as a whole ------------------------------------------------------------------


def test_utf8_with_bom_is_read(tmp_path, trust, people):
    path = tmp_path / "bom.csv"
    path.write_bytes(f"{HEADER}\r\nOBJ-10,Café-style drop-ins for Zoë's team,,dialogue,,,,\r\n".encode("utf-8-sig"))

    run_import("RAA", path)

    assert objective(trust, "OBJ-10").title == "Café-style drop-ins for Zoë's team"


def test_windows_1252_is_read(tmp_path, trust, people):
    path = write_csv(
        tmp_path, "OBJ-10,Women’s health – joint rounds,“Quoted” £5 budget,dialogue,,,,", encoding="cp1252"
    )

    run_import("RAA", path)

    stored = objective(trust, "OBJ-10")
    assert (stored.title, stored.description) == ("Women’s health – joint rounds", "“Quoted” £5 budget")


def test_wrong_header_is_explained(tmp_path, trust):
    path = write_csv(tmp_path, "OBJ-10,Shared", header="ref,name")

    _, stderr = failed_import("RAA", path)

    assert "line 1: The header is wrong (missing column(s): title, description," in stderr
    assert "unknown column(s): name" in stderr


def test_unknown_trust_is_an_error(trust):
    error, _ = failed_import("ZZZ", GOOD)

    assert error == "No trust with code 'ZZZ'. Create it with create_trust first."


def test_missing_file_is_an_error(tmp_path, trust):
    error, _ = failed_import("RAA", tmp_path / "nowhere.csv")

    assert error == f"No such file: {tmp_path / 'nowhere.csv'}"


def test_utf16_file_is_refused_with_a_clear_message(tmp_path, trust):
    error, _ = failed_import("RAA", write_csv(tmp_path, ROW, encoding="utf-16"))

    assert "NUL bytes" in error


# --- cost ---------------------------------------------------------------------------------


def test_checking_a_file_costs_the_same_few_queries_whatever_its_length(
    tmp_path, trust, people, django_assert_num_queries
):
    rows = [
        f"OBJ-{n:02d},Objective {n},,dialogue,Surgery,cd.surgery@ashby.nhs.uk,dm.surgery@ashby.nhs.uk,agreed"
        for n in range(1, 61)
    ]
    text = write_csv(tmp_path, *rows, ",One without a ref,,continuity,,md@ashby.nhs.uk,,").read_text()

    # Directorates, leads (one query for every email), objectives matched by ref or title,
    # and the highest OBJ-NN for the new ref: 4, not one per row.
    with django_assert_num_queries(4):
        plan = objectives_import_plan(trust=trust, text=text)

    assert plan.is_valid, plan.errors
    assert plan.summary() == "61 row(s): 61 new objective(s), 0 updated, 0 unchanged; new ref(s) assigned: OBJ-61"
