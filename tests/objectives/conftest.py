"""Shared set-up for the objective tests: a trust's board, two directorates with their
clinical director and directorate manager, and helpers that walk an objective through its
lifecycle with the real services (so every state is reached the way users reach it)."""

from types import SimpleNamespace

import pytest

from objectives import services
from tests.factories import DirectorateFactory, MembershipFactory


def board_member(trust, group, **kwargs):
    return MembershipFactory(trust=trust, role="board_member", level="board", professional_group=group, **kwargs)


def clinical_director(trust, directorate, **kwargs):
    return MembershipFactory(
        trust=trust,
        role="clinical_director",
        professional_group="clinical",
        level="operational",
        directorate=directorate,
        **kwargs,
    )


@pytest.fixture
def board(trust):
    """The people of trust RAA with a board-level view, plus a consultant and an administrator.
    Fixed names, so pages and emails can be checked for them."""
    return SimpleNamespace(
        md=MembershipFactory(
            trust=trust, medical_director=True, user__full_name="Maya Desai", user__email="md@ashby.nhs.uk"
        ),
        ceo=MembershipFactory(
            trust=trust, chief_executive=True, user__full_name="Colin Evans", user__email="ceo@ashby.nhs.uk"
        ),
        clinical=board_member(
            trust, "clinical", user__full_name="Clara Board", user__email="clinical.board@ashby.nhs.uk"
        ),
        managerial=board_member(
            trust, "managerial", user__full_name="Martin Board", user__email="managerial.board@ashby.nhs.uk"
        ),
        consultant=MembershipFactory(
            trust=trust, user__full_name="Connie Sultan", user__email="consultant@ashby.nhs.uk"
        ),
        admin=MembershipFactory(
            trust=trust, administrator=True, user__full_name="Ada Min", user__email="admin@ashby.nhs.uk"
        ),
    )


def _directorate_team(trust, name, slug):
    directorate = DirectorateFactory(trust=trust, name=name)
    return SimpleNamespace(
        directorate=directorate,
        cd=clinical_director(
            trust, directorate, user__full_name=f"{name} Director", user__email=f"cd.{slug}@ashby.nhs.uk"
        ),
        dm=MembershipFactory(
            trust=trust,
            directorate_manager=True,
            directorate=directorate,
            user__full_name=f"{name} Manager",
            user__email=f"dm.{slug}@ashby.nhs.uk",
        ),
        consultant=MembershipFactory(
            trust=trust,
            directorate=directorate,
            user__full_name=f"{name} Consultant",
            user__email=f"{slug}@ashby.nhs.uk",
        ),
    )


@pytest.fixture
def surgery(trust):
    return _directorate_team(trust, "Surgery", "surgery")


@pytest.fixture
def medicine(trust):
    return _directorate_team(trust, "Medicine", "medicine")


@pytest.fixture
def create(board):
    """create(by=board.md, **fields): a new draft through objective_create, with both leads named."""

    def _create(by=None, **fields):
        by = by or board.md
        values = {
            "title": "Joint job planning",
            "description": "Consultants and managers plan job plans together.",
            "theme": "dialogue",
            "clinical_lead": board.md,
            "managerial_lead": board.ceo,
            "success_measure": "Every job plan signed by both.",
            **fields,
        }
        return services.objective_create(trust=by.trust, by=by, **values)

    return _create


@pytest.fixture
def proposed(create, board):
    """proposed(by=board.md, **fields): a draft created and proposed by `by`."""

    def _proposed(by=None, **fields):
        by = by or board.md
        return services.objective_propose(objective=create(by=by, **fields), by=by)

    return _proposed


@pytest.fixture
def agreed(proposed, board):
    """agreed(**fields): proposed by the medical director, signed off by the chief executive."""

    def _agreed(**fields):
        return services.objective_sign_off(objective=proposed(**fields), by=board.ceo)

    return _agreed
