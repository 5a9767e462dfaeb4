"""Queue a task after the transaction commits, without letting a broker outage break the request.

The rows that say an email is due (an Invitation or SignOffRequest with `sent_at` NULL) are
written in the request's transaction: they are the outbox. The task queued after commit is
only the fast path. When the broker (Redis) cannot be reached, the publish fails quickly, a
warning is logged and the request carries on; a beat catch-up task finds the unsent rows and
sends them once the broker is back (the services claim each row, so never twice).

While Redis is down, Celery's default publish retry policy (3 retries, 0/0.2/0.4 s apart)
holds a request about 0.6 s per message; `retry=False` is worse: kombu then falls back to its
own connection defaults (2 s between attempts until broker_connection_timeout), about 6 s on
a fresh connection. The short policy below fails a refused connection in a few milliseconds
and still reconnects once, so a connection left stale by a Redis restart is revived rather
than dropped.
"""

import logging

import redis.exceptions
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

#: Try once more after reconnecting, with no wait: enough for a stale connection, not for an outage.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}

#: What publishing raises when the broker is unreachable (kombu wraps redis-py's errors in
#: OperationalError; the others are there should an error reach us unwrapped).
BROKER_ERRORS = (OperationalError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def enqueue(task, *args, **kwargs):
    """Publish `task(*args, **kwargs)` now; True if queued, False if the broker was unreachable."""
    try:
        task.apply_async(args, kwargs, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except BROKER_ERRORS as exc:
        logger.warning("Could not queue %s%r (%r); its catch-up task will do it later", task.name, args, exc)
        return False
    return True


def enqueue_on_commit(task, *args, **kwargs):
    """Publish `task(*args, **kwargs)` once the current transaction commits (at once outside one).

    Use this instead of `task.delay_on_commit(...)` for work whose rows a catch-up task also
    picks up: a broker outage then costs a delay, never a failed request.
    """
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs))
