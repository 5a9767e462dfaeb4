"""Logging helpers referenced from settings.LOGGING."""

import logging


class OneLineRefusals(logging.Filter):
    """A refused request (403, 404 and the other 4xx answers) is an ordinary event, not a crash:
    django.request logs it with the exception's traceback, which reads like one to an operator.
    Keep the one-line message ("Forbidden (Permission denied): /path") and drop the traceback.
    Server errors (5xx) keep theirs."""

    def filter(self, record):
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
