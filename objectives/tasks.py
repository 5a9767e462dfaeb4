"""Celery tasks for objectives: thin wrappers over services."""

import smtplib

from celery import shared_task

from .services import signoff_requests_send, signoff_requests_send_due


@shared_task(
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=60 * 30,
    max_retries=8,
)
def signoff_requests_send_task(objective_id, version):
    return signoff_requests_send(objective_id=objective_id, version=version)


@shared_task(acks_late=True)
def signoff_requests_send_due_task():
    return signoff_requests_send_due()
