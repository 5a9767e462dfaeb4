"""Trust scoping: every trust URL is 404 for members of other trusts, 403 for the wrong role.

The URL list is walked from the resolver, so a new trust page is covered automatically.
"""

from datetime import date

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from surveys.services.reminders import reminders_opt_out_token
from surveys.services.rounds import round_get_or_create
from tests.factories import DirectorateFactory, MembershipFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db

# Pages only administrators may use.
ADMIN_ONLY = {
    "people_list",
    "person_invite",
    "person_reinvite",
    "people_import",
    "people_import_confirm",
    "objectives_import",
    "objectives_import_confirm",
}
POST_ONLY = {"person_reinvite", "people_import_confirm", "objectives_import_confirm"}
# Authenticated by a signed token in the URL, not by signing in (tests/surveys/test_reminder_opt_out.py).
TOKEN_AUTHENTICATED = {"reminders_opt_out"}


def _trust_url_names():
    names = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and (prefix + str(p.pattern)).startswith("trusts/") and p.name:
                names.append(p.name)

    walk(get_resolver().url_patterns)
    return sorted(names)


def _url_args(name):
    return get_resolver().reverse_dict.getlist(name)[0][0][0][1]


TRUST_URL_NAMES = _trust_url_names()
OBJECT_URL_NAMES = [name for name in TRUST_URL_NAMES if set(_url_args(name)) - {"trust_code"}]
SIGNED_IN_URL_NAMES = [name for name in TRUST_URL_NAMES if name not in TOKEN_AUTHENTICATED]


def objects_of(trust):
    """One object of each kind a trust URL can name, all belonging to `trust`."""
    return {
        "membership_id": MembershipFactory(trust=trust).pk,
        "ref": ObjectiveFactory(trust=trust, ref=f"OBJ-{trust.code}", status="proposed").ref,
        "directorate_id": DirectorateFactory(trust=trust).pk,
        "token": reminders_opt_out_token(MembershipFactory(trust=trust)),
        "period": round_get_or_create(trust=trust, period=date(2026, 1 + len(trust.code) % 12, 1)).slug,
    }


def _url(name, trust, objects):
    kwargs = {"trust_code": trust.code}
    kwargs.update({arg: objects[arg] for arg in _url_args(name) if arg != "trust_code"})
    return reverse(name, kwargs=kwargs)


def _request(client, name, url):
    return client.post(url) if name in POST_ONLY else client.get(url)


def test_the_walk_finds_the_trust_pages():
    assert {"trust_home", "people_list", "person_invite", "people_import"} <= set(TRUST_URL_NAMES)
    assert "person_reinvite" in OBJECT_URL_NAMES and "objective_detail" in OBJECT_URL_NAMES


@pytest.mark.parametrize("name", SIGNED_IN_URL_NAMES)
def test_members_of_another_trust_get_404(name, trust, other_trust, other_admin_membership, login):
    client = login(other_admin_membership)  # an administrator, but of trust B
    assert _request(client, name, _url(name, trust, objects_of(trust))).status_code == 404


@pytest.mark.parametrize("name", OBJECT_URL_NAMES)
def test_object_ids_of_another_trust_are_404_even_in_your_own_trust_url(
    name, trust, other_trust, admin_membership, login
):
    client = login(admin_membership)
    assert _request(client, name, _url(name, trust, objects_of(other_trust))).status_code == 404


@pytest.mark.parametrize("name", TRUST_URL_NAMES)
def test_unknown_trust_code_is_404(name, admin_membership, login):
    client = login(admin_membership)
    url = _url(name, admin_membership.trust, objects_of(admin_membership.trust)).replace("/RAA/", "/ZZZ/", 1)
    assert _request(client, name, url).status_code == 404


@pytest.mark.parametrize("name", SIGNED_IN_URL_NAMES)
def test_anonymous_visitors_are_sent_to_sign_in(name, client, trust, admin_membership):
    response = _request(client, name, _url(name, trust, objects_of(trust)))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(ADMIN_ONLY))
@pytest.mark.parametrize("role", ["consultant", "medical_director", "chief_executive", "directorate_manager"])
def test_only_administrators_manage_people(name, role, trust, login):
    traits = {} if role == "consultant" else {role: True}
    member = MembershipFactory(trust=trust, **traits)
    response = _request(login(member), name, _url(name, trust, objects_of(trust)))
    assert response.status_code == 403


def test_an_inactive_membership_gives_no_access(trust, login):
    member = MembershipFactory(trust=trust, administrator=True, is_active=False)
    assert login(member).get(reverse("trust_home", args=[trust.code])).status_code == 404


@pytest.mark.parametrize("name", sorted(ADMIN_ONLY - POST_ONLY) + ["trust_home"])
def test_administrators_reach_their_pages(name, trust, admin_membership, login):
    assert login(admin_membership).get(_url(name, trust, objects_of(trust))).status_code == 200
