"""Surveys' part of the beat schedule (see partnership/schedules.py). Europe/London times."""

PERIODIC_TASKS = {
    # Daily, so that a missed run (beat down at midnight) catches up the next day; idempotent.
    "Create this month's rating rounds (daily 00:10)": (
        "surveys.tasks.rounds_create_due_task",
        {"minute": "10", "hour": "0", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"},
    ),
}
