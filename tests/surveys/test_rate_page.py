"""The "My ratings" page (issue #4): every objective this person rates, with last month's own
score, a 1-5 scale in words plus "can't judge" and an optional comment, and the relationship
pulse, in one form; read-only after the close date; only ever the person's own answers; bad
input refused without a 500; a query count that does not grow with the objectives."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from surveys.models import SCORE_WORDS, PulseResponse, Rating
from surveys.services.rounds import round_get_or_create
from surveys.statements import STATEMENTS
from tests.factories import MembershipFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def rate_url(trust):
    return reverse("rate", args=[trust.code])


def period_url(trust, period):
    # Built by hand: malformed periods cannot be reversed (the URL only matches YYYY-MM).
    return f"{reverse('rate', args=[trust.code])}{period}/"


def html(response):
    return response.content.decode()


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def stored(**filters):
    """(objective id, rater id, score, comment) of the stored ratings, in objective order."""
    with scopes_disabled():
        return list(
            Rating.objects.filter(**filters)
            .order_by("objective_id", "rater_id")
            .values_list("objective_id", "rater_id", "score", "comment")
        )


def rating_count():
    with scopes_disabled():
        return Rating.objects.count()


def rate(membership, round_, scores, comment=""):
    """Store ratings directly (e.g. in a closed round, as they were when it was open)."""
    with scopes_disabled():
        Rating.objects.bulk_create(
            Rating(
                trust=round_.trust,
                round=round_,
                objective=objective,
                rater=membership,
                score=score,
                comment=comment,
                professional_group=membership.professional_group,
                level=membership.level,
                directorate=membership.directorate,
            )
            for objective, score in scores.items()
        )


@pytest.fixture
def redesign(agreed_objective):
    return agreed_objective(
        ref="OBJ-01",
        title="Clinicians co-lead every service redesign",
        success_measure="Every redesign has a clinical and a managerial co-lead.",
    )


@pytest.fixture
def flow(agreed_objective, medicine):
    return agreed_objective(
        ref="OBJ-02",
        title="Medicine patient flow owned jointly",
        success_measure="Weekly joint flow huddle.",
        directorate=medicine,
    )


@pytest.fixture
def colleague(trust, medicine):
    return MembershipFactory(trust=trust, directorate=medicine, user__email="colleague@ashby.nhs.uk")


# --- what the page lists ----------------------------------------------------------------------------


def test_lists_exactly_the_agreed_trust_wide_and_own_directorate_objectives(
    login, march_round, rater, trust, other_trust, agreed_objective, medicine, surgery
):
    trust_wide = agreed_objective(title="Trust-wide agreed")
    ours = agreed_objective(title="Medicine agreed", directorate=medicine)
    others = [
        agreed_objective(title="Surgery agreed", directorate=surgery),
        *(
            ObjectiveFactory(trust=trust, status=s, title=f"Trust-wide {s}")
            for s in ("draft", "proposed", "achieved", "retired")
        ),
        ObjectiveFactory(trust=trust, status="draft", directorate=medicine, title="Medicine draft"),
        ObjectiveFactory(trust=other_trust, status="agreed", title="Brook Valley agreed"),
    ]

    response = login(rater).get(rate_url(trust))

    assert set(response.context["form"].objectives) == {trust_wide, ours}
    page = html(response)
    assert f'id="objective-{trust_wide.pk}"' in page
    assert f'id="objective-{ours.pk}"' in page
    for objective in others:
        assert objective.title not in page
        assert f"score_{objective.pk}" not in page


def test_shows_each_objectives_title_and_success_measure(login, march_round, rater, trust, redesign):
    page = html(login(rater).get(rate_url(trust)))

    assert "Clinicians co-lead every service redesign" in page
    assert "Success measure: Every redesign has a clinical and a managerial co-lead." in page


def test_shows_last_months_own_score_in_number_and_words(login, march_round, february_round, rater, trust, redesign):
    rate(rater, february_round, {redesign: 4})

    page = html(login(rater).get(rate_url(trust)))

    assert "Last month you said: 4 Good progress" in page


def test_shows_last_months_cant_judge(login, march_round, february_round, rater, trust, redesign):
    rate(rater, february_round, {redesign: None})

    assert "Last month you said: Can&#x27;t judge" in html(login(rater).get(rate_url(trust)))


def test_says_when_the_objective_was_not_rated_last_month(login, march_round, february_round, rater, trust, redesign):
    page = html(login(rater).get(rate_url(trust)))

    assert "You did not rate this last month" in page
    assert "Last month you said" not in page


def test_last_month_shows_own_score_not_a_colleagues(
    login, march_round, february_round, rater, colleague, trust, redesign
):
    rate(colleague, february_round, {redesign: 1})

    page = html(login(rater).get(rate_url(trust)))

    assert "You did not rate this last month" in page
    assert "Last month you said" not in page


def test_offers_the_five_scores_in_words_and_cant_judge(login, march_round, rater, trust, redesign):
    page = html(login(rater).get(rate_url(trust)))

    for value, word in [*SCORE_WORDS.items(), ("x", "Can&#x27;t judge")]:
        assert f'name="score_{redesign.pk}" value="{value}"' in page
        assert word in page


def test_offers_an_optional_comment_of_up_to_two_thousand_characters(login, march_round, rater, trust, redesign):
    page = html(login(rater).get(rate_url(trust)))

    assert f'name="comment_{redesign.pk}" rows="2" maxlength="2000"' in page
    assert "Add a comment (optional)" in page


def test_offers_the_pulse_and_the_six_statements(login, march_round, rater, trust):
    page = html(login(rater).get(rate_url(trust)))

    for name in ("quality", "outlook", "category", *(f"statement_{key}" for key in STATEMENTS)):
        assert f'name="{name}"' in page
    assert len(STATEMENTS) == 6


def test_progress_shows_how_many_objectives_are_rated(login, march_round, rater, trust, redesign, flow):
    rate(rater, march_round, {redesign: 3})

    page = html(login(rater).get(rate_url(trust)))

    assert "1 of 2 objectives rated" in page
    assert (
        'role="progressbar" aria-label="Objectives rated" aria-valuenow="1" aria-valuemin="0" aria-valuemax="2"' in page
    )


def test_saved_answers_are_shown_selected(login, march_round, rater, trust, redesign):
    rate(rater, march_round, {redesign: 2}, comment="Slow start")

    page = html(login(rater).get(rate_url(trust)))

    assert f'name="score_{redesign.pk}" value="2" class="btn-check" id="id_score_{redesign.pk}_1" checked' in page
    assert "Slow start</textarea>" in page


def test_no_round_yet_says_so(login, rater, trust, mid_march):
    response = login(rater).get(rate_url(trust))

    assert response.status_code == 200
    assert "No rating round yet" in html(response)


def test_anonymous_visitor_is_sent_to_sign_in(client, march_round, trust):
    response = client.get(rate_url(trust))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- saving --------------------------------------------------------------------------------------------


def test_saving_stores_the_ratings_and_confirms(login, march_round, rater, trust, redesign, flow):
    response = login(rater).post(
        rate_url(trust),
        {f"score_{redesign.pk}": "4", f"comment_{redesign.pk}": "Good start", f"score_{flow.pk}": "x"},
        follow=True,
    )

    assert stored() == [(redesign.pk, rater.pk, 4, "Good start"), (flow.pk, rater.pk, None, "")]
    assert messages_of(response) == ["Saved. You have rated 2 of 2 objectives."]
    assert "2 of 2 objectives rated" in html(response)


def test_saving_twice_updates_the_score_and_keeps_the_row_count(login, march_round, rater, trust, redesign, flow):
    client = login(rater)
    client.post(rate_url(trust), {f"score_{redesign.pk}": "2", f"score_{flow.pk}": "3"})

    client.post(rate_url(trust), {f"score_{redesign.pk}": "5", f"score_{flow.pk}": "3"})

    assert rating_count() == 2
    assert stored(objective=redesign) == [(redesign.pk, rater.pk, 5, "")]


def test_double_submission_keeps_one_row_per_objective_and_the_last_values(
    login, march_round, rater, trust, redesign, flow
):
    client = login(rater)
    first = {f"score_{redesign.pk}": "1", f"comment_{redesign.pk}": "First", f"score_{flow.pk}": "2"}
    second = {f"score_{redesign.pk}": "4", f"comment_{redesign.pk}": "Second", f"score_{flow.pk}": "x"}

    responses = [client.post(rate_url(trust), first), client.post(rate_url(trust), second)]

    assert [r.status_code for r in responses] == [302, 302]
    assert stored() == [(redesign.pk, rater.pk, 4, "Second"), (flow.pk, rater.pk, None, "")]


def test_the_pulse_is_saved_from_the_same_page(login, march_round, rater, trust, redesign):
    login(rater).post(
        rate_url(trust),
        {
            f"score_{redesign.pk}": "3",
            "quality": "2",
            "outlook": "deteriorate",
            "category": "tolerance",
            "statement_involvement": "1",
            "statement_balance": "5",
        },
    )

    with scopes_disabled():
        pulse = PulseResponse.objects.get()
    assert (pulse.rater, pulse.quality, pulse.outlook, pulse.category, pulse.statements) == (
        rater,
        2,
        "deteriorate",
        "tolerance",
        {"involvement": 1, "balance": 5},
    )


def test_saving_the_pulse_twice_updates_it(login, march_round, rater, trust):
    client = login(rater)
    client.post(rate_url(trust), {"quality": "2", "outlook": "same", "category": "tension"})

    client.post(rate_url(trust), {"quality": "5", "outlook": "improve", "category": "partnership"})

    with scopes_disabled():
        assert list(PulseResponse.objects.values_list("quality", "outlook", "category")) == [
            (5, "improve", "partnership")
        ]


def test_the_saved_pulse_is_shown_selected(login, march_round, rater, trust):
    client = login(rater)
    client.post(rate_url(trust), {"quality": "4", "statement_leadership": "2"})

    page = html(client.get(rate_url(trust)))

    assert 'name="quality" value="4" class="btn-check" id="id_quality_3" checked' in page
    assert 'name="statement_leadership" value="2" class="btn-check" id="id_statement_leadership_1" checked' in page


def test_each_saved_rating_records_the_raters_group_at_the_time(login, march_round, rater, trust, redesign, medicine):
    login(rater).post(rate_url(trust), {f"score_{redesign.pk}": "3"})

    with scopes_disabled():
        rating = Rating.objects.get()
    assert (rating.professional_group, rating.level, rating.directorate) == ("clinical", "operational", medicine)


# --- after the close date: read-only ---------------------------------------------------------------------


def test_after_the_close_date_the_page_has_no_form(login, february_round, rater, trust, redesign):
    rate(rater, february_round, {redesign: 4}, comment="Moving well")

    page = html(login(rater).get(rate_url(trust)))

    assert "Save my answers" not in page
    assert 'name="score_' not in page
    assert "closed on 14 February 2026" in page


def test_after_the_close_date_the_page_shows_what_the_person_said(login, february_round, rater, trust, redesign):
    rate(rater, february_round, {redesign: 4}, comment="Moving well")

    page = html(login(rater).get(rate_url(trust)))

    assert "<td>OBJ-01 Clinicians co-lead every service redesign</td><td>4</td><td>Moving well</td>" in page


def test_a_past_month_is_read_only_while_the_current_round_is_open(
    login, march_round, february_round, rater, trust, redesign
):
    rate(rater, february_round, {redesign: None})

    page = html(login(rater).get(period_url(trust, "2026-02")))

    assert "Save my answers" not in page
    assert "<td>Can't judge</td>" in page


def test_the_closed_round_shows_only_own_ratings(login, february_round, rater, colleague, trust, redesign, flow):
    rate(rater, february_round, {redesign: 4}, comment="Mine")
    rate(colleague, february_round, {redesign: 1, flow: 2}, comment="Colleague's private view")

    page = html(login(rater).get(period_url(trust, "2026-02")))

    assert "Mine" in page
    assert "Colleague&#x27;s private view" not in page
    assert flow.title not in page
    assert "<td>1</td>" not in page


def test_posting_to_a_closed_round_is_refused_with_a_message(login, february_round, rater, trust, redesign):
    response = login(rater).post(period_url(trust, "2026-02"), {f"score_{redesign.pk}": "4"}, follow=True)

    assert response.status_code == 200
    assert messages_of(response) == ["This round is not open for your ratings, so nothing was saved."]
    assert rating_count() == 0


def test_posting_to_a_closed_round_leaves_what_was_said_unchanged(login, february_round, rater, trust, redesign):
    rate(rater, february_round, {redesign: 2}, comment="As it was")

    login(rater).post(period_url(trust, "2026-02"), {f"score_{redesign.pk}": "5", f"comment_{redesign.pk}": "New"})

    assert stored() == [(redesign.pk, rater.pk, 2, "As it was")]


def test_posting_pulse_to_a_closed_round_saves_nothing(login, february_round, rater, trust):
    login(rater).post(period_url(trust, "2026-02"), {"quality": "5"})

    with scopes_disabled():
        assert not PulseResponse.objects.exists()


# --- privacy: own answers only --------------------------------------------------------------------------


def test_a_colleagues_answers_never_appear_on_my_page(login, march_round, rater, colleague, trust, redesign):
    rate(colleague, march_round, {redesign: 1}, comment="Colleague's private view")

    response = login(rater).get(rate_url(trust))

    page = html(response)
    assert "Colleague&#x27;s private view" not in page
    assert f'id="id_score_{redesign.pk}_0" checked' not in page
    assert "0 of 1 objective rated" in page


def test_my_save_does_not_touch_a_colleagues_rating(login, march_round, rater, colleague, trust, redesign):
    rate(colleague, march_round, {redesign: 1}, comment="Colleague's view")

    login(rater).post(rate_url(trust), {f"score_{redesign.pk}": "5", f"comment_{redesign.pk}": "Mine"})

    assert stored() == sorted([(redesign.pk, colleague.pk, 1, "Colleague's view"), (redesign.pk, rater.pk, 5, "Mine")])


def test_a_forged_rater_field_is_ignored(login, march_round, rater, colleague, trust, redesign):
    login(rater).post(rate_url(trust), {f"score_{redesign.pk}": "4", "rater": str(colleague.pk)})

    assert stored() == [(redesign.pk, rater.pk, 4, "")]


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("score", ["0", "6", "abc", "-1", "4.5"])
def test_a_bad_score_is_a_form_error_and_nothing_is_saved(login, march_round, rater, trust, redesign, flow, score):
    data = {f"score_{flow.pk}": "3", f"score_{redesign.pk}": score, f"comment_{redesign.pk}": "Note"}

    response = login(rater).post(rate_url(trust), data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert "Nothing was saved" in html(response)
    assert rating_count() == 0


@pytest.mark.parametrize("kind", ["other directorate", "draft", "proposed", "achieved", "other trust"])
def test_a_score_for_an_objective_the_person_may_not_rate_is_ignored(
    login, march_round, rater, trust, other_trust, redesign, surgery, kind
):
    forbidden = {
        "other directorate": lambda: ObjectiveFactory(trust=trust, status="agreed", directorate=surgery),
        "draft": lambda: ObjectiveFactory(trust=trust, status="draft"),
        "proposed": lambda: ObjectiveFactory(trust=trust, status="proposed"),
        "achieved": lambda: ObjectiveFactory(trust=trust, status="achieved"),
        "other trust": lambda: ObjectiveFactory(trust=other_trust, status="agreed"),
    }[kind]()

    client = login(rater)

    response = client.post(
        rate_url(trust),
        {f"score_{redesign.pk}": "3", f"score_{forbidden.pk}": "5", f"comment_{forbidden.pk}": "Sneaky"},
    )

    assert response.status_code == 302
    assert f"score_{forbidden.pk}" not in client.get(rate_url(trust)).context["form"].fields
    assert stored(objective=forbidden) == []
    assert stored() == [(redesign.pk, rater.pk, 3, "")]


def test_posting_to_another_trusts_page_is_not_found(login, march_round, rater, other_trust, mid_march):
    round_get_or_create(trust=other_trust, period=date(2026, 3, 1))  # open there too
    foreign = ObjectiveFactory(trust=other_trust, status="agreed")

    response = login(rater).post(rate_url(other_trust), {f"score_{foreign.pk}": "5"})

    assert response.status_code == 404
    assert rating_count() == 0


def test_another_trusts_page_is_not_found(login, rater, other_trust, mid_march):
    assert login(rater).get(rate_url(other_trust)).status_code == 404


def test_another_trusts_past_round_is_not_found(login, rater, trust, other_trust, mid_march):
    round_get_or_create(trust=other_trust, period=date(2026, 2, 1))

    assert login(rater).get(period_url(trust, "2026-02")).status_code == 404


@pytest.mark.parametrize("period", ["2026-13", "2026-3", "march", "2026-00", "0000-01", "2026-02-01", "9999-12"])
def test_a_bad_or_unknown_period_is_not_found(login, march_round, rater, trust, period):
    assert login(rater).get(period_url(trust, period)).status_code == 404


def test_a_long_comment_is_a_form_error_and_nothing_is_saved(login, march_round, rater, trust, redesign):
    response = login(rater).post(rate_url(trust), {f"score_{redesign.pk}": "3", f"comment_{redesign.pk}": "x" * 10_000})

    assert response.status_code == 200
    assert response.context["form"].errors[f"comment_{redesign.pk}"]
    assert rating_count() == 0


def test_a_comment_without_a_score_is_a_form_error(login, march_round, rater, trust, redesign):
    response = login(rater).post(rate_url(trust), {f"comment_{redesign.pk}": "I have views but no score"})

    assert response.status_code == 200
    assert response.context["form"].errors[f"score_{redesign.pk}"] == [
        "Choose a score (or can't judge) to go with your comment."
    ]
    assert rating_count() == 0


def test_a_comment_of_two_thousand_characters_with_line_breaks_is_accepted(login, march_round, rater, trust, redesign):
    # The browser's maxlength counts a line break as one character but submits it as CRLF.
    comment = "\r\n".join(["x" * 199] * 10) + "x"
    assert len(comment.replace("\r\n", "\n")) == 2000

    response = login(rater).post(rate_url(trust), {f"score_{redesign.pk}": "3", f"comment_{redesign.pk}": comment})

    assert response.status_code == 302
    assert stored()[0][3].replace("\r\n", "\n") == comment.replace("\r\n", "\n")


def test_a_comment_is_shown_as_text_not_html(login, march_round, rater, trust, redesign):
    client = login(rater)
    client.post(rate_url(trust), {f"score_{redesign.pk}": "3", f"comment_{redesign.pk}": "<script>alert(1)</script>"})

    page = html(client.get(rate_url(trust)))

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    "field, value",
    [("quality", "0"), ("quality", "6"), ("outlook", "worse"), ("category", "war"), ("statement_balance", "9")],
)
def test_a_bad_pulse_answer_is_a_form_error_and_nothing_is_saved(
    login, march_round, rater, trust, redesign, field, value
):
    response = login(rater).post(rate_url(trust), {f"score_{redesign.pk}": "3", field: value})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert rating_count() == 0
    with scopes_disabled():
        assert not PulseResponse.objects.exists()


def test_an_administrator_is_told_they_do_not_rate(login, march_round, admin_membership, trust, redesign):
    page = html(login(admin_membership).get(rate_url(trust)))

    assert "do not rate objectives" in page
    assert f"score_{redesign.pk}" not in page


def test_an_administrators_post_is_refused_and_nothing_saved(login, march_round, admin_membership, trust, redesign):
    response = login(admin_membership).post(rate_url(trust), {f"score_{redesign.pk}": "4"}, follow=True)

    assert messages_of(response) == ["This round is not open for your ratings, so nothing was saved."]
    assert rating_count() == 0


# --- speed -------------------------------------------------------------------------------------------------


def page_queries(client, trust):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(rate_url(trust)).status_code == 200
    return len(queries)


def test_queries_do_not_grow_with_the_number_of_objectives(
    login, march_round, february_round, rater, trust, agreed_objective, medicine, django_assert_max_num_queries
):
    client = login(rater)
    objectives = [agreed_objective(directorate=medicine if i % 2 else None) for i in range(3)]
    rate(rater, february_round, dict.fromkeys(objectives, 4))
    rate(rater, march_round, dict.fromkeys(objectives, 3))
    with_three = page_queries(client, trust)

    more = [agreed_objective(directorate=medicine if i % 2 else None) for i in range(27)]
    rate(rater, february_round, dict.fromkeys(more, 2))
    rate(rater, march_round, dict.fromkeys(more, 5))
    # With 30 objectives, each rated this month and last, the page makes no more queries than
    # with 3: session, user, trust, membership; this round; the saved pulse; the objectives; this
    # round's ratings; last month's round and ratings; the menu's check for a comment reviewer; and
    # the request's savepoint pair (13).
    with django_assert_max_num_queries(with_three):
        response = client.get(rate_url(trust))

    assert "30 of 30 objectives rated" in html(response)
    assert with_three <= 13
