"""Browser tests: headless Debian Chromium driven by Playwright against pytest-django's live
server. Screenshots go to test-artifacts/ for people to look at."""

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# Module scope, not session: while Playwright's sync API is open an event loop runs in this
# thread, and tests outside this folder that call asyncio.run() (PDF signing) must not see it.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing; `make browser-deps` installs it"
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
    # body are still synchronous and safe, so lift Django's guard while the browser is open.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def web(settings, _one_request_at_a_time, live_server):
    """The live server over plain http: cookies must not require TLS here."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # the server was made after _one_request_at_a_time chose its class
    assert _one_request_at_a_time is None or isinstance(live_server.thread.httpd,
                                                         _one_request_at_a_time)
    return live_server


@pytest.fixture
def open_as(browser, web):
    """open_as(user, viewport=...) -> a Playwright page logged in as `user`."""
    contexts = []

    def open_(user, *, width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height},
                                      accept_downloads=True, timezone_id="Europe/Amsterdam")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{web.url}/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{web.url}/")
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
