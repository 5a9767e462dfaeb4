"""Fixtures shared by the surveys tests: a frozen mid-March clock, the March (open) and
February (closed) rounds of the Ashby trust, a directorate and a consultant who rates."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from surveys.services.rounds import round_get_or_create
from tests.factories import DirectorateFactory, MembershipFactory, ObjectiveFactory

LONDON = ZoneInfo("Europe/London")
MARCH = date(2026, 3, 1)
FEBRUARY = date(2026, 2, 1)


@pytest.fixture
def mid_march():
    """10 March 2026, noon in London, clock standing still: with the default calendar (1st to
    14th) the March round is open and February's is closed."""
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def march_round(trust, mid_march):
    return round_get_or_create(trust=trust, period=MARCH)


@pytest.fixture
def february_round(trust, mid_march):
    return round_get_or_create(trust=trust, period=FEBRUARY)


@pytest.fixture
def medicine(trust):
    return DirectorateFactory(trust=trust, name="Medicine")


@pytest.fixture
def surgery(trust):
    return DirectorateFactory(trust=trust, name="Surgery")


@pytest.fixture
def rater(trust, medicine):
    """A consultant (clinical, operational) in Medicine."""
    return MembershipFactory(trust=trust, directorate=medicine, user__email="rater@ashby.nhs.uk")


@pytest.fixture
def agreed_objective(trust):
    """agreed_objective(**fields): an agreed objective of the Ashby trust, trust-wide unless given a directorate."""

    def _agreed(**fields):
        fields.setdefault("trust", trust)
        return ObjectiveFactory(status="agreed", **fields)

    return _agreed
