"""The demo trust: its people (this app) and, through each app's own `demo` module, its
objectives and ratings. `manage.py seed_demo` calls `demo_seed(trust)` of every installed
app that has one, in INSTALLED_APPS order, so no app imports "upwards"."""

import csv
import io

from django.contrib.auth.hashers import make_password

from ..models import User
from ..services.people_import import COLUMNS, people_import_apply, people_import_plan
from ..services.trusts import trust_create
from . import people


def demo_trust():
    trust, _ = trust_create(code=people.TRUST_CODE, name=people.TRUST_NAME)
    return trust


def _as_csv(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def demo_seed(trust):
    """The demo people, with the published demo password for anyone who has none yet."""
    rows = people.demo_people()
    plan = people_import_plan(trust=trust, text=_as_csv(rows))
    if not plan.is_valid:  # the demo data is ours: this is a bug, not bad input
        raise ValueError("Demo people are invalid: " + "; ".join(map(str, plan.errors)))
    result = people_import_apply(trust=trust, plan=plan)
    User.objects.filter(email__in=[row["email"] for row in rows], password__startswith="!").update(
        password=make_password(people.DEMO_PASSWORD)
    )
    return f"{len(rows)} people ({result.summary()})"
