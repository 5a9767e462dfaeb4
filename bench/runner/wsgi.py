"""The site's WSGI application plus one bench-only URL, for the page benchmarks' baseline.

    gunicorn bench.runner.wsgi --workers 2 --bind 127.0.0.1:PORT

`/bench/trivial?code=XXX` answers itself, outside Django's URLs and middleware: one indexed
SELECT through the ORM (the trust by its unique code) and a tiny HttpResponse. That is the
floor a page is compared with: the same gunicorn, WSGI, database connection and client, and
almost no work. Every other path goes to `partnership.wsgi.application` unchanged, so the
project's URLs are not touched.
"""

from django.core import signals
from django.http import HttpResponse

from partnership.wsgi import application as site

TRIVIAL_PATH = "/bench/trivial"


def trivial_response(code):
    """One indexed SELECT (Trust.code is unique) and a tiny response."""
    from partnership.models import Trust

    found = Trust.objects.filter(code=code).values_list("pk").first()
    return HttpResponse(b"ok" if found else b"none", content_type="text/plain")


def _code(environ):
    for pair in environ.get("QUERY_STRING", "").split("&"):
        key, _, value = pair.partition("=")
        if key == "code":
            return value
    return ""


def application(environ, start_response):
    if environ.get("PATH_INFO") != TRIVIAL_PATH:
        return site(environ, start_response)
    # As Django's handler does: request_started/finished manage the database connection
    # (CONN_MAX_AGE reuse and health checks), so the baseline pays what a page pays for it.
    signals.request_started.send(sender=None, environ=environ)
    try:
        response = trivial_response(_code(environ))
    finally:
        signals.request_finished.send(sender=None)
    start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
    return [response.content]
