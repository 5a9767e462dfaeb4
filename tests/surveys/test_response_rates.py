"""Response rates of a round: who counts as expected and as responded, the splits by
professional group, Davies group and directorate, suppression of small groups and of the
rows that would let a small group be worked out by subtraction (DESIGN.md §5), the page and
who may see it, and a query count that does not grow with the trust."""

from datetime import date
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from partnership.models import Membership
from surveys.models import PulseResponse, Rating
from surveys.selectors import (
    HIDDEN,
    NO_DIRECTORATE,
    CountRow,
    raters_of,
    round_response_counts,
)
from surveys.services.ratings import is_rater
from surveys.services.rounds import round_get_or_create
from tests.factories import DirectorateFactory, MembershipFactory, ObjectiveFactory

MARCH = date(2026, 3, 1)


def test_the_rate_of_nobody_is_none():
    assert CountRow("x", "X", 0, 0).rate is None


# --- counting -------------------------------------------------------------------------------------


def board(trust, group, **kwargs):
    return MembershipFactory(trust=trust, role="board_member", level="board", professional_group=group, **kwargs)


def consultants(trust, directorate, n):
    return [MembershipFactory(trust=trust, directorate=directorate) for _ in range(n)]


def managers(trust, directorate, n):
    return [MembershipFactory(trust=trust, directorate=directorate, directorate_manager=True) for _ in range(n)]


def rate(round_, rater, objective=None, **fields):
    """A rating by `rater` (its snapshot copied from the membership, like ratings_save does)."""
    with scopes_disabled():
        return Rating.objects.create(
            trust=round_.trust,
            round=round_,
            objective=objective or ObjectiveFactory(trust=round_.trust, status="agreed"),
            rater=rater,
            professional_group=rater.professional_group,
            level=rater.level,
            directorate=rater.directorate,
            score=4,
            **fields,
        )


def pulse(round_, rater):
    with scopes_disabled():
        return PulseResponse.objects.create(
            trust=round_.trust,
            round=round_,
            rater=rater,
            quality=3,
            professional_group=rater.professional_group,
            level=rater.level,
            directorate=rater.directorate,
        )


@pytest.fixture
def people(trust):
    """Trust RAA: 22 raters, plus an administrator and a former consultant who are not.

    By Davies group: senior clinical 3, senior non-clinical 5, operational clinical 11,
    operational non-clinical 3. By directorate: Surgery 9, Medicine 5, none 8.
    """
    surgery = DirectorateFactory(trust=trust, name="Surgery")
    medicine = DirectorateFactory(trust=trust, name="Medicine")
    return SimpleNamespace(
        trust=trust,
        surgery=surgery,
        medicine=medicine,
        md=MembershipFactory(trust=trust, medical_director=True, user__full_name="Maya Desai"),
        clinical_board=[board(trust, "clinical") for _ in range(2)],
        ceo=MembershipFactory(trust=trust, chief_executive=True, user__full_name="Colin Evans"),
        managerial_board=[board(trust, "managerial") for _ in range(4)],
        surgeons=consultants(trust, surgery, 6),
        surgery_cd=MembershipFactory(
            trust=trust, role="clinical_director", directorate=surgery, user__full_name="Sam Cutter"
        ),
        surgery_dms=managers(trust, surgery, 2),
        physicians=consultants(trust, medicine, 4),
        medicine_dm=managers(trust, medicine, 1)[0],
        admin=MembershipFactory(trust=trust, administrator=True),
        former=MembershipFactory(trust=trust, is_active=False, directorate=surgery),
    )


