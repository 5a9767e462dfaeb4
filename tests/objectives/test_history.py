"""The audit history of an objective: every change and sign-off is recorded with who did it,
and the detail page's History section lists them newest first."""

import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from objectives import services
from objectives.models import Objective, SignOff

pytestmark = pytest.mark.django_db

ENTRY = re.compile(
    r'<li class="mb-2 border-start ps-2">\s*<time[^>]*>[^<]*</time> · (?P<who>[^<\n]*?)\s*'
    r'<ul class="mb-0">(?P<what>.*?)</ul>',
    re.S,
)


def history_on_page(client, objective):
    """[(who, [what, ...]), ...] from the detail page's History section, in page order."""
    response = client.get(
        reverse("objective_detail", kwargs={"trust_code": objective.trust.code, "ref": objective.ref})
    )
    assert response.status_code == 200
    section = response.content.decode().split('id="history-heading"', 1)[1]
    return [(m["who"], re.findall(r"<li>(.*?)</li>", m["what"])) for m in ENTRY.finditer(section)]


def newest(client, objective):
    return history_on_page(client, objective)[0]


def retitle(objective, by, title="Shared rota design", **kwargs):
    services.objective_update(objective=objective, by=by, fields={"title": title}, **kwargs)


# --- each event, as the newest entry ---------------------------------------------------------


def test_creation_is_recorded_with_its_author(create, board, login):
    objective = create(by=board.md)

    assert history_on_page(login(board.md), objective) == [("Maya Desai", ["Created as draft"])]


def test_an_edit_records_the_field_and_the_editor(create, board, login):
    objective = create(by=board.md)
    retitle(objective, by=board.ceo)

    assert newest(login(board.md), objective) == ("Colin Evans", ["Changed title"])


def test_a_lead_change_names_the_field(create, board, login):
    objective = create(by=board.md)
    services.objective_update(objective=objective, by=board.md, fields={"clinical_lead": board.clinical})

    assert newest(login(board.md), objective) == ("Maya Desai", ["Changed clinical lead"])


def test_a_directorate_change_names_both_directorates(create, board, surgery, login):
    objective = create(by=board.md)
    services.objective_update(objective=objective, by=board.md, fields={"directorate": surgery.directorate})

    assert newest(login(board.md), objective) == ("Maya Desai", ["Directorate trust-wide → Surgery"])


def test_proposing_records_the_status_change_and_the_proposers_sign_off(proposed, board, login):
    objective = proposed(by=board.md)

    assert history_on_page(login(board.md), objective)[:2] == [
        ("Maya Desai", ["Status draft → proposed"]),
        ("Maya Desai", ["Signed off for the clinical side by Maya Desai"]),
    ]


def test_the_second_sign_off_records_the_signer_and_the_agreement(proposed, board, login):
    objective = services.objective_sign_off(objective=proposed(by=board.md), by=board.ceo)

    assert history_on_page(login(board.md), objective)[:2] == [
        ("Colin Evans", ["Status proposed → agreed", "Signed off by both sides"]),
        ("Colin Evans", ["Signed off for the managerial side by Colin Evans"]),
    ]


def test_a_reset_records_each_cleared_sign_off_by_name(agreed, board, login):
    objective = agreed()
    retitle(objective, by=board.clinical, confirm_reset=True)

    entries = history_on_page(login(board.md), objective)

    assert entries[1:3] == [
        ("Clara Board", ["Managerial sign-off by Colin Evans cleared"]),
        ("Clara Board", ["Clinical sign-off by Maya Desai cleared"]),
    ]


def test_a_reset_records_the_wording_change_and_the_return_to_proposed(agreed, board, login):
    objective = agreed()
    retitle(objective, by=board.clinical, confirm_reset=True)

    who, what = newest(login(board.md), objective)

    assert who == "Clara Board"
    assert set(what) == {
        "Changed title",
        "Status agreed → proposed",
        "Wording changed: sign-offs cleared, back to proposed",
    }


