"""Who may do what to an objective. Pure functions of a membership and an objective, so the
role matrix is easy to read and to test, and views, templates and services share one answer.

- Trust-wide objectives: written and proposed by board-level members (medical director,
  chief executive, board members); signed off by one clinical and one managerial
  board-level member.
- Directorate objectives: also written and proposed by that directorate's clinical
  director and directorate managers; signed off by the directorate's clinical director
  (clinical side) and a directorate manager of it (managerial side).
"""

from partnership.models import Level, ProfessionalGroup, Role

from .models import Side, Status

BOARD_AUTHOR_ROLES = {Role.MEDICAL_DIRECTOR, Role.CHIEF_EXECUTIVE, Role.BOARD_MEMBER}
DIRECTORATE_SIDES = {Role.CLINICAL_DIRECTOR: Side.CLINICAL, Role.DIRECTORATE_MANAGER: Side.MANAGERIAL}
WORDING_FIELDS = ("title", "description", "success_measure", "directorate")
OPEN_STATUSES = {Status.DRAFT, Status.PROPOSED, Status.AGREED}


def _is_board_author(membership):
    return membership.is_active and membership.level == Level.BOARD and membership.role in BOARD_AUTHOR_ROLES


def can_author(membership, directorate_id=None):
    """May write (create, edit, propose, close) an objective for this directorate (None = trust-wide)."""
    if membership is None or not membership.is_active:
        return False
    if _is_board_author(membership):
        return True
    return (
        directorate_id is not None
        and membership.role in DIRECTORATE_SIDES
        and membership.directorate_id == directorate_id
    )


def can_create_any(membership):
    """May create at least some objective (shows the "New objective" button)."""
    return can_author(membership) or (
        membership is not None
        and membership.is_active
        and membership.role in DIRECTORATE_SIDES
        and membership.directorate_id is not None
    )


def signoff_side(membership, objective):
    """The side this member signs for on this objective, or None if they cannot sign it."""
    if membership is None or not membership.is_active or membership.trust_id != objective.trust_id:
        return None
    if objective.directorate_id is None:
        if not _is_board_author(membership):  # board members sign; a board-level administrator does not
            return None
        return Side.CLINICAL if membership.professional_group == ProfessionalGroup.CLINICAL else Side.MANAGERIAL
    if membership.directorate_id != objective.directorate_id:
        return None
    return DIRECTORATE_SIDES.get(membership.role)


def can_edit(membership, objective):
    return objective.status in OPEN_STATUSES and can_author(membership, objective.directorate_id)


def can_propose(membership, objective):
    return objective.status == Status.DRAFT and can_author(membership, objective.directorate_id)


def can_sign_off(membership, objective, signed_sides):
    """`signed_sides`: the sides that have already signed (a set of Side values)."""
    side = signoff_side(membership, objective)
    return objective.status == Status.PROPOSED and side is not None and side not in signed_sides


def can_mark_achieved(membership, objective):
    return objective.status == Status.AGREED and can_author(membership, objective.directorate_id)


def can_retire(membership, objective):
    return objective.status in OPEN_STATUSES and can_author(membership, objective.directorate_id)


def import_status_problem(current, wanted):
    """Why an import may not move an existing objective from status `current` to `wanted`, or ''.

    An import follows the lifecycle of the pages: it may retire an open objective or send it
    back to draft, but proposing, agreeing (both sides' sign-off) and marking achieved are
    acts of the people named on the objective's page, and a closed objective stays closed.
    A new objective may be imported in any status (it comes from earlier board papers)."""
    if wanted == current:
        return ""
    if current not in OPEN_STATUSES:
        return f"it is {current}: a closed objective cannot be re-opened or changed"
    if wanted == Status.PROPOSED:
        return (
            f"an import cannot move a {current} objective to proposed: propose it on its page, "
            "so that both sides are asked for their sign-off"
        )
    if wanted == Status.AGREED:
        return (
            f"an import cannot move a {current} objective to agreed: it is agreed only with "
            "both sides' sign-off on its page"
        )
    if wanted == Status.ACHIEVED:
        return f"an import cannot move a {current} objective to achieved: mark it achieved on its page"
    return ""
