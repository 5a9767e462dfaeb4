import pytest
from django_scopes import scopes_disabled

from tests.factories import PASSWORD, MembershipFactory, TrustFactory


@pytest.fixture(autouse=True)
def _media_and_mail(settings, tmp_path):
    # Fast hashing in tests; production keeps Django's deliberately slow PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from django.core.cache import cache

    cache.clear()  # cached analysis must never leak from one test's data into another's
    from partnership.celery import app

    app.conf.task_always_eager = True


@pytest.fixture
def unscoped():
    """For assertions on stored rows across trusts (the app itself always runs in a scope)."""
    with scopes_disabled():
        yield


@pytest.fixture
def trust(db):
    return TrustFactory(code="RAA", name="Ashby Hospitals NHS Trust")


@pytest.fixture
def other_trust(db):
    return TrustFactory(code="RBB", name="Brook Valley NHS Trust")


@pytest.fixture
def admin_membership(trust):
    return MembershipFactory(trust=trust, administrator=True, user__email="admin@ashby.nhs.uk")


@pytest.fixture
def consultant_membership(trust):
    return MembershipFactory(trust=trust, user__email="consultant@ashby.nhs.uk")


@pytest.fixture
def other_admin_membership(other_trust):
    return MembershipFactory(trust=other_trust, administrator=True, user__email="admin@brook.nhs.uk")


@pytest.fixture
def login(client):
    """login(membership) signs the test client in as that member's user."""

    def _login(membership):
        assert client.login(username=membership.user.email, password=PASSWORD)
        return client

    return _login
