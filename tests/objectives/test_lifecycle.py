"""The objective lifecycle through the services: draft → proposed → agreed → achieved | retired,
dual sign-off, and the reset when an agreed wording changes (issue #3)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_scopes import scopes_disabled

from objectives import services
from objectives.models import Objective, Side, SignOff, Status
from tests.factories import DirectorateFactory

pytestmark = pytest.mark.django_db

RESET_WARNING = "Changing the wording returns this objective to proposed and clears its sign-offs"


def signed_sides(objective):
    with scopes_disabled():
        return {signoff.side: signoff.membership for signoff in SignOff.objects.filter(objective=objective)}


def reloaded(objective):
    with scopes_disabled():
        return Objective.objects.get(pk=objective.pk)


# --- creating ----------------------------------------------------------------------------


def test_a_new_objective_is_a_draft_with_the_next_reference(create, board):
    objective = create(by=board.md)

    assert objective.status == Status.DRAFT
    assert objective.ref == "OBJ-01"
    assert objective.created_by == board.md.user


def test_a_reference_given_in_lower_case_is_stored_in_capitals(create):
    assert create(ref="obj-42").ref == "OBJ-42"


@pytest.mark.parametrize("who", ["md", "ceo", "clinical", "managerial"])
def test_board_members_create_trust_wide_objectives(create, board, who):
    assert create(by=getattr(board, who)).status == Status.DRAFT


@pytest.mark.parametrize("who", ["consultant", "admin"])
def test_consultants_and_administrators_cannot_create_objectives(create, board, who):
    with pytest.raises(PermissionDenied):
        create(by=getattr(board, who))
    with scopes_disabled():
        assert not Objective.objects.exists()


@pytest.mark.parametrize("who", ["cd", "dm"])
def test_directorate_leaders_create_objectives_of_their_own_directorate(create, surgery, who):
    objective = create(by=getattr(surgery, who), directorate=surgery.directorate)

    assert objective.directorate == surgery.directorate


@pytest.mark.parametrize("who", ["cd", "dm"])
def test_directorate_leaders_cannot_create_trust_wide_objectives(create, surgery, who):
    with pytest.raises(PermissionDenied):
        create(by=getattr(surgery, who))


@pytest.mark.parametrize("who", ["cd", "dm"])
def test_directorate_leaders_cannot_create_another_directorates_objectives(create, surgery, medicine, who):
    with pytest.raises(PermissionDenied):
        create(by=getattr(surgery, who), directorate=medicine.directorate)


# --- proposing -----------------------------------------------------------------------------


def test_proposing_makes_a_draft_proposed(proposed):
    objective = proposed()

    assert reloaded(objective).status == Status.PROPOSED
    assert reloaded(objective).proposal_version == 1


@pytest.mark.parametrize(("who", "side"), [("md", Side.CLINICAL), ("ceo", Side.MANAGERIAL)])
def test_the_proposers_own_sign_off_counts_for_their_side(proposed, board, who, side):
    proposer = getattr(board, who)

    objective = proposed(by=proposer)

    assert signed_sides(objective) == {side: proposer}


@pytest.mark.parametrize("missing", ["clinical_lead", "managerial_lead"])
def test_proposing_needs_both_leads(create, board, missing):
    objective = create(**{missing: None})

    with pytest.raises(ValidationError, match="lead before proposing"):
        services.objective_propose(objective=objective, by=board.md)

    assert reloaded(objective).status == Status.DRAFT
    assert signed_sides(objective) == {}


@pytest.mark.parametrize("who", ["consultant", "admin"])
def test_consultants_and_administrators_cannot_propose(create, board, who):
    objective = create()

    with pytest.raises(PermissionDenied):
        services.objective_propose(objective=objective, by=getattr(board, who))

    assert reloaded(objective).status == Status.DRAFT


def test_a_proposal_cannot_be_proposed_again(proposed, board):
    with pytest.raises(PermissionDenied):
        services.objective_propose(objective=proposed(), by=board.ceo)


# --- signing off (trust-wide) -------------------------------------------------------------------


@pytest.mark.parametrize("signer", ["ceo", "managerial"])
def test_the_other_sides_sign_off_makes_the_proposal_agreed(proposed, board, signer):
    objective = services.objective_sign_off(objective=proposed(by=board.md), by=getattr(board, signer))

    assert reloaded(objective).status == Status.AGREED
    assert reloaded(objective).agreed_at is not None
    assert set(signed_sides(objective)) == {Side.CLINICAL, Side.MANAGERIAL}


def test_a_managerial_board_members_proposal_is_agreed_by_the_medical_directors_sign_off(create, board):
    objective = create()
    services.objective_propose(objective=objective, by=board.managerial)

    services.objective_sign_off(objective=objective, by=board.md)

    assert reloaded(objective).status == Status.AGREED


@pytest.mark.parametrize("signer", ["md", "clinical"])
def test_the_clinical_side_cannot_sign_twice(proposed, board, signer):
    objective = proposed(by=board.md)

    with pytest.raises(PermissionDenied):
        services.objective_sign_off(objective=objective, by=getattr(board, signer))

    assert signed_sides(objective) == {Side.CLINICAL: board.md}


def test_the_managerial_side_cannot_sign_twice(proposed, board):
    objective = proposed(by=board.ceo)

    with pytest.raises(PermissionDenied):
        services.objective_sign_off(objective=objective, by=board.managerial)

    assert reloaded(objective).status == Status.PROPOSED


@pytest.mark.parametrize("who", ["consultant", "admin"])
def test_consultants_and_administrators_cannot_sign_off(proposed, board, who):
    objective = proposed(by=board.md)

    with pytest.raises(PermissionDenied):
        services.objective_sign_off(objective=objective, by=getattr(board, who))

    assert reloaded(objective).status == Status.PROPOSED


def test_operational_managers_cannot_sign_a_trust_wide_objective(proposed, board, surgery):
    with pytest.raises(PermissionDenied):
        services.objective_sign_off(objective=proposed(by=board.md), by=surgery.dm)


def test_a_draft_cannot_be_signed_off(create, board):
    with pytest.raises(PermissionDenied):
        services.objective_sign_off(objective=create(), by=board.ceo)


def test_an_agreed_objective_cannot_be_signed_off_again(agreed, board):
    with pytest.raises(PermissionDenied):
        services.objective_sign_off(objective=agreed(), by=board.managerial)


# --- directorate objectives ---------------------------------------------------------------


def directorate_fields(team):
    return {"directorate": team.directorate, "clinical_lead": team.cd, "managerial_lead": team.dm}


@pytest.mark.parametrize(("proposer", "signer"), [("cd", "dm"), ("dm", "cd")])
def test_a_directorate_objective_is_agreed_by_its_clinical_director_and_manager(proposed, surgery, proposer, signer):
    objective = proposed(by=getattr(surgery, proposer), **directorate_fields(surgery))

    services.objective_sign_off(objective=objective, by=getattr(surgery, signer))

    assert reloaded(objective).status == Status.AGREED
    assert signed_sides(objective) == {Side.CLINICAL: surgery.cd, Side.MANAGERIAL: surgery.dm}


def test_a_directorate_objective_proposed_by_the_board_needs_both_directorate_sign_offs(proposed, board, surgery):
    objective = proposed(by=board.md, **directorate_fields(surgery))
    assert signed_sides(objective) == {}  # the medical director does not sign for a directorate

    services.objective_sign_off(objective=objective, by=surgery.cd)
    assert reloaded(objective).status == Status.PROPOSED
    services.objective_sign_off(objective=objective, by=surgery.dm)
    assert reloaded(objective).status == Status.AGREED


@pytest.mark.parametrize("who", ["md", "ceo", "clinical", "managerial"])
def test_board_members_cannot_sign_a_directorate_objective(proposed, board, surgery, who):
    objective = proposed(by=surgery.cd, **directorate_fields(surgery))

    with pytest.raises(PermissionDenied):
        services.objective_sign_off(objective=objective, by=getattr(board, who))

    assert reloaded(objective).status == Status.PROPOSED


@pytest.mark.parametrize("who", ["cd", "dm"])
def test_another_directorates_leaders_cannot_sign_a_directorate_objective(proposed, surgery, medicine, who):
    objective = proposed(by=surgery.dm, **directorate_fields(surgery))

    with pytest.raises(PermissionDenied):
        services.objective_sign_off(objective=objective, by=getattr(medicine, who))


def test_a_consultant_of_the_directorate_cannot_sign_its_objective(proposed, surgery):
    objective = proposed(by=surgery.dm, **directorate_fields(surgery))

    with pytest.raises(PermissionDenied):
        services.objective_sign_off(objective=objective, by=surgery.consultant)


@pytest.mark.parametrize("who", ["cd", "dm"])
def test_directorate_leaders_cannot_propose_another_directorates_draft(create, board, surgery, medicine, who):
    draft = create(by=board.md, **directorate_fields(medicine))

    with pytest.raises(PermissionDenied):
        services.objective_propose(objective=draft, by=getattr(surgery, who))


def test_a_clinical_director_cannot_move_their_objective_to_another_directorate(create, surgery, medicine):
    draft = create(by=surgery.cd, **directorate_fields(surgery))

    with pytest.raises(PermissionDenied):
        services.objective_update(objective=draft, by=surgery.cd, fields={"directorate": medicine.directorate})

    assert reloaded(draft).directorate == surgery.directorate


# --- editing and the reset ------------------------------------------------------------------


def test_editing_a_draft_needs_no_confirmation(create, board):
    draft = create()

    reset = services.objective_update(objective=draft, by=board.md, fields={"title": "Shared rota design"})

    assert reset is False
    assert reloaded(draft).title == "Shared rota design"
    assert reloaded(draft).status == Status.DRAFT


@pytest.mark.parametrize(
    "field",
    ["title", "description", "success_measure", "directorate"],
)
def test_changing_the_wording_of_an_agreed_objective_needs_confirmation(agreed, board, field):
    objective = agreed()
    new_value = DirectorateFactory(trust=objective.trust) if field == "directorate" else "New wording"

    with pytest.raises(ValidationError, match=RESET_WARNING):
        services.objective_update(objective=objective, by=board.md, fields={field: new_value})

    assert getattr(reloaded(objective), field) != new_value
    assert reloaded(objective).status == Status.AGREED
    assert set(signed_sides(objective)) == {Side.CLINICAL, Side.MANAGERIAL}


@pytest.mark.parametrize(
    "field",
    ["title", "description", "success_measure", "directorate"],
)
def test_a_confirmed_wording_change_returns_an_agreed_objective_to_proposed(agreed, board, field):
    objective = agreed()
    new_value = DirectorateFactory(trust=objective.trust) if field == "directorate" else "New wording"

    reset = services.objective_update(objective=objective, by=board.md, fields={field: new_value}, confirm_reset=True)

    assert reset is True
    assert getattr(reloaded(objective), field) == new_value
    assert reloaded(objective).status == Status.PROPOSED
    assert reloaded(objective).agreed_at is None
    assert signed_sides(objective) == {}


def test_a_confirmed_wording_change_starts_a_new_proposal_version(agreed, board):
    objective = agreed()

    services.objective_update(objective=objective, by=board.ceo, fields={"title": "Reworded"}, confirm_reset=True)

    assert reloaded(objective).proposal_version == 2
    assert reloaded(objective).proposed_by == board.ceo


def test_changing_the_wording_of_a_proposal_needs_confirmation(proposed, board):
    objective = proposed(by=board.md)

    with pytest.raises(ValidationError, match=RESET_WARNING):
        services.objective_update(objective=objective, by=board.md, fields={"title": "Reworded"})

    assert signed_sides(objective) == {Side.CLINICAL: board.md}


def test_a_confirmed_wording_change_clears_a_proposals_sign_off(proposed, board):
    objective = proposed(by=board.md)

    services.objective_update(objective=objective, by=board.ceo, fields={"title": "Reworded"}, confirm_reset=True)

    assert reloaded(objective).status == Status.PROPOSED
    assert signed_sides(objective) == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("theme", "continuity"),
        ("target_date", timezone.localdate() + datetime.timedelta(days=90)),
        ("clinical_lead", "clinical"),
        ("managerial_lead", "managerial"),
    ],
)
def test_changing_leads_theme_or_target_date_keeps_an_agreed_objective_agreed(agreed, board, field, value):
    objective = agreed()
    value = getattr(board, value) if field.endswith("_lead") else value

    reset = services.objective_update(objective=objective, by=board.md, fields={field: value})

    assert reset is False
    assert getattr(reloaded(objective), field) == value
    assert reloaded(objective).status == Status.AGREED
    assert set(signed_sides(objective)) == {Side.CLINICAL, Side.MANAGERIAL}


def test_saving_unchanged_wording_keeps_an_agreed_objective_agreed(agreed, board):
    objective = agreed()

    reset = services.objective_update(objective=objective, by=board.md, fields={"title": objective.title})

    assert reset is False
    assert reloaded(objective).status == Status.AGREED


def test_after_a_reset_both_sides_sign_again_to_agree(agreed, board):
    objective = agreed()
    services.objective_update(objective=objective, by=board.md, fields={"title": "Reworded"}, confirm_reset=True)

    services.objective_sign_off(objective=objective, by=board.clinical)
    services.objective_sign_off(objective=objective, by=board.managerial)

    assert reloaded(objective).status == Status.AGREED


def test_an_edit_does_not_undo_a_sign_off_made_since_the_objective_was_loaded(proposed, board):
    """Two tabs: the objective was read while proposed; the other side signs before the edit is saved."""
    loaded = reloaded(proposed(by=board.md))
    services.objective_sign_off(objective=loaded, by=board.ceo)

    services.objective_update(objective=loaded, by=board.md, fields={"theme": "continuity"})

    assert reloaded(loaded).status == Status.AGREED
    assert reloaded(loaded).agreed_at is not None


def test_an_objective_retired_since_it_was_loaded_cannot_be_edited(create, board):
    loaded = create()
    services.objective_retire(objective=loaded, by=board.ceo)

    with pytest.raises(PermissionDenied):
        services.objective_update(objective=loaded, by=board.md, fields={"title": "Revived"})

    assert reloaded(loaded).status == Status.RETIRED


@pytest.mark.parametrize("who", ["consultant", "admin"])
def test_consultants_and_administrators_cannot_edit(agreed, board, who):
    objective = agreed()

    with pytest.raises(PermissionDenied):
        services.objective_update(objective=objective, by=getattr(board, who), fields={"theme": "continuity"})


# --- closing ---------------------------------------------------------------------------------


def test_an_agreed_objective_can_be_marked_achieved(agreed, board):
    objective = services.objective_mark_achieved(objective=agreed(), by=board.md)

    assert reloaded(objective).status == Status.ACHIEVED


@pytest.mark.parametrize("stage", ["create", "proposed"])
def test_only_agreed_objectives_can_be_marked_achieved(request, board, stage):
    objective = request.getfixturevalue(stage)()

    with pytest.raises(PermissionDenied):
        services.objective_mark_achieved(objective=objective, by=board.md)

    assert reloaded(objective).status != Status.ACHIEVED


@pytest.mark.parametrize("stage", ["create", "proposed", "agreed"])
def test_draft_proposed_and_agreed_objectives_can_be_retired(request, board, stage):
    objective = request.getfixturevalue(stage)()

    services.objective_retire(objective=objective, by=board.ceo)

    assert reloaded(objective).status == Status.RETIRED


@pytest.mark.parametrize("closing", [services.objective_mark_achieved, services.objective_retire])
def test_an_achieved_objective_cannot_be_retired_or_achieved_again(agreed, board, closing):
    objective = services.objective_mark_achieved(objective=agreed(), by=board.md)

    with pytest.raises(PermissionDenied):
        closing(objective=objective, by=board.md)


def test_a_retired_objective_cannot_be_edited(create, board):
    objective = services.objective_retire(objective=create(), by=board.md)

    with pytest.raises(PermissionDenied):
        services.objective_update(objective=objective, by=board.md, fields={"title": "Revived"})


@pytest.mark.parametrize("closing", [services.objective_mark_achieved, services.objective_retire])
@pytest.mark.parametrize("who", ["consultant", "admin"])
def test_consultants_and_administrators_cannot_close_objectives(agreed, board, closing, who):
    objective = agreed()

    with pytest.raises(PermissionDenied):
        closing(objective=objective, by=getattr(board, who))

    assert reloaded(objective).status == Status.AGREED
