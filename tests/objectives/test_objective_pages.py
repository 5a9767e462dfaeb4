"""Objective pages through the test client: the create/edit forms and their bad input,
who may open which page, confirmation pages, the list's filters and query counts."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from objectives import services
from objectives.models import Objective, SignOff, Status
from tests.factories import MembershipFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db

ACTIONS = ["objective_propose", "objective_sign_off", "objective_achieve", "objective_retire"]
REF_URLS = ["objective_detail", "objective_edit", *ACTIONS]
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


def url(name, objective):
    return reverse(name, kwargs={"trust_code": objective.trust.code, "ref": objective.ref})


def list_url(trust, **query):
    path = reverse("objective_list", kwargs={"trust_code": trust.code})
    return path + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def create_url(trust):
    return reverse("objective_create", kwargs={"trust_code": trust.code})


def reloaded(objective):
    with scopes_disabled():
        return Objective.objects.get(pk=objective.pk)


def objective_count():
    with scopes_disabled():
        return Objective.objects.count()


def listed_refs(response):
    with scopes_disabled():
        return [objective.ref for objective in response.context["objectives"]]


def form_data(board, **overrides):
    """A valid POST of the create form (a trust-wide objective led by the MD and the CEO)."""
    return {
        "ref": "",
        "title": "Joint job planning",
        "description": "Consultants and managers plan job plans together.",
        "theme": "dialogue",
        "directorate": "",
        "clinical_lead": board.md.pk,
        "managerial_lead": board.ceo.pk,
        "success_measure": "Every job plan signed by both.",
        "target_date": "",
        **overrides,
    }


def edit_data(objective, **overrides):
    """The edit form as the page would post it back unchanged, plus `overrides`."""
    return {
        "title": objective.title,
        "description": objective.description,
        "theme": objective.theme,
        "directorate": objective.directorate_id or "",
        "clinical_lead": objective.clinical_lead_id or "",
        "managerial_lead": objective.managerial_lead_id or "",
        "success_measure": objective.success_measure,
        "target_date": objective.target_date.isoformat() if objective.target_date else "",
        **overrides,
    }


# --- the create form ------------------------------------------------------------------------


def test_the_create_form_saves_a_draft_and_shows_it(board, login):
    response = login(board.md).post(create_url(board.md.trust), form_data(board), follow=True)

    with scopes_disabled():
        objective = Objective.objects.get()
    assert objective.status == Status.DRAFT
    assert response.redirect_chain[-1][0] == url("objective_detail", objective)
    assert "OBJ-01 saved as a draft" in response.content.decode()


@pytest.mark.parametrize("who", ["consultant", "admin"])
def test_consultants_and_administrators_cannot_open_the_create_form(board, login, who):
    assert login(getattr(board, who)).get(create_url(board.md.trust)).status_code == 403


def test_a_directorate_leaders_form_offers_only_their_directorate(surgery, medicine, login):
    form = login(surgery.cd).get(create_url(surgery.cd.trust)).context["form"]

    with scopes_disabled():
        assert list(form.fields["directorate"].queryset) == [surgery.directorate]


def post_bad(client, trust, data):
    """POST the create form with bad data: (page text, form) of the re-shown form."""
    response = client.post(create_url(trust), data)
    assert response.status_code == 200
    return response.content.decode(), response.context["form"]


def test_an_unknown_theme_is_refused(board, login):
    page, form = post_bad(login(board.md), board.md.trust, form_data(board, theme="world-peace"))

    assert "theme" in form.errors
    assert "Select a valid choice" in page
    assert objective_count() == 0


def test_a_lead_from_another_trust_is_refused(board, other_trust, login):
    outsider = MembershipFactory(trust=other_trust, medical_director=True)

    page, form = post_bad(login(board.md), board.md.trust, form_data(board, clinical_lead=outsider.pk))

    assert "clinical_lead" in form.errors
    assert "Select a valid choice" in page
    assert objective_count() == 0


@pytest.mark.parametrize(
    ("field", "wrong_group_member"),
    [("clinical_lead", "ceo"), ("managerial_lead", "md")],
)
def test_a_lead_of_the_wrong_professional_group_is_refused(board, login, field, wrong_group_member):
    data = form_data(board, **{field: getattr(board, wrong_group_member).pk})

    page, form = post_bad(login(board.md), board.md.trust, data)

    assert field in form.errors
    assert "Select a valid choice" in page
    assert objective_count() == 0


def test_an_inactive_lead_is_refused(board, login):
    gone = MembershipFactory(trust=board.md.trust, chief_executive=True, is_active=False)

    _, form = post_bad(login(board.md), board.md.trust, form_data(board, managerial_lead=gone.pk))

    assert "managerial_lead" in form.errors
    assert objective_count() == 0


def test_a_duplicate_reference_is_refused(board, login):
    ObjectiveFactory(trust=board.md.trust, ref="OBJ-07")

    page, form = post_bad(login(board.md), board.md.trust, form_data(board, ref="OBJ-07"))

    assert form.errors["ref"] == ["OBJ-07 is already used by another objective."]
    assert "OBJ-07 is already used by another objective." in page
    assert objective_count() == 1


def test_a_malformed_reference_is_refused(board, login):
    page, form = post_bad(login(board.md), board.md.trust, form_data(board, ref="OBJ 7!"))

    assert "ref" in form.errors
    assert "capital letters, digits and hyphens" in page
    assert objective_count() == 0


def test_a_past_target_date_is_refused_for_a_new_objective(board, login):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    page, form = post_bad(login(board.md), board.md.trust, form_data(board, target_date=yesterday.isoformat()))

    assert form.errors["target_date"] == ["The target date is in the past."]
    assert "The target date is in the past." in page
    assert objective_count() == 0


def test_an_over_long_title_is_refused(board, login):
    page, form = post_bad(login(board.md), board.md.trust, form_data(board, title="x" * 201))

    assert "title" in form.errors
    assert "at most 200 characters" in page
    assert objective_count() == 0


def test_a_title_of_exactly_200_characters_is_accepted(board, login):
    login(board.md).post(create_url(board.md.trust), form_data(board, title="x" * 200))

    assert objective_count() == 1


# --- the service checks leads too (a command or a crafted call cannot skip the form) ----------


def test_the_service_refuses_a_lead_from_another_trust(board, other_trust):
    outsider = MembershipFactory(trust=other_trust, medical_director=True)

    with pytest.raises(ValidationError) as excinfo:
        services.objective_validate(trust=board.md.trust, fields={"clinical_lead": outsider})

    assert excinfo.value.message_dict == {"clinical_lead": ["The lead must be an active member of this trust."]}


@pytest.mark.parametrize(("field", "wrong_group_member"), [("clinical_lead", "ceo"), ("managerial_lead", "md")])
def test_the_service_refuses_a_lead_of_the_wrong_group(board, field, wrong_group_member):
    with pytest.raises(ValidationError) as excinfo:
        services.objective_validate(trust=board.md.trust, fields={field: getattr(board, wrong_group_member)})

    assert list(excinfo.value.message_dict) == [field]


def test_objective_create_refuses_a_lead_from_another_trust_and_stores_nothing(create, other_trust):
    outsider = MembershipFactory(trust=other_trust, chief_executive=True)

    with pytest.raises(ValidationError, match="active member of this trust"):
        create(managerial_lead=outsider)

    assert objective_count() == 0


def test_objective_create_refuses_a_lead_of_the_wrong_group_and_stores_nothing(create, board):
    with pytest.raises(ValidationError, match="clinical group"):
        create(clinical_lead=board.ceo)

    assert objective_count() == 0


def test_objective_create_refuses_a_duplicate_reference(create):
    create(ref="OBJ-07")

    with pytest.raises(ValidationError, match="already used"):
        create(ref="OBJ-07")

    assert objective_count() == 1


# --- HTML in text is stored as text and shown escaped ----------------------------------------


def test_html_in_the_title_and_description_is_stored_as_text(board, login):
    login(board.md).post(create_url(board.md.trust), form_data(board, title=SCRIPT, description=SCRIPT))

    with scopes_disabled():
        objective = Objective.objects.get()
    assert (objective.title, objective.description) == (SCRIPT, SCRIPT)


@pytest.mark.parametrize("page", ["detail", "list", "retire"])
def test_html_in_the_title_is_shown_escaped(create, board, login, page):
    objective = create(title=SCRIPT, description=SCRIPT)
    address = {
        "detail": url("objective_detail", objective),
        "list": list_url(objective.trust),
        "retire": url("objective_retire", objective),
    }[page]

    content = login(board.md).get(address).content.decode()

    assert ESCAPED_SCRIPT in content
    assert SCRIPT not in content


# --- the edit form -----------------------------------------------------------------------------


def test_a_wording_change_without_confirmation_shows_the_warning_and_saves_nothing(agreed, board, login):
    objective = agreed()

    response = login(board.md).post(url("objective_edit", objective), edit_data(objective, title="Reworded"))

    assert response.status_code == 200
    assert "Changing the wording returns this objective to proposed and clears its sign-offs" in (
        response.content.decode()
    )
    assert reloaded(objective).title == objective.title
    assert reloaded(objective).status == Status.AGREED


def test_a_confirmed_wording_change_returns_the_objective_to_proposed(agreed, board, login):
    objective = agreed()
    data = edit_data(objective, title="Reworded", confirm_reset="on")

    response = login(board.md).post(url("objective_edit", objective), data, follow=True)

    assert reloaded(objective).status == Status.PROPOSED
    assert "back to proposed" in response.content.decode()
    with scopes_disabled():
        assert not SignOff.objects.filter(objective=objective).exists()


def test_changing_the_leads_on_the_form_keeps_the_objective_agreed(agreed, board, login):
    objective = agreed()
    data = edit_data(objective, clinical_lead=board.clinical.pk, theme="continuity")

    response = login(board.md).post(url("objective_edit", objective), data)

    assert response.status_code == 302
    assert reloaded(objective).status == Status.AGREED
    assert reloaded(objective).clinical_lead == board.clinical


def test_the_edit_form_of_an_agreed_objective_warns_before_any_change(agreed, board, login):
    content = login(board.md).get(url("objective_edit", agreed())).content.decode()

    assert "returns it to <em>proposed</em> and clears its sign-offs" in content
    assert 'name="confirm_reset"' in content


# --- who may open what ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "stage"),
    [
        ("objective_edit", "agreed"),
        ("objective_propose", "proposed"),
        ("objective_sign_off", "proposed"),
        ("objective_achieve", "agreed"),
        ("objective_retire", "agreed"),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_consultant_is_refused_the_writing_pages(request, board, login, name, stage, method):
    objective = request.getfixturevalue(stage)()

    response = getattr(login(board.consultant), method)(url(name, objective))

    assert response.status_code == 403
    assert reloaded(objective).status == objective.status


@pytest.mark.parametrize("stage", ["proposed", "agreed"])
def test_a_consultant_sees_a_proposed_or_agreed_objective(request, board, login, stage):
    objective = request.getfixturevalue(stage)()

    assert login(board.consultant).get(url("objective_detail", objective)).status_code == 200


@pytest.mark.parametrize("name", REF_URLS)
@pytest.mark.parametrize("who", ["consultant", "admin"])
def test_drafts_are_not_found_for_non_authors(create, board, login, name, who):
    draft = create()

    assert login(getattr(board, who)).get(url(name, draft)).status_code == 404


@pytest.mark.parametrize("name", REF_URLS)
def test_a_trust_wide_draft_is_not_found_for_a_clinical_director(create, surgery, login, name):
    draft = create()

    assert login(surgery.cd).get(url(name, draft)).status_code == 404


def test_a_directorate_draft_is_not_found_for_another_directorates_clinical_director(create, surgery, medicine, login):
    draft = create(by=surgery.cd, directorate=surgery.directorate, clinical_lead=surgery.cd, managerial_lead=surgery.dm)

    assert login(medicine.cd).get(url("objective_detail", draft)).status_code == 404


def test_a_draft_is_not_listed_for_a_consultant(create, board, login):
    create()

    assert listed_refs(login(board.consultant).get(list_url(board.md.trust))) == []


def test_a_draft_is_visible_to_another_board_author(create, board, login):
    draft = create(by=board.ceo)

    assert login(board.md).get(url("objective_detail", draft)).status_code == 200


def test_a_directorate_draft_is_visible_to_its_directorate_manager(create, surgery, login):
    draft = create(by=surgery.cd, directorate=surgery.directorate, clinical_lead=surgery.cd, managerial_lead=surgery.dm)

    assert login(surgery.dm).get(url("objective_detail", draft)).status_code == 200


@pytest.fixture
def surgery_proposal(proposed, surgery):
    return proposed(
        by=surgery.cd, directorate=surgery.directorate, clinical_lead=surgery.cd, managerial_lead=surgery.dm
    )


@pytest.mark.parametrize(
    "viewer",
    [
        ("board", "consultant"),
        ("board", "admin"),
        ("board", "managerial"),
        ("medicine", "cd"),
        ("medicine", "dm"),
        ("medicine", "consultant"),
    ],
)
def test_a_proposed_directorate_objective_is_visible_to_everybody_in_the_trust(
    request, surgery_proposal, login, viewer
):
    member = getattr(request.getfixturevalue(viewer[0]), viewer[1])
    client = login(member)

    assert client.get(url("objective_detail", surgery_proposal)).status_code == 200
    assert listed_refs(client.get(list_url(surgery_proposal.trust))) == [surgery_proposal.ref]


# --- lifecycle pages: GET asks, POST acts ------------------------------------------------------


# (page, how far the objective has got, who acts, the status after acting)
ACTION_CASES = [
    ("objective_propose", "create", "md", Status.PROPOSED),
    ("objective_sign_off", "proposed", "ceo", Status.AGREED),
    ("objective_achieve", "agreed", "md", Status.ACHIEVED),
    ("objective_retire", "agreed", "md", Status.RETIRED),
]


def signoff_count(objective):
    with scopes_disabled():
        return SignOff.objects.filter(objective=objective).count()


def stored_state(objective):
    return reloaded(objective).status, reloaded(objective).proposal_version, signoff_count(objective)


@pytest.mark.parametrize(("name", "stage", "who"), [case[:3] for case in ACTION_CASES])
def test_an_action_page_asks_for_confirmation_and_changes_nothing(request, board, login, name, stage, who):
    objective = request.getfixturevalue(stage)()
    before = stored_state(objective)

    response = login(getattr(board, who)).get(url(name, objective))

    assert response.status_code == 200
    assert '<form method="post">' in response.content.decode()
    assert stored_state(objective) == before


@pytest.mark.parametrize(("name", "stage", "who", "expected"), ACTION_CASES)
def test_posting_the_confirmation_acts(request, board, login, name, stage, who, expected):
    objective = request.getfixturevalue(stage)()

    response = login(getattr(board, who)).post(url(name, objective))

    assert response.status_code == 302
    assert response["Location"] == url("objective_detail", objective)
    assert reloaded(objective).status == expected


def test_the_second_sign_off_says_the_objective_is_agreed(proposed, board, login):
    objective = proposed(by=board.md)

    response = login(board.ceo).post(url("objective_sign_off", objective), follow=True)

    assert "Both sides have signed: it is now agreed." in response.content.decode()


def test_proposing_without_leads_shows_why_and_keeps_the_draft(create, board, login):
    draft = create(managerial_lead=None)

    response = login(board.md).post(url("objective_propose", draft), follow=True)

    assert "Name a managerial lead before proposing." in response.content.decode()
    assert reloaded(draft).status == Status.DRAFT


# --- the list: filters and status counts --------------------------------------------------------


@pytest.fixture
def listed(create, proposed, agreed, board, surgery):
    """Four objectives of different status, theme, directorate and leads."""
    return {
        "draft": create(ref="OBJ-01", theme="continuity"),
        "proposed": proposed(ref="OBJ-02", theme="dialogue"),
        "agreed": agreed(ref="OBJ-03", theme="dialogue", clinical_lead=board.clinical),
        "surgery": proposed(
            by=surgery.cd,
            ref="OBJ-04",
            theme="continuity",
            directorate=surgery.directorate,
            clinical_lead=surgery.cd,
            managerial_lead=surgery.dm,
        ),
    }


def status_counts(response):
    return {value: count for value, _, count in response.context["status_counts"]}


def test_the_list_shows_every_visible_objective_with_its_status_counts(listed, board, login):
    response = login(board.md).get(list_url(board.md.trust))

    assert listed_refs(response) == ["OBJ-01", "OBJ-02", "OBJ-03", "OBJ-04"]
    assert status_counts(response) == {"draft": 1, "proposed": 2, "agreed": 1, "achieved": 0, "retired": 0}
    assert response.context["total"] == 4


def test_the_list_filters_by_status_and_keeps_the_counts_of_every_status(listed, board, login):
    response = login(board.md).get(list_url(board.md.trust, status="proposed"))

    assert listed_refs(response) == ["OBJ-02", "OBJ-04"]
    assert status_counts(response)["agreed"] == 1


def test_the_list_filters_by_theme_and_counts_within_the_theme(listed, board, login):
    response = login(board.md).get(list_url(board.md.trust, theme="continuity"))

    assert listed_refs(response) == ["OBJ-01", "OBJ-04"]
    assert status_counts(response) == {"draft": 1, "proposed": 1, "agreed": 0, "achieved": 0, "retired": 0}


def test_the_list_filters_by_directorate(listed, board, surgery, login):
    response = login(board.md).get(list_url(board.md.trust, directorate=surgery.directorate.pk))

    assert listed_refs(response) == ["OBJ-04"]


def test_the_list_filters_trust_wide_objectives(listed, board, login):
    response = login(board.md).get(list_url(board.md.trust, directorate="trust-wide"))

    assert listed_refs(response) == ["OBJ-01", "OBJ-02", "OBJ-03"]


@pytest.mark.parametrize(("lead", "refs"), [("clinical", ["OBJ-03"]), ("ceo", ["OBJ-01", "OBJ-02", "OBJ-03"])])
def test_the_list_filters_by_lead(listed, board, login, lead, refs):
    response = login(board.md).get(list_url(board.md.trust, lead=getattr(board, lead).pk))

    assert listed_refs(response) == refs


def test_the_status_counts_of_a_consultant_leave_out_drafts(listed, board, login):
    response = login(board.consultant).get(list_url(board.md.trust))

    assert status_counts(response)["draft"] == 0
    assert response.context["total"] == 3


def test_the_status_counts_are_shown_on_the_page(listed, board, login):
    content = login(board.md).get(list_url(board.md.trust)).content.decode()

    assert 'Proposed <span class="badge text-bg-light">2</span>' in content
    assert 'All <span class="badge text-bg-light">4</span>' in content


# --- query counts do not grow with data ----------------------------------------------------------


def agreed_objectives(trust, board, count, start=0):
    """`count` agreed objectives with both leads and both sign-offs (rows written directly: fast)."""
    with scopes_disabled():
        for n in range(start, start + count):
            objective = ObjectiveFactory(
                trust=trust,
                ref=f"BULK-{n:03d}",
                status=Status.AGREED,
                clinical_lead=board.md,
                managerial_lead=board.ceo,
            )
            SignOff.objects.create(trust=trust, objective=objective, side="clinical", membership=board.md)
            SignOff.objects.create(trust=trust, objective=objective, side="managerial", membership=board.ceo)


def list_queries(client, trust, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(list_url(trust))
    assert response.status_code == 200
    return len(captured.captured_queries)


# 12 today: savepoint + release (ATOMIC_REQUESTS), session, user, trust, membership, the filter
# form's directorates and leads, the status counts, the paginator's count, the objectives (leads
# and directorate joined) and their sign-offs (one prefetch, signers joined). 2 spare for a
# harmless change to the layout; one query per objective would add 30.
LIST_MAX_QUERIES = 14


def test_the_list_page_query_count_does_not_grow_with_objectives(board, login, django_assert_max_num_queries):
    trust, client = board.md.trust, login(board.md)
    agreed_objectives(trust, board, 3)
    few = list_queries(client, trust, django_assert_max_num_queries, LIST_MAX_QUERIES)

    agreed_objectives(trust, board, 27, start=3)
    many = list_queries(client, trust, django_assert_max_num_queries, LIST_MAX_QUERIES)

    assert many == few


def detail_queries(client, objective, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(url("objective_detail", objective))
    assert response.status_code == 200
    return len(captured.captured_queries)


def edits(objective, by, count):
    """`count` more history entries: title edits of a draft."""
    for n in range(count):
        services.objective_update(objective=objective, by=by, fields={"title": f"Draft wording {by.pk}.{n}"})


# 12 today: savepoint + release, session, user, trust, membership, the objective (leads joined),
# its sign-offs (signers joined), the objective's history (users joined), the trust again and its
# directorate names (for the history), the sign-offs' history (users and signers joined); a
# proposal adds up to 2 for the people still to sign. 2 spare; one query per history entry would
# add 20.
DETAIL_MAX_QUERIES = 16


def test_the_detail_page_query_count_does_not_grow_with_history(create, board, login, django_assert_max_num_queries):
    draft = create()
    client = login(board.md)
    edits(draft, board.md, 1)  # created + 1 edit = 2 entries
    few = detail_queries(client, draft, django_assert_max_num_queries, DETAIL_MAX_QUERIES)

    edits(draft, board.ceo, 18)  # 20 entries
    many = detail_queries(client, draft, django_assert_max_num_queries, DETAIL_MAX_QUERIES)

    assert len(client.get(url("objective_detail", draft)).context["history"]) == 20
    assert many == few


def test_the_detail_page_query_count_does_not_grow_with_sign_off_history(
    agreed, board, login, django_assert_max_num_queries
):
    objective = agreed()
    client = login(board.md)
    few = detail_queries(client, objective, django_assert_max_num_queries, DETAIL_MAX_QUERIES)

    for n in range(4):  # each reset clears two sign-offs and both sides sign again
        services.objective_update(objective=objective, by=board.md, fields={"title": f"v{n}"}, confirm_reset=True)
        services.objective_sign_off(objective=objective, by=board.clinical)
        services.objective_sign_off(objective=objective, by=board.managerial)
    many = detail_queries(client, objective, django_assert_max_num_queries, DETAIL_MAX_QUERIES)

    assert many == few
