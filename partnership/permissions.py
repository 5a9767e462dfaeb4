"""Who may do what inside a trust. One table, so the role matrix is tested in one place."""

from .models import Role

# action -> roles allowed. Anything not listed is refused.
ACTION_ROLES = {
    "people.view": {Role.ADMINISTRATOR},
    "people.invite": {Role.ADMINISTRATOR},
    "people.import": {Role.ADMINISTRATOR},
    "objectives.import": {Role.ADMINISTRATOR},
    "rounds.manage": {Role.ADMINISTRATOR},
    # Response rates: the four leadership roles of the Davies groups on the same terms (the
    # medical director and chief executive on the board; clinical directors and directorate
    # managers in the directorates), and administrators.
    "rounds.responses": {
        Role.ADMINISTRATOR,
        Role.MEDICAL_DIRECTOR,
        Role.CHIEF_EXECUTIVE,
        Role.CLINICAL_DIRECTOR,
        Role.DIRECTORATE_MANAGER,
    },
    # Board-report delivery counts (sent, pending, failed): an operational matter for administrators.
    "reports.deliveries": {Role.ADMINISTRATOR},
    "settings.analysis": {Role.ADMINISTRATOR, Role.MEDICAL_DIRECTOR, Role.CHIEF_EXECUTIVE},
}


def membership_can(membership, action):
    """True when this (active) membership may perform `action` in its trust."""
    if membership is None or not membership.is_active:
        return False
    try:
        allowed = ACTION_ROLES[action]
    except KeyError as exc:
        raise ValueError(f"Unknown action {action!r}") from exc
    return membership.role in allowed
