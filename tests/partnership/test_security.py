"""Authentication hardening and production security settings (issue #8 item 2)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def sign_in(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_repeated_wrong_passwords_lock_the_account_with_a_clear_message(client, consultant_membership, axes_on):
    for _ in range(2):
        assert sign_in(client, "consultant@ashby.nhs.uk", "wrong-password").status_code == 200
    locked = sign_in(client, "consultant@ashby.nhs.uk", "wrong-password")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    # Even the right password is refused while locked.
    assert sign_in(client, "consultant@ashby.nhs.uk", PASSWORD).status_code == 429


def test_a_successful_sign_in_resets_the_count(client, consultant_membership, axes_on):
    sign_in(client, "consultant@ashby.nhs.uk", "wrong-password")
    sign_in(client, "consultant@ashby.nhs.uk", "wrong-password")
    assert sign_in(client, "consultant@ashby.nhs.uk", PASSWORD).status_code == 302
    client.logout()
    assert sign_in(client, "consultant@ashby.nhs.uk", "wrong-password").status_code == 200


def test_pages_carry_the_security_headers(client, db):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_passwords_are_validated():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ["short", "password123", "12345678901"]:
        with pytest.raises(ValidationError):
            validate_password(weak)


def test_check_deploy_passes_with_production_settings():
    env = {
        key: value
        for key, value in os.environ.items()
        # Test-run switches (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process).
        if key
        not in {
            "DEBUG",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "AXES_ENABLED",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(
        DEBUG="false",
        SECRET_KEY="k" * 20 + "-production-like-secret-0123456789-abcdefghijklmnop",
        ALLOWED_HOSTS="commonground.example.nhs.uk",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env["DEBUG"] = "false"
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_sessions_expire_and_cookies_are_http_only(settings):
    assert settings.SESSION_COOKIE_AGE <= 60 * 60 * 12
    assert settings.SESSION_COOKIE_HTTPONLY
