"""The beat schedule as code. `manage.py setup_periodic_tasks` writes it to the database
scheduler (django-celery-beat), where it can be seen and adjusted in the admin.

Each entry: name -> (task, crontab fields). Times are Europe/London.
"""

PERIODIC_TASKS = {
    "Expire stale invitations (hourly)": (
        "partnership.tasks.invitations_expire_task",
        {"minute": "5", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"},
    ),
}
