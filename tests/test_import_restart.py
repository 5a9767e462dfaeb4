"""Fault test: the database goes away in the middle of a large ratings import.

On PostgreSQL (CI) the real server on 127.0.0.1 is restarted with pg_ctlcluster while
`manage.py import_ratings` is writing; on SQLite (a laptop) the import process is killed
instead. Either way the import is one transaction: afterwards not a single rating or round of
it exists, and importing the file again works.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_scopes import scopes_disabled

from surveys.models import Rating, RatingRound
from tests.factories import MembershipFactory, ObjectiveFactory
from tests.test_reminder_fault import database_url

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[1]
RATERS, OBJECTIVES = 300, 12


def months():
    """Enough rows to outlast the fault: 216,000 for PostgreSQL's COPY path; 90,000 for the
    SQLite path (its limit is 100,000 rows per file, and it is slower)."""
    return 60 if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else 25


def write_csv(path, raters, objectives):
    with path.open("w") as out:
        out.write("period,objective_ref,rater_email,score,comment\n")
        for month in range(months()):
            period = f"{2020 + month // 12}-{month % 12 + 1:02d}"
            for rater in raters:
                for objective in objectives:
                    out.write(f"{period},{objective},{rater},{(month + len(rater)) % 5 + 1},\n")


def restart_database():
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "--", "-m", "fast"],
        check=True,
        timeout=120,
    )
    for _ in range(60):
        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0:
            return
        time.sleep(1)
    raise AssertionError("PostgreSQL did not come back after the restart")


def run_import(csv):
    env = {**os.environ, "DEBUG": "true", "DATABASE_URL": database_url()}
    command = [sys.executable, "manage.py", "import_ratings", "RAA", str(csv)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def counts():
    connection.close()  # the server may have restarted under this connection
    with scopes_disabled():
        return Rating.objects.count(), RatingRound.objects.count()


def test_the_database_going_away_mid_import_leaves_nothing_partial(trust, tmp_path):
    raters = [MembershipFactory(trust=trust, user__email=f"r{i:03d}@ashby.nhs.uk").user.email for i in range(RATERS)]
    objectives = [ObjectiveFactory(trust=trust, status="agreed", ref=f"OBJ-{i:02d}").ref for i in range(OBJECTIVES)]
    csv = tmp_path / "ratings.csv"
    write_csv(csv, raters, objectives)
    postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

    process = run_import(csv)
    time.sleep(3.0)  # well into the import
    if postgres:
        restart_database()
    else:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=120)
    assert process.returncode != 0, "the import finished before the fault: make the file bigger"
    assert counts() == (0, 0)  # nothing of it: no rating, no round

    again = run_import(csv)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert f"{RATERS * OBJECTIVES * months()} created" in out
    assert counts() == (RATERS * OBJECTIVES * months(), months())
