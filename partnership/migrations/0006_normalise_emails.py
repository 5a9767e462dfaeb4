"""Stored addresses are normalised (partnership.identity.normalise_email: NFKC, stripped,
case-folded) from now on, and sign-in matches them exactly. Bring older rows into line; an
address whose normalised form another account already holds is left as it is (and logged),
since merging accounts is a decision for a person."""

import logging

from django.db import migrations

logger = logging.getLogger(__name__)


def normalise_existing(apps, schema_editor):
    from partnership.identity import normalise_email

    User = apps.get_model("partnership", "User")
    taken = set(User.objects.values_list("email", flat=True))
    for user in User.objects.only("pk", "email").iterator():
        normal = normalise_email(user.email)
        if normal == user.email:
            continue
        if normal in taken:
            logger.warning("User %s: normalised address is already used by another account; left as it is", user.pk)
            continue
        User.objects.filter(pk=user.pk).update(email=normal)
        taken.add(normal)


class Migration(migrations.Migration):
    dependencies = [("partnership", "0005_trust_comment_threshold_setting_changes")]

    operations = [migrations.RunPython(normalise_existing, migrations.RunPython.noop)]
