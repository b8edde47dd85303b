"""The lab's day in a real browser, role by role: each role's queue on the dashboard with its
next action, actions shown disabled with their reasons, the operator's elution form with its
ingrowth forecast, and the verify page's verdicts. Screenshots go to test-artifacts/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.disposition import services as disposition
from batches.models import Elution, Generator, GeneratorKind
from batches.records.elutions import elution_forecast
from tests.conftest import PASSWORD
from tests.factories import make_elution
from tests.gmp.flows import record, release_required_results, settle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def tested_pb212(pb212_batch, analyst):
    release_required_results(analyst, pb212_batch)
    pb212_batch.refresh_from_db()
    return pb212_batch


def test_the_operators_queue_lists_todays_elutions_with_register_batch(
        open_as, operator, web, screenshot):
    elution = make_elution(GeneratorKind.AC225_BI213,
                           eluted_at=timezone.now() - timedelta(minutes=4))
    page = open_as(operator)
    queue = page.get_by_test_id("queue-register")
    assert elution.generator.serial in queue.inner_text()
    screenshot(page, "queue-operator")
    queue.get_by_role("link", name="Register batch").click()
    assert page.locator("#id_source").input_value() == f"elution:{elution.pk}"


def test_the_analysts_queue_counts_down_to_a_recount(
        open_as, analyst, ac225_batch, web, screenshot):
    batch = settle(ac225_batch)
    now = timezone.now()
    record(analyst, batch, "rcp", now, 96.0, "%", developed_at=now - timedelta(minutes=10))
    page = open_as(analyst)
    queue = page.get_by_test_id("queue-record")
    assert "recount valid from" in queue.inner_text()
    assert queue.get_by_role("link", name="Record pH").count() == 1
    before = queue.locator("[data-countdown-seconds]").first.inner_text()
    page.wait_for_function(
        "before => document.querySelector('[data-testid=queue-record] "
        "[data-countdown-seconds]').textContent !== before", arg=before, timeout=5_000)
    screenshot(page, "queue-analyst")


def test_the_reviewers_and_the_qps_queues_lead_to_their_signature(
        open_as, reviewer, qp, tested_pb212, web, screenshot):
    lot = tested_pb212.lot_number
    page = open_as(reviewer)
    queue = page.get_by_test_id("queue-review")
    assert lot in queue.inner_text() and "left" in queue.inner_text()
    screenshot(page, "queue-reviewer")
    queue.get_by_role("link", name="Review and sign").click()
    page.wait_for_url(f"{web.url}/batches/{lot}/review/")
    disposition.batch_review(actor=reviewer, password=PASSWORD, batch=tested_pb212)
    page = open_as(qp)
    queue = page.get_by_test_id("queue-release")
    assert lot in queue.inner_text() and "Sterility" in queue.inner_text()
    screenshot(page, "queue-qp")
    queue.get_by_role("link", name="Release conditionally").click()
    page.wait_for_url(f"{web.url}/batches/{lot}/release-conditionally/")


def test_an_early_count_shows_review_disabled_with_its_reason(
        open_as, reviewer, analyst, ac225_batch, web, screenshot):
    batch = settle(ac225_batch)
    now = timezone.now()
    record(analyst, batch, "rcp", now, 96.0, "%", developed_at=now - timedelta(minutes=10))
    page = open_as(reviewer)
    page.goto(f"{web.url}/batches/{batch.lot_number}/")
    button = page.get_by_role("button", name="Review and sign")
    assert button.is_disabled()
    reasons = page.get_by_test_id("action-reasons")
    assert reasons.is_visible()
    assert "the current result is invalid" in reasons.inner_text()
    screenshot(page, "actions-disabled-reviewer")


def test_a_failing_result_shows_correct_disabled_with_the_way_forward(
        open_as, analyst, ac225_batch, web, screenshot):
    batch = settle(ac225_batch)
    record(analyst, batch, "endotoxin", timezone.now(), 9.0, "EU/mL")
    page = open_as(analyst)
    page.goto(f"{web.url}/batches/{batch.lot_number}/")
    row = page.locator('tbody[data-test-code="endotoxin"]')
    assert row.get_by_role("button", name="Correct").is_disabled()
    assert "QA invalidates it" in row.get_by_test_id("correct-blocked").inner_text()
    row.scroll_into_view_if_needed()
    # nothing wider than the screen: times wrap between the local and the UTC part
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(page, "correct-disabled-failing-result")


def test_an_operator_records_an_elution_with_the_forecast_beside_it(
        open_as, operator, web, screenshot):
    now = timezone.now()
    generator = Generator.objects.create(
        kind=GeneratorKind.RA224_PB212, serial="RA-GEN-BROWSER", parent_nuclide="Ra-224",
        loaded_activity_bq=1.5e9, loaded_at=now - timedelta(days=2), supplier="Test",
        expires_on=(now + timedelta(days=10)).date())
    at = timezone.localtime(now).replace(second=0, microsecond=0)
    forecast = elution_forecast(generator=generator, at=at)
    page = open_as(operator)
    page.goto(f"{web.url}/sources/elutions/new/")
    page.get_by_label("Generator").select_option(label=str(generator))
    page.get_by_label("Eluted at").fill(local(at))
    activity = page.get_by_label("Eluate activity at elution")
    activity.fill(f"{2 * forecast.predicted_bq / 1e6:.0f} MBq")
    page.get_by_label("Eluate volume (mL)").fill("1.5")
    page.get_by_test_id("above-forecast").wait_for()
    screenshot(page, "elution-form-above-forecast")
    page.get_by_role("button", name="Record elution").click()
    page.locator('[data-field="activity"] .field-errors').wait_for()
    # On the embedded SQLite the live server's threads share this test's connection: no
    # request (the forecast's htmx update) may still run when the test or the next
    # request uses it.
    page.wait_for_load_state("networkidle")
    assert not Elution.objects.exists()
    activity.fill(f"{0.9 * forecast.predicted_bq / 1e6:.0f} MBq")
    page.locator("#forecast .notice.ok").wait_for()
    page.wait_for_load_state("networkidle")
    screenshot(page, "elution-form-within-forecast")
    page.get_by_role("button", name="Record elution").click()
    page.wait_for_url(f"{web.url}/batches/new/?source=elution:*")
    assert Elution.objects.get().recorded_by == operator


def test_the_verify_page_verdicts_are_unmistakable(
        open_as, browser, web, signing_identity, tested_pb212, reviewer, qp, screenshot,
        tmp_path):
    from batches.models import Certificate

    disposition.batch_review(actor=reviewer, password=PASSWORD, batch=tested_pb212)
    lot = tested_pb212.lot_number
    # the QP signs in the browser: the live server issues the certificate (pyHanko's own
    # event loop cannot run in this thread while Playwright's does)
    page = open_as(qp)
    page.goto(f"{web.url}/batches/{lot}/release-conditionally/")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign: release conditionally").click()
    page.wait_for_url(f"{web.url}/batches/{lot}/")
    page.get_by_test_id("certificates").get_by_text("Issued (current)").wait_for()
    certificate = Certificate.objects.get(batch=tested_pb212)
    genuine = tmp_path / "genuine.pdf"
    genuine.write_bytes(certificate.pdf.read())
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(genuine.read_bytes().replace(lot.encode(), b"X" * len(lot), 1))
    context = browser.new_context(viewport={"width": 1000, "height": 900},
                                  timezone_id="Europe/Amsterdam")
    page = context.new_page()
    for name, path, verdict in (("not-genuine", changed, "bad"), ("genuine", genuine, "ok")):
        page.goto(f"{web.url}/verify/")
        page.get_by_label("Certificate PDF").set_input_files(str(path))
        page.get_by_role("button", name="Verify").click()
        assert page.get_by_test_id("verdict").get_attribute("data-verdict") == verdict
        screenshot(page, f"verify-{name}")
    assert "Sterility" in page.get_by_test_id("pending-tests").inner_text()
    context.close()


def test_the_site_icon_is_served(browser, web):
    context = browser.new_context()
    response = context.new_page().goto(f"{web.url}/favicon.ico")
    assert response.status == 200 and response.headers["content-type"] == "image/x-icon"
    context.close()