@pytest.fixture
def march(people):
    """March's round, in which 7 of the 22 raters responded (and some who do not count did too)."""
    round_ = round_get_or_create(trust=people.trust, period=MARCH)
    rate(round_, people.md)  # senior clinical, no directorate
    pulse(round_, people.ceo)  # senior non-clinical, no directorate: the pulse alone counts
    objective = ObjectiveFactory(trust=people.trust, status="agreed")
    rate(round_, people.surgeons[0], objective)
    rate(round_, people.surgeons[0])  # two ratings: still one person
    rate(round_, people.surgeons[1])
    pulse(round_, people.surgeons[1])  # a rating and the pulse: one person
    pulse(round_, people.surgeons[2])
    rate(round_, people.physicians[0])
    pulse(round_, people.surgery_dms[0])
    # Not counted: not raters, another month, a rater erased (rater set to NULL).
    pulse(round_, people.admin)
    rate(round_, people.former)
    rate(round_get_or_create(trust=people.trust, period=date(2026, 2, 1)), people.physicians[1])
    erased = rate(round_, people.physicians[2])
    with scopes_disabled():
        Rating.objects.filter(pk=erased.pk).update(rater=None)
    return round_


def counts_of(round_):
    with scope(trust=round_.trust):
        return round_response_counts(round_)


def table(rows_):
    return {row.label: (row.responded, row.expected) if not row.suppressed else row.suppressed for row in rows_}


def set_min_group_size(trust, size):
    trust.min_group_size = size
    trust.save(update_fields=["min_group_size"])


def test_raters_are_exactly_the_people_is_rater_accepts(people, unscoped):
    everyone = Membership.objects.filter(trust=people.trust)

    assert set(raters_of(people.trust)) == {m for m in everyone if is_rater(m)}
    assert raters_of(people.trust).count() == 22


def test_overall_responded_out_of_expected(march):
    total = counts_of(march)["total"]

    assert (total.responded, total.expected, total.rate) == (7, 22, 32)
    assert not total.suppressed


def test_counts_by_professional_group(march):
    assert table(counts_of(march)["professional_groups"]) == {"Clinical": (5, 14), "Managerial": (2, 8)}


def test_counts_by_directorate_with_a_row_for_people_in_no_directorate(march):
    assert table(counts_of(march)["directorates"]) == {
        "Medicine": (1, 5),
        "Surgery": (4, 9),
        NO_DIRECTORATE: (2, 8),
    }


def test_counts_by_davies_group_when_every_group_is_big_enough(march):
    set_min_group_size(march.trust, 3)

    assert table(counts_of(march)["davies_groups"]) == {
        "Senior clinical (board, clinical)": (1, 3),
        "Senior non-clinical (board, managerial)": (1, 5),
        "Operational clinical": (4, 11),
        "Operational non-clinical": (1, 3),
    }


def test_davies_groups_are_suppressed_against_each_professional_group_too(march):
    # Senior clinical (3) and operational non-clinical (3) are small. Clinical (14) is shown,
    # so showing operational clinical would give senior clinical as clinical minus it; same
    # for the managerial pair. Every Davies row is hidden.
    assert table(counts_of(march)["davies_groups"]) == {
        "Senior clinical (board, clinical)": HIDDEN,
        "Senior non-clinical (board, managerial)": HIDDEN,
        "Operational clinical": HIDDEN,
        "Operational non-clinical": HIDDEN,
    }


def test_one_small_directorate_hides_the_next_smallest_row_against_differencing(march):
    set_min_group_size(march.trust, 6)

    assert table(counts_of(march)["directorates"]) == {
        "Medicine": HIDDEN,
        "Surgery": (4, 9),
        NO_DIRECTORATE: HIDDEN,
    }


def test_the_whole_trust_is_shown_even_when_every_part_is_small(march):
    set_min_group_size(march.trust, 20)

    counts = counts_of(march)

    assert (counts["total"].responded, counts["total"].expected) == (7, 22)
    assert all(
        row.suppressed for key in ("professional_groups", "davies_groups", "directorates") for row in counts[key]
    )


def test_people_are_counted_in_their_current_directorate(march, people, unscoped):
    # The rating's snapshot says Medicine; they moved to Surgery since. Expected and responded
    # both follow the current membership, so the rows stay comparable.
    Membership.objects.filter(pk=people.physicians[0].pk).update(directorate=people.surgery)

    assert table(counts_of(march)["directorates"]) == {
        "Medicine": HIDDEN,
        "Surgery": (5, 10),
        NO_DIRECTORATE: HIDDEN,
    }


