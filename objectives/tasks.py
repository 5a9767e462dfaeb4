"""Celery tasks for objectives: thin wrappers over services."""

from celery import shared_task

from .services import signoff_requests_send, signoff_requests_send_due


# No autoretry: a retry with a countdown is an ETA task (re-run after the broker's visibility
# timeout). A failed send releases its claim and the 15-minute catch-up task sends it.
@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def signoff_requests_send_task(objective_id, version):
    return signoff_requests_send(objective_id=objective_id, version=version)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def signoff_requests_send_due_task():
    return signoff_requests_send_due()
