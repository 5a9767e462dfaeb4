"""The Django admin never shows who gave a rating, and only superusers see ratings at all."""

from datetime import date

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from surveys.models import Rating
from surveys.services.rounds import round_get_or_create
from tests.factories import MembershipFactory, ObjectiveFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rating(trust):
    rater = MembershipFactory(trust=trust, user__full_name="Dr Planted Name", user__email="planted@ashby.nhs.uk")
    with scopes_disabled():
        return Rating.objects.create(
            trust=trust,
            round=round_get_or_create(trust=trust, period=date(2026, 1, 1)),
            objective=ObjectiveFactory(trust=trust, status="agreed"),
            rater=rater,
            score=2,
            comment="Planted comment",
            professional_group="clinical",
            level="operational",
        )


def admin_client(client, superuser):
    client.force_login(UserFactory(is_staff=True, is_superuser=superuser))
    return client


def test_superusers_see_ratings_without_the_rater(client, rating):
    client = admin_client(client, superuser=True)
    listing = client.get(reverse("admin:surveys_rating_changelist")).content.decode()
    detail = client.get(reverse("admin:surveys_rating_change", args=[rating.pk])).content.decode()
    for page in (listing, detail):
        assert "Planted Name" not in page and "planted@ashby.nhs.uk" not in page
    assert "Planted comment" in detail


def test_staff_who_are_not_superusers_cannot_see_ratings(client, rating):
    client = admin_client(client, superuser=False)
    assert client.get(reverse("admin:surveys_rating_changelist")).status_code == 403
    assert client.get(reverse("admin:surveys_pulseresponse_changelist")).status_code == 403