def test_an_empty_round_counts_nobody(people):
    round_ = round_get_or_create(trust=people.trust, period=date(2026, 4, 1))

    counts = counts_of(round_)

    assert (counts["total"].responded, counts["total"].expected) == (0, 22)
    assert table(counts["professional_groups"]) == {"Clinical": (0, 14), "Managerial": (0, 8)}


def test_another_trusts_responses_never_count(march, other_trust):
    theirs = round_get_or_create(trust=other_trust, period=MARCH)
    rate(theirs, MembershipFactory(trust=other_trust))

    assert counts_of(march)["total"].responded == 7
    assert (counts_of(theirs)["total"].responded, counts_of(theirs)["total"].expected) == (1, 1)


# --- the page -------------------------------------------------------------------------------------


def page_url(round_):
    return reverse("round_responses", kwargs={"trust_code": round_.trust.code, "period": round_.slug})


@pytest.mark.parametrize("who", ["admin", "md", "ceo", "surgery_cd", "medicine_dm"])
def test_administrators_and_the_four_leadership_roles_see_the_page(march, people, login, who):
    """The medical director and chief executive, clinical directors and directorate managers
    on the same terms (issue 12.7: parity)."""
    response = login(getattr(people, who)).get(page_url(march))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Response rates: March 2026" in page
    assert "7 of 22" in page


def test_consultants_are_refused(march, people, login):
    assert login(people.surgeons[0]).get(page_url(march)).status_code == 403


def test_the_page_shows_counts_and_fewer_than_n_but_never_who(march, people, login):
    page = login(people.admin).get(page_url(march)).content.decode()

    # One wording for every hidden row: which rows are small and which protect them is not said.
    assert "hidden: fewer than 5, or protecting a smaller group" in page
    assert "not shown, so that" not in page
    assert '<td class="text-end">4</td>' in page and '<td class="text-end">9</td>' in page  # Surgery
    for rater in (people.md, people.ceo, people.surgery_cd, *people.surgeons):
        assert rater.user.full_name not in page
        assert rater.user.email not in page


def test_the_page_links_to_other_rounds(march, people, login):
    april = round_get_or_create(trust=people.trust, period=date(2026, 4, 1))

    page = login(people.md).get(page_url(march)).content.decode()

    assert page_url(april) in page
    all_rounds = reverse("round_list", kwargs={"trust_code": people.trust.code})
    assert f'href="{all_rounds}"' not in page  # the medical director does not manage rounds


@pytest.mark.parametrize("period", ["2026-13", "2026-3", "march", "2026-03-01", "2027-01"])
def test_a_malformed_or_unknown_period_is_404(march, people, login, period):
    # Built by hand: malformed periods cannot be reversed (the URL only matches YYYY-MM).
    url = f"/trusts/{people.trust.code}/rounds/{period}/responses/"

    assert login(people.admin).get(url).status_code == 404


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_page_runs_the_same_queries_however_big_the_trust(march, people, login):
    client = login(people.admin)
    small = queries_for(client, page_url(march))

    for n in range(6):  # six more directorates, each with people who answered
        directorate = DirectorateFactory(trust=people.trust, name=f"Directorate {n}")
        for member in consultants(people.trust, directorate, 6) + managers(people.trust, directorate, 5):
            pulse(march, member)
            rate(march, member)
    round_get_or_create(trust=people.trust, period=date(2026, 4, 1))
    large = queries_for(client, page_url(march))

    assert large == small
    assert counts_of(march)["total"].expected == 22 + 66


def test_the_page_query_budget(march, people, login, django_assert_max_num_queries):
    # Session, user, trust, membership, savepoints, the round, its report (if any: then the counts
    # are its snapshot's), the other rounds, and the round's analysis, which decides the counts
    # with the answers (history rounds, versions, ONE grouped count of responses for every table,
    # and, on a cold cache, the counted scores, pulse rows and objectives), the menu's comments
    # badge: nothing per directorate, group or person.
    client = login(people.admin)
    with django_assert_max_num_queries(18):
        client.get(page_url(march))
