"""Browser journeys: Playwright driving Debian's headless Chromium against pytest-django's live_server.

Every module here sets
    pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
because the live server runs in another thread and must see committed rows.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio event loop in this thread; Django refuses ORM calls
# from a thread with a running loop unless told that this is safe (it is: one thread, sequential).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000  # a local server answers in milliseconds; fail fast rather than hang
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM} (Playwright downloads are not used). "
            "Install it with: apt-get install chromium chromium-driver  (or `make browser`)."
        )
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def new_page(browser):
    """new_page(viewport=PHONE) opens a page in a fresh context (own cookies); all are closed after the test."""
    contexts = []

    def _new_page(viewport=PHONE):
        context = browser.new_context(viewport=viewport, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A phone-sized page (390x844): the consultant between clinics."""
    return new_page(PHONE)


@pytest.fixture
def desktop_page(new_page):
    """A desktop-sized page (1280x800)."""
    return new_page(DESKTOP)


@pytest.fixture
def site(live_server, settings):
    """The live server's base URL; links in emails (SITE_URL) point at it too."""
    settings.SITE_URL = live_server.url
    return live_server.url
