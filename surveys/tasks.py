"""Celery tasks for rating rounds: thin wrappers over services."""

import logging

from celery import shared_task

from .services.rounds import rounds_create_due

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def rounds_create_due_task():
    created = rounds_create_due()
    logger.info("Created %d rating round(s) for this month", created)
    return created
