"""Objectives' part of the beat schedule (see partnership/schedules.py)."""

from partnership.schedules import EVERY_15_MINUTES

PERIODIC_TASKS = {
    "Send sign-off requests whose task was lost (every 15 minutes)": (
        "objectives.tasks.signoff_requests_send_due_task",
        EVERY_15_MINUTES,
    ),
}