@pytest.mark.parametrize("closing", [services.objective_mark_achieved, services.objective_retire])
def test_closing_is_recorded(agreed, board, login, closing):
    objective = closing(objective=agreed(), by=board.ceo)

    who, what = newest(login(board.md), objective)

    assert who == "Colin Evans"
    assert what[0].startswith("Status agreed → ")


# --- the whole story, newest first ----------------------------------------------------------------


def test_the_history_lists_a_whole_lifecycle_newest_first(create, board, login):
    objective = create(by=board.md)
    retitle(objective, by=board.clinical)
    objective = services.objective_propose(objective=objective, by=board.md)
    objective = services.objective_sign_off(objective=objective, by=board.ceo)
    retitle(objective, by=board.managerial, title="Reworded", confirm_reset=True)

    entries = history_on_page(login(board.md), objective)

    assert [(who, what[0] if who != "Martin Board" or len(what) == 1 else "reset") for who, what in entries] == [
        ("Martin Board", "reset"),
        ("Martin Board", "Managerial sign-off by Colin Evans cleared"),
        ("Martin Board", "Clinical sign-off by Maya Desai cleared"),
        ("Colin Evans", "Status proposed → agreed"),
        ("Colin Evans", "Signed off for the managerial side by Colin Evans"),
        ("Maya Desai", "Status draft → proposed"),
        ("Maya Desai", "Signed off for the clinical side by Maya Desai"),
        ("Clara Board", "Changed title"),
        ("Maya Desai", "Created as draft"),
    ]


def test_the_history_times_are_newest_first(agreed, board, login):
    objective = agreed()
    retitle(objective, by=board.md, confirm_reset=True)

    history = (
        login(board.md)
        .get(reverse("objective_detail", kwargs={"trust_code": objective.trust.code, "ref": objective.ref}))
        .context["history"]
    )

    times = [entry["when"] for entry in history]
    assert times == sorted(times, reverse=True)


# --- the stored records ---------------------------------------------------------------------------


def test_every_objective_history_record_has_the_acting_user(agreed, board):
    objective = agreed()
    retitle(objective, by=board.managerial, confirm_reset=True)

    with scopes_disabled():
        records = list(Objective.history.filter(id=objective.pk).order_by("history_date"))
    assert [(record.history_type, record.history_user) for record in records] == [
        ("+", board.md.user),  # created
        ("~", board.md.user),  # proposed
        ("~", board.ceo.user),  # agreed
        ("~", board.managerial.user),  # reworded: back to proposed
    ]


def test_every_sign_off_history_record_has_the_acting_user(agreed, board):
    objective = agreed()
    retitle(objective, by=board.managerial, confirm_reset=True)

    with scopes_disabled():
        records = SignOff.history.filter(objective_id=objective.pk).order_by("history_date")
        stored = [(r.history_type, r.side, r.membership_id, r.history_user) for r in records]
    assert stored == [
        ("+", "clinical", board.md.pk, board.md.user),
        ("+", "managerial", board.ceo.pk, board.ceo.user),
        ("-", "clinical", board.md.pk, board.managerial.user),
        ("-", "managerial", board.ceo.pk, board.managerial.user),
    ]


def test_an_edit_through_the_form_records_the_signed_in_user(create, board, login):
    objective = create(by=board.md)
    data = {
        "title": "Edited on the page",
        "description": objective.description,
        "theme": objective.theme,
        "directorate": "",
        "clinical_lead": objective.clinical_lead_id,
        "managerial_lead": objective.managerial_lead_id,
        "success_measure": objective.success_measure,
        "target_date": "",
    }

    login(board.ceo).post(
        reverse("objective_edit", kwargs={"trust_code": objective.trust.code, "ref": objective.ref}), data
    )

    with scopes_disabled():
        latest = Objective.history.filter(id=objective.pk).latest("history_date")
    assert (latest.title, latest.history_user) == ("Edited on the page", board.ceo.user)
