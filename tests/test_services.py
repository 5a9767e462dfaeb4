"""In CI (REQUIRE_SERVICES=1, set by .ci/run) the suite must really use PostgreSQL and Redis:
a missing service is a failure, never a silent fallback to SQLite or the file broker."""

import os

import pytest
from django.conf import settings
from django.db import connection

from partnership.celery import app

required = os.environ.get("REQUIRE_SERVICES") == "1"


@pytest.mark.django_db
def test_database_is_postgresql_when_services_are_required():
    if required:
        assert connection.vendor == "postgresql", f"CI must test PostgreSQL, not {connection.vendor}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_broker_is_redis_and_answers_when_services_are_required():
    if required:
        assert settings.CELERY_BROKER_URL.startswith("redis://"), "CI must test the Redis broker"
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=3)
        assert conn.connected
