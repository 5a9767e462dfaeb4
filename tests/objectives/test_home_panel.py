"""The trust home page shows what awaits each person's sign-off, and the objective counts."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def home(login, membership):
    return login(membership).get(reverse("trust_home", args=[membership.trust.code])).content.decode()


def test_the_other_side_sees_the_proposal_awaiting_their_sign_off(board, proposed, login):
    objective = proposed(title="Joint theatre planning")  # proposed by the medical director
    page = home(login, board.ceo)
    assert "Awaiting your sign-off (1)" in page
    assert f"{objective.ref} Joint theatre planning" in page


def test_the_proposers_side_and_raters_see_nothing_awaiting(board, proposed, login):
    proposed(title="Joint theatre planning")
    for member in (board.md, board.clinical, board.consultant):
        assert "Awaiting your sign-off" not in home(login, member)


def test_the_counts_follow_the_statuses(board, create, proposed, agreed, login):
    create(title="A draft")
    proposed(title="A proposal")
    agreed(title="An agreement")
    page = home(login, board.md)
    for count, label in ((1, "draft"), (1, "proposed"), (1, "agreed"), (0, "achieved")):
        assert f'<span class="fw-semibold">{count}</span> {label}' in page


def test_the_home_page_costs_the_same_queries_for_2_or_20_proposals(
    board, proposed, login, django_assert_max_num_queries
):
    client = login(board.ceo)
    url = reverse("trust_home", args=[board.ceo.trust.code])
    for i in range(2):
        proposed(title=f"Proposal {i}")
    with django_assert_max_num_queries(13) as few:
        client.get(url)
    for i in range(2, 20):
        proposed(title=f"Proposal {i}")
    # session, user, trust, membership, objective counts, proposals + their sign-offs (one prefetch),
    # savepoint pair from ATOMIC_REQUESTS, the comments-waiting badge of the menu (a reviewer's):
    # fixed whatever the number of proposals.
    with django_assert_max_num_queries(13) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
