"""Every page works under the site's Content-Security-Policy: Chromium reports no violation,
htmx still updates the page, and the API docs and admin pages load."""

import re

import pytest
from playwright.sync_api import expect

from tests.gmp.flows import settle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_violations(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text)
            if "Content Security Policy" in message.text else None)
    return seen


def test_the_lab_pages_raise_no_policy_violation(open_as, qp, admin_user, ac225_batch, web):
    from batches.models import Instrument

    batch = settle(ac225_batch)
    instrument = Instrument.objects.first()
    pages = {
        qp: ["/", "/batches/", f"/batches/{batch.lot_number}/", "/specifications/",
             "/sources/", "/instruments/", "/audit/", "/verify/", "/api/v1/docs/"],
        admin_user: ["/admin/", "/admin/batches/batch/", "/admin/auth/user/"]
        + ([f"/instruments/{instrument.serial}/"] if instrument is not None else []),
    }
    for user, paths in pages.items():
        page = open_as(user)
        violations = watch_violations(page)
        for path in paths:
            response = page.goto(f"{web.url}{path}")
            assert response.status == 200, path
            assert "default-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_load_state("networkidle")
        assert violations == [], violations
    # the Swagger UI (an inline script under the nonce) drew the operations
    page = open_as(qp)
    violations = watch_violations(page)
    page.goto(f"{web.url}/api/v1/docs/")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert violations == [], violations


def test_htmx_still_swaps_in_content_under_the_policy(open_as, operator, ac225_batch, web):
    page = open_as(operator)
    violations = watch_violations(page)
    with page.expect_response(lambda r: "/batches/new/source-info/" in r.url
                              and r.request.headers.get("hx-request") == "true"):
        page.goto(f"{web.url}/batches/new/")
    before = page.locator("#source-info").inner_html()
    with page.expect_response(lambda r: "/batches/new/source-info/" in r.url):
        page.select_option("#id_source", f"lot:{ac225_batch.source_lot_id}")
    expect(page.locator("#source-info")).not_to_have_text(re.compile(r"^\s*$"))
    assert page.locator("#source-info").inner_html() != before
    page.goto(f"{web.url}/batches/new/")  # the register page itself, once more, for the log
    assert violations == []
