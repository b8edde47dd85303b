"""An analyst records a stability pull in the browser and sees it on the product's chart."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.stability.models import StabilityResult
from tests.batches.stability_helpers import H, approved_protocol, record_study
from tests.batches.test_stability_estimate import TRENDS
from tests.factories import make_ac225_batch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


def test_an_analyst_records_a_pull_and_sees_it_on_the_chart(
        open_as, analyst, reviewer, qp, operator, products, now, screenshot, web):
    product = products["ac225-psma-it"]
    protocol = approved_protocol(product, reviewer=reviewer, qp=qp)
    lots = [make_ac225_batch(product=product, operator=operator, eos=now - (10 + i) * H)
            for i in range(3)]
    record_study(analyst, protocol, lots[:2], TRENDS)
    fresh = make_ac225_batch(product=product, operator=operator, eos=now - 7 * H,
                             lot_number="AC-STAB-NEW")
    measured = fresh.eos + 6 * H + timedelta(minutes=4)

    page = open_as(analyst)
    page.goto(f"{web.url}/products/{product.code}/stability/")
    page.get_by_role("link", name="Record a stability result").click()
    page.get_by_label("Lot").select_option("AC-STAB-NEW")
    page.get_by_label("Time point").select_option(label="T+6 h (± 15 min)")
    page.locator("#id_test_code").select_option("rcp")
    page.get_by_label("Value (numeric tests)").fill("96.1")
    page.locator("#id_unit").fill("%")
    page.get_by_label("Measured at").fill(local(measured))
    page.get_by_label("TLC developed at").fill(local(measured - timedelta(minutes=40)))
    page.get_by_role("button", name="Record result").click()

    page.wait_for_url(f"{web.url}/products/{product.code}/stability/")
    assert "Radiochemical purity of lot AC-STAB-NEW at T+6 h: pass" in page.content()
    chart = page.locator("svg.chart.stability").first
    assert chart.locator("text", has_text="AC-STAB-NEW").count() == 1
    assert "AC-STAB-NEW, T+6 h" in chart.inner_html()
    result = StabilityResult.objects.get(batch=fresh)
    assert (result.value, result.verdict) == (96.1, "pass")
    screenshot(page, "stability-page-after-a-pull")
