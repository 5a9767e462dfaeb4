"""The role matrix of objectives/rules.py: pure functions of a membership and an objective,
tested on unsaved instances (no database)."""

import pytest

from objectives import rules
from objectives.models import Objective, Side, Status
from partnership.models import Membership

TRUST, OTHER_TRUST = 1, 2
SURGERY, MEDICINE = 10, 11


def member(role, group, level, directorate=None, trust=TRUST, active=True):
    return Membership(
        trust_id=trust,
        role=role,
        professional_group=group,
        level=level,
        directorate_id=directorate,
        is_active=active,
    )


def md(**kw):
    return member("medical_director", "clinical", "board", **kw)


def ceo(**kw):
    return member("chief_executive", "managerial", "board", **kw)


def clinical_board(**kw):
    return member("board_member", "clinical", "board", **kw)


def managerial_board(**kw):
    return member("board_member", "managerial", "board", **kw)


def cd(directorate=SURGERY, **kw):
    return member("clinical_director", "clinical", "operational", directorate=directorate, **kw)


def dm(directorate=SURGERY, **kw):
    return member("directorate_manager", "managerial", "operational", directorate=directorate, **kw)


def consultant(directorate=SURGERY, **kw):
    return member("consultant", "clinical", "operational", directorate=directorate, **kw)


def administrator(level="operational", group="managerial", **kw):
    return member("administrator", group, level, **kw)


def objective(status=Status.PROPOSED, directorate=None, trust=TRUST):
    return Objective(trust_id=trust, status=status, directorate_id=directorate)


BOARD_AUTHORS = [md, ceo, clinical_board, managerial_board]
NON_AUTHORS = [consultant, administrator]


# --- can_author ------------------------------------------------------------------------


@pytest.mark.parametrize("who", BOARD_AUTHORS)
def test_board_authors_may_write_trust_wide_objectives(who):
    assert rules.can_author(who(), None)


@pytest.mark.parametrize("who", BOARD_AUTHORS)
def test_board_authors_may_write_directorate_objectives(who):
    assert rules.can_author(who(), SURGERY)


@pytest.mark.parametrize("who", [cd, dm])
def test_directorate_leaders_may_write_their_own_directorates_objectives(who):
    assert rules.can_author(who(directorate=SURGERY), SURGERY)


@pytest.mark.parametrize("who", [cd, dm])
def test_directorate_leaders_may_not_write_another_directorates_objectives(who):
    assert not rules.can_author(who(directorate=SURGERY), MEDICINE)


@pytest.mark.parametrize("who", [cd, dm])
def test_directorate_leaders_may_not_write_trust_wide_objectives(who):
    assert not rules.can_author(who(), None)


@pytest.mark.parametrize("who", NON_AUTHORS)
@pytest.mark.parametrize("directorate", [None, SURGERY])
def test_consultants_and_administrators_may_not_write_objectives(who, directorate):
    assert not rules.can_author(who(), directorate)


def test_a_board_level_administrator_may_not_write_objectives():
    assert not rules.can_author(administrator(level="board"), None)


@pytest.mark.parametrize("who", [md, cd])
def test_inactive_members_may_not_write_objectives(who):
    assert not rules.can_author(who(active=False), SURGERY)


def test_nobody_may_write_without_a_membership():
    assert not rules.can_author(None, None)


@pytest.mark.parametrize("who", [md, ceo, cd, dm])
def test_authors_see_the_new_objective_button(who):
    assert rules.can_create_any(who())


@pytest.mark.parametrize("who", NON_AUTHORS)
def test_consultants_and_administrators_do_not_see_the_new_objective_button(who):
    assert not rules.can_create_any(who())


def test_a_clinical_director_without_a_directorate_does_not_see_the_new_objective_button():
    assert not rules.can_create_any(cd(directorate=None))


# --- signoff_side ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "side"),
    [(md, Side.CLINICAL), (clinical_board, Side.CLINICAL), (ceo, Side.MANAGERIAL), (managerial_board, Side.MANAGERIAL)],
)
def test_board_members_sign_trust_wide_objectives_for_their_professional_group(who, side):
    assert rules.signoff_side(who(), objective()) == side


