"""Database constraints: the rules that hold whatever code writes the rows."""

import pytest
from django.db import IntegrityError
from django_scopes import scopes_disabled

from partnership.models import Directorate, Membership, User
from tests.factories import DirectorateFactory, InvitationFactory, MembershipFactory, TrustFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_unique_whatever_its_case():
    UserFactory(email="Jo.Bloggs@nhs.net")
    with pytest.raises(IntegrityError):
        UserFactory(email="jo.bloggs@NHS.NET")


def test_create_user_normalises_email_and_signs_in_by_any_case():
    user = User.objects.create_user("  Jo.Bloggs@NHS.net ", password="a-long-password-1")
    assert user.email == "jo.bloggs@nhs.net"
    assert User.objects.get_by_natural_key("JO.BLOGGS@nhs.net") == user


def test_new_user_without_password_cannot_sign_in():
    assert not User.objects.create_user("new@nhs.net").has_usable_password()


def test_one_membership_per_person_per_trust(trust):
    membership = MembershipFactory(trust=trust)
    with pytest.raises(IntegrityError):
        MembershipFactory(trust=trust, user=membership.user)


def test_a_person_may_belong_to_several_trusts(trust, other_trust, unscoped):
    user = UserFactory()
    MembershipFactory(trust=trust, user=user)
    MembershipFactory(trust=other_trust, user=user)
    assert Membership.objects.filter(user=user).count() == 2


@pytest.mark.parametrize(
    "field, value",
    [("professional_group", "nurse"), ("level", "ward"), ("role", "porter")],
)
def test_vocabularies_are_enforced_by_the_database(trust, field, value):
    with pytest.raises(IntegrityError):
        MembershipFactory(trust=trust, **{field: value})


def test_directorate_names_are_unique_per_trust_ignoring_case(trust, other_trust):
    DirectorateFactory(trust=trust, name="Surgery")
    DirectorateFactory(trust=other_trust, name="Surgery")  # another trust may use the name
    with pytest.raises(IntegrityError):
        DirectorateFactory(trust=trust, name="SURGERY")


def test_trust_code_is_unique():
    TrustFactory(code="RXY")
    with pytest.raises(IntegrityError):
        TrustFactory(code="RXY")


def test_min_group_size_below_three_is_refused():
    with pytest.raises(IntegrityError):
        TrustFactory(min_group_size=2)


def test_only_one_pending_invitation_per_membership():
    invitation = InvitationFactory()
    InvitationFactory(membership=invitation.membership, status="accepted")
    with pytest.raises(IntegrityError):
        InvitationFactory(membership=invitation.membership)


@pytest.mark.parametrize(
    "group, level, expected",
    [
        ("clinical", "board", "senior_clinical"),
        ("managerial", "board", "senior_nonclinical"),
        ("clinical", "operational", "operational_clinical"),
        ("managerial", "operational", "operational_nonclinical"),
    ],
)
def test_davies_group_follows_group_and_level(group, level, expected):
    assert Membership(professional_group=group, level=level).davies_group == expected


def test_scoped_models_refuse_queries_outside_a_trust_scope(trust):
    DirectorateFactory(trust=trust)
    from django_scopes.exceptions import ScopeError

    with pytest.raises(ScopeError):
        list(Directorate.objects.all())
    with pytest.raises(ScopeError):
        Membership.objects.filter(is_active=True).count()
    with scopes_disabled():
        assert Directorate.objects.count() == 1
