"""Celery tasks of the core app: thin wrappers that take ids and call services."""

import logging

from celery import shared_task

from .services.invitations import invitation_send, invitations_expire, invitations_send_due

logger = logging.getLogger(__name__)


# No autoretry: a retry with a countdown is an ETA task (re-run after the broker's visibility
# timeout). A failed send releases its claim and the 15-minute catch-up task sends it.
@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def invitation_send_task(invitation_id):
    invitation_send(invitation_id=invitation_id)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def invitations_expire_task():
    count = invitations_expire()
    logger.info("Expired %d stale invitation(s)", count)
    return count


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def invitations_send_due_task():
    """Beat catch-up: send the invitations whose own task never ran (see partnership/queueing.py)."""
    count = invitations_send_due()
    if count:
        logger.info("Sent %d invitation(s) that had not been queued", count)
    return count


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def retention_purge_task():
    """Monthly: purge identifiable data older than RETENTION_YEARS (idempotent, all or nothing)."""
    from .services.privacy import retention_purge

    return retention_purge().counts
