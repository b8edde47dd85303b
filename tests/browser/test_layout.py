"""The lab's tables at the sizes the lab uses: a 1280 px desktop and a 10-inch tablet held
either way. Nothing that matters may hide behind a horizontal scroll bar."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [(1280, 800), (1280, 900), (800, 1280)]

# tables wider than their frame (the frame then scrolls and hides the right-hand columns)
CUT_OFF = """selector => [...document.querySelectorAll(selector)].map(table => {
    const frame = table.closest('.table-wrap') || table.parentElement;
    return frame.scrollWidth - frame.clientWidth; })"""


@pytest.fixture
def batches_in_work(ac225_batch, pb212_batch, bi213_batch, analyst):
    """One batch of each family, the 225Ac one with a radio-TLC counted too early (the longest
    verdict the results table shows) and a passing pH."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.gmp.flows import record, settle

    for batch in (pb212_batch, bi213_batch):
        settle(batch)
    batch = settle(ac225_batch)
    now = timezone.now()
    record(analyst, batch, "rcp", now, 96.0, "%", developed_at=now - timedelta(minutes=5))
    record(analyst, batch, "ph", now, 7.0, "pH")
    return batch


@pytest.mark.parametrize("width,height", SIZES)
def test_the_lab_tables_fit_the_screen(
        open_as, qp, batches_in_work, pb212_batch, web, width, height):
    page = open_as(qp, width=width, height=height)
    checks = [("/", '[data-testid="active-batches"]'),
              ("/batches/", '[data-testid="batch-list"]'),
              (f"/batches/{batches_in_work.lot_number}/", '[data-testid="results"]'),
              ("/audit/", '[data-testid="audit-events"]'),
              (f"/batches/{batches_in_work.lot_number}/audit/", '[data-testid="audit-events"]'),
              ("/specifications/", '[data-testid="specification-versions"]'),
              (f"/specifications/{batches_in_work.specification_id}/",
               '[data-testid="criteria"]'),
              (f"/sources/generators/{pb212_batch.elution.generator.serial}/",
               '[data-testid="elutions"]')]
    for path, table in checks:
        page.goto(f"{web.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        cut_off = page.evaluate(CUT_OFF, table)
        assert cut_off and not any(cut_off), (path, width, cut_off)
