"""The lab's day in a real browser: an analyst records results (one counted too early),
the reviewer signs, the QP releases, the certificate downloads; and the refusals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import Batch, BatchStatus, Certificate, Result
from batches.records import results as records
from qc.models import Signature
from tests.conftest import PASSWORD
from tests.factories import passing_result
from tests.gmp.flows import dose_calibrator_mbq, record, settle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def batch_in_qc(ac225_batch, analyst):
    """A 225Ac batch with every release-required result in except the radio-TLC, which the
    analyst records in the browser."""
    batch = settle(ac225_batch)
    eos = batch.eos
    record(analyst, batch, "appearance", eos + timedelta(minutes=5), text="conforms")
    record(analyst, batch, "identity", eos + timedelta(minutes=6), text="present")
    record(analyst, batch, "filter-integrity", eos + timedelta(minutes=10), text="pass")
    at = eos + timedelta(minutes=12)
    record(analyst, batch, "activity", at, dose_calibrator_mbq(batch, at, 0.99), "MBq")
    record(analyst, batch, "activity-conc", at,
           dose_calibrator_mbq(batch, at, 0.99) / batch.volume_ml, "MBq/mL")
    record(analyst, batch, "ph", eos + timedelta(minutes=9), 7.0, "pH")
    record(analyst, batch, "vector-integrity", eos + timedelta(minutes=20), 98.1, "%")
    record(analyst, batch, "endotoxin", eos + timedelta(minutes=30), 0.8, "EU/mL")
    done = set(batch.results.values_list("criterion__test_code", flat=True)) | {"rcp"}
    for criterion in batch.specification.criteria.filter(release_before_result=False).exclude(
            test_code__in=done).exclude(quantity="impurity_ratio"):
        # the rest of the specification (vector function, radionuclidic purity, ...) passes
        records.result_record(actor=analyst, batch=batch, criterion=criterion, measured_at=at,
                              **passing_result(batch, criterion, at=at))
    batch.refresh_from_db()
    return batch


def record_rcp(page, *, developed_minutes_ago: float, value: str = "96.4"):
    now = timezone.now().replace(microsecond=0)
    page.get_by_label("Value").fill(value)
    page.get_by_label("Measured at").fill(local(now))
    page.get_by_label("TLC developed at").fill(local(now - timedelta(
        minutes=developed_minutes_ago)))
    page.get_by_role("button", name="Record result").click()


def test_results_review_release_and_certificate_download(
        open_as, analyst, reviewer, qp, batch_in_qc, signing_identity, screenshot, web):
    lot = batch_in_qc.lot_number

    # the analyst counts the radio-TLC 10 min after development: too early for Fr-221
    page = open_as(analyst)
    page.goto(f"{web.url}/batches/{lot}/")
    page.get_by_role("link", name="Record Radiochemical purity").click()
    record_rcp(page, developed_minutes_ago=10)
    warning = page.locator(".message.warning")
    assert "INVALID" in warning.inner_text()
    assert "Counting is valid from" in warning.inner_text()
    valid_from = page.get_by_test_id("valid-from")
    assert "in " in valid_from.inner_text()  # the countdown to the recount
    # ... and recounts a strip developed 40 min ago, once Fr-221 is back in equilibrium
    page.get_by_role("link", name="Recount Radiochemical purity").click()
    record_rcp(page, developed_minutes_ago=40)
    assert "passed" in page.locator(".message.success").inner_text()
    verdicts = Result.objects.filter(batch=batch_in_qc, criterion__test_code="rcp").values_list(
        "evaluation__verdict", flat=True).order_by("id")
    assert list(verdicts) == ["invalid", "pass"]

    # the reviewer mistypes the password once, then signs
    page = open_as(reviewer)
    page.goto(f"{web.url}/batches/{lot}/")
    page.get_by_role("link", name="Review and sign").click()
    page.get_by_label("Your password").fill("not-the-password")
    page.get_by_role("button", name="Sign: reviewed").click()
    assert "Wrong password" in page.locator(".field-errors").inner_text()
    assert not Signature.objects.filter(meaning="reviewed").exists()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign: reviewed").click()
    page.wait_for_url(f"{web.url}/batches/{lot}/")
    assert Batch.objects.get(pk=batch_in_qc.pk).status == BatchStatus.REVIEWED

    # the QP releases before the sterility result; the certificate lists it as pending
    page = open_as(qp)
    page.goto(f"{web.url}/batches/{lot}/")
    page.get_by_role("link", name="Release conditionally").click()
    assert "Sterility" in page.get_by_test_id("pending-tests").inner_text()
    assert "Meaning of this signature" in page.get_by_test_id("meaning").inner_text()
    page.get_by_label("Your password").fill(PASSWORD)
    screenshot(page, "release-dialog")
    page.get_by_role("button", name="Sign: release conditionally").click()
    page.wait_for_url(f"{web.url}/batches/{lot}/")
    certificates = page.get_by_test_id("certificates")
    certificates.get_by_text("Issued (current)").wait_for()
    with page.expect_download() as download_info:
        certificates.get_by_role("link", name="PDF v1").click()
    pdf = download_info.value
    with open(pdf.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert Certificate.objects.get(batch=batch_in_qc).status == "issued"
    screenshot(page, "batch-page")


def test_an_analyst_sees_no_release_button_and_the_release_url_is_forbidden(
        open_as, analyst, batch_in_qc, web):
    page = open_as(analyst)
    page.goto(f"{web.url}/batches/{batch_in_qc.lot_number}/")
    assert page.get_by_role("link", name="Release", exact=True).count() == 0
    assert page.get_by_role("link", name="Release conditionally").count() == 0
    response = page.goto(f"{web.url}/batches/{batch_in_qc.lot_number}/release/")
    assert response.status == 403
    assert "Only a Qualified Person may release a batch" in page.get_by_test_id(
        "forbidden").inner_text()


def test_a_form_error_keeps_what_was_typed(open_as, operator, products, web):
    page = open_as(operator)
    page.goto(f"{web.url}/batches/new/")
    page.get_by_label("Lot number").fill("AC-BROWSER-1")
    page.get_by_label("Product").select_option(label="[225Ac]Ac-PSMA-I&T injection")
    page.get_by_label("Activity at calibration time").fill("8 furlongs")
    page.get_by_label("Volume (mL)").fill("4")
    page.get_by_role("button", name="Register batch").click()
    assert page.locator('[data-field="activity"] .field-errors').is_visible()
    assert page.get_by_label("Lot number").input_value() == "AC-BROWSER-1"
    assert page.get_by_label("Activity at calibration time").input_value() == "8 furlongs"
    assert page.get_by_label("Volume (mL)").input_value() == "4"
    assert not Batch.objects.filter(lot_number="AC-BROWSER-1").exists()


def test_the_dashboard_updates_the_activity_by_itself_and_counts_down_to_a_recount(
        open_as, qp, analyst, batch_in_qc, web, screenshot):
    now = timezone.now()
    record(analyst, batch_in_qc, "rcp", now, 96.0, "%", developed_at=now - timedelta(minutes=5))
    page = open_as(qp)
    countdown = page.get_by_test_id("waiting").locator("[data-countdown-to]")
    before = countdown.inner_text()
    page.wait_for_function(
        "before => document.querySelector('[data-testid=waiting] [data-countdown-to]')"
        ".textContent !== before", arg=before, timeout=5_000)
    live = page.locator("#dashboard-live")
    first = live.get_attribute("data-rendered-at")
    assert batch_in_qc.lot_number in page.get_by_test_id("active-batches").inner_text()
    # the poll re-renders the live part on the server every few seconds
    page.wait_for_function(
        "first => document.querySelector('#dashboard-live').dataset.renderedAt !== first",
        arg=first, timeout=12_000)
    assert "MBq" in page.get_by_test_id("activity-now").first.inner_text()
    screenshot(page, "dashboard")


def test_the_batch_page_works_on_a_ten_inch_tablet_and_prints(
        open_as, reviewer, batch_in_qc, web, screenshot):
    page = open_as(reviewer, width=800, height=1280)
    page.goto(f"{web.url}/batches/{batch_in_qc.lot_number}/")
    # nothing wider than the screen but the tables, which scroll inside their frame
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 800
    screenshot(page, "batch-page-tablet")
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    assert page.locator(".print-head").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf[:5] == b"%PDF-"


def test_an_operator_registers_a_batch_with_javascript_switched_off(
        browser, web, operator, products):
    from tests.factories import make_source_lot

    lot = make_source_lot()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{web.url}/login/")
    page.get_by_label("Username").fill(operator.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{web.url}/batches/new/")
    eos = timezone.now().replace(microsecond=0) - timedelta(minutes=15)
    page.get_by_label("Lot number").fill("AC-NOJS-1")
    page.get_by_label("Product").select_option(label="[225Ac]Ac-PSMA-I&T injection")
    # the source's activity now is in the option itself, for a browser without scripts
    option = page.locator(f'#id_source option[value="lot:{lot.pk}"]')
    assert "now" in option.inner_text() and "GBq" in option.inner_text()
    page.get_by_label("Source").select_option(value=f"lot:{lot.pk}")
    page.get_by_label("End of synthesis (EOS)").fill(local(eos))
    page.locator("#id_calibration_time").fill(local(eos + timedelta(hours=1)))
    page.get_by_label("Activity at calibration time").fill("8 MBq")
    page.get_by_label("Volume (mL)").fill("4")
    # the daughters' state at EOS: a separation after EOS is refused next to its field
    page.get_by_label("Daughters last separated").fill(local(eos + timedelta(minutes=1)))
    page.get_by_role("button", name="Register batch").click()
    errors = page.locator('[data-field="daughters_separated_at"] .field-errors')
    assert "after the end of synthesis" in errors.inner_text()
    page.get_by_label("Daughters last separated").fill(local(eos - timedelta(minutes=10)))
    page.get_by_role("button", name="Register batch").click()
    page.wait_for_url(f"{web.url}/batches/AC-NOJS-1/")
    batch = Batch.objects.get(lot_number="AC-NOJS-1")
    assert batch.source_lot == lot
    assert batch.daughters_separated_at == eos - timedelta(minutes=10)
    assert "last separated" in page.get_by_test_id("daughters").inner_text()
    context.close()
