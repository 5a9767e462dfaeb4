"""Surveys' part of the beat schedule (see partnership/schedules.py). Europe/London times."""

from partnership.schedules import EVERY_15_MINUTES

PERIODIC_TASKS = {
    # Daily, so that a missed run (beat down at midnight) catches up the next day; idempotent.
    "Create this month's rating rounds (daily 00:10)": (
        "surveys.tasks.rounds_create_due_task",
        {"minute": "10", "hour": "0", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"},
    ),
    # The ticks only pick up what is due (rows in the database): a missed beat catches up, a
    # doubled one sends nothing. Sending hours are decided by the services, in London time.
    "Reminders: plan and send what is due (every 15 minutes)": ("surveys.tasks.reminders_tick_task", EVERY_15_MINUTES),
    "Board reports: build and deliver what is due (every 15 minutes)": (
        "surveys.tasks.reports_tick_task",
        EVERY_15_MINUTES,
    ),
}

# Retention of comment text (issue #23): daily, so a missed run catches up; idempotent.
PERIODIC_TASKS["Erase comments past each trust's retention (daily 02:40)"] = (
    "surveys.tasks.comments_purge_due",
    {"minute": "40", "hour": "2", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"},
)
