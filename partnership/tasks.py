"""Celery tasks of the core app: thin wrappers that take ids and call services."""

import logging
import smtplib

from celery import shared_task

from .services.invitations import invitation_send, invitations_expire

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=60 * 30,
    max_retries=8,
)
def invitation_send_task(invitation_id):
    invitation_send(invitation_id=invitation_id)


@shared_task(acks_late=True)
def invitations_expire_task():
    count = invitations_expire()
    logger.info("Expired %d stale invitation(s)", count)
    return count
