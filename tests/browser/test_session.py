"""The session in the browser: keyboard-only login, and the idle-timeout warning that lets a
user stay logged in (EU GMP Annex 11 cl. 12)."""

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_user_logs_in_with_the_keyboard_alone_and_sees_name_and_role(browser, web, analyst):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{web.url}/login/")
    # the username field has the focus on arrival; Tab moves on in reading order
    assert page.evaluate("document.activeElement.id") == "id_username"
    page.keyboard.type(analyst.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{web.url}/")
    assert page.get_by_test_id("user-name").inner_text() == "Ana Lyst"
    assert page.get_by_test_id("user-role").inner_text() == "QC analyst"
    context.close()


def test_the_idle_warning_offers_to_stay_logged_in_before_the_logout(
        open_as, analyst, settings, web):
    settings.SESSION_IDLE_TIMEOUT_S = 8  # warns 4 s before the logout
    page = open_as(analyst)
    warning = page.locator("#idle-warning")
    assert warning.is_hidden()
    warning.wait_for(state="visible", timeout=8_000)
    assert "logged out in" in warning.inner_text()
    page.get_by_role("button", name="Stay logged in").click()
    warning.wait_for(state="hidden", timeout=3_000)
    # without another click the timeout runs out and the page goes to the login
    page.wait_for_url(f"{web.url}/login/**", timeout=15_000)
    page.goto(f"{web.url}/")
    assert "/login/" in page.url
