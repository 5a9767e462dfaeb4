"""This app's part of the beat schedule, as code. `manage.py setup_periodic_tasks` collects
`PERIODIC_TASKS` from every installed app's `schedules` module and writes them to the
database scheduler (django-celery-beat), where they can be seen and adjusted in the admin.

Each entry: name -> (task, crontab fields). Times are Europe/London.
"""

EVERY_15_MINUTES = {"minute": "*/15", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}

PERIODIC_TASKS = {
    "Expire stale invitations (hourly)": (
        "partnership.tasks.invitations_expire_task",
        {"minute": "5", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"},
    ),
    "Send invitations whose task was lost (every 15 minutes)": (
        "partnership.tasks.invitations_send_due_task",
        EVERY_15_MINUTES,
    ),
}

# Retention (issue #8): purge identifiable data older than RETENTION_YEARS, monthly.
PERIODIC_TASKS["Purge data past retention (monthly, 1st at 03:30)"] = (
    "partnership.tasks.retention_purge_task",
    {"minute": "30", "hour": "3", "day_of_week": "*", "day_of_month": "1", "month_of_year": "*"},
)