@pytest.mark.parametrize("who", [cd, dm, consultant, administrator])
def test_operational_staff_do_not_sign_trust_wide_objectives(who):
    assert rules.signoff_side(who(), objective()) is None


@pytest.mark.parametrize("group", ["clinical", "managerial"])
def test_a_board_level_administrator_does_not_sign_trust_wide_objectives(group):
    assert rules.signoff_side(administrator(level="board", group=group), objective()) is None


@pytest.mark.parametrize(("who", "side"), [(cd, Side.CLINICAL), (dm, Side.MANAGERIAL)])
def test_directorate_leaders_sign_their_directorates_objectives(who, side):
    assert rules.signoff_side(who(directorate=SURGERY), objective(directorate=SURGERY)) == side


@pytest.mark.parametrize("who", BOARD_AUTHORS)
def test_board_members_do_not_sign_directorate_objectives(who):
    assert rules.signoff_side(who(), objective(directorate=SURGERY)) is None


@pytest.mark.parametrize("who", [cd, dm])
def test_another_directorates_leaders_do_not_sign_a_directorate_objective(who):
    assert rules.signoff_side(who(directorate=MEDICINE), objective(directorate=SURGERY)) is None


def test_a_consultant_of_the_directorate_does_not_sign_its_objectives():
    assert rules.signoff_side(consultant(directorate=SURGERY), objective(directorate=SURGERY)) is None


def test_members_of_another_trust_do_not_sign():
    assert rules.signoff_side(md(trust=OTHER_TRUST), objective()) is None


def test_inactive_members_do_not_sign():
    assert rules.signoff_side(ceo(active=False), objective()) is None


# --- lifecycle actions by status --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "allowed"),
    [("draft", True), ("proposed", True), ("agreed", True), ("achieved", False), ("retired", False)],
)
def test_objectives_are_editable_until_achieved_or_retired(status, allowed):
    assert rules.can_edit(md(), objective(status=status)) is allowed


@pytest.mark.parametrize(
    ("status", "allowed"),
    [("draft", True), ("proposed", False), ("agreed", False), ("achieved", False), ("retired", False)],
)
def test_only_drafts_are_proposed(status, allowed):
    assert rules.can_propose(md(), objective(status=status)) is allowed


@pytest.mark.parametrize(
    ("status", "allowed"),
    [("draft", False), ("proposed", True), ("agreed", False), ("achieved", False), ("retired", False)],
)
def test_only_proposals_are_signed_off(status, allowed):
    assert rules.can_sign_off(ceo(), objective(status=status), set()) is allowed


def test_a_side_that_has_signed_cannot_sign_again():
    assert not rules.can_sign_off(clinical_board(), objective(), {Side.CLINICAL})


def test_the_other_side_can_sign_after_one_side_has_signed():
    assert rules.can_sign_off(ceo(), objective(), {Side.CLINICAL})


@pytest.mark.parametrize(
    ("status", "allowed"),
    [("draft", False), ("proposed", False), ("agreed", True), ("achieved", False), ("retired", False)],
)
def test_only_agreed_objectives_are_marked_achieved(status, allowed):
    assert rules.can_mark_achieved(md(), objective(status=status)) is allowed


@pytest.mark.parametrize(
    ("status", "allowed"),
    [("draft", True), ("proposed", True), ("agreed", True), ("achieved", False), ("retired", False)],
)
def test_draft_proposed_and_agreed_objectives_can_be_retired(status, allowed):
    assert rules.can_retire(md(), objective(status=status)) is allowed


@pytest.mark.parametrize("action", [rules.can_edit, rules.can_mark_achieved, rules.can_retire])
@pytest.mark.parametrize("who", NON_AUTHORS)
def test_consultants_and_administrators_cannot_change_an_agreed_objective(action, who):
    assert not action(who(), objective(status=Status.AGREED))


def test_a_clinical_director_cannot_edit_a_trust_wide_objective():
    assert not rules.can_edit(cd(), objective(status=Status.DRAFT))


def test_a_clinical_director_can_edit_their_directorates_objective():
    assert rules.can_edit(cd(directorate=SURGERY), objective(status=Status.AGREED, directorate=SURGERY))
