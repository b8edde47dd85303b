"""QA drafts a stability protocol with its plan of tests in the browser, signs it as author,
a QP approves it by e-signature, and the dashboard then points QA at a failing pull."""

import pytest

from qc.stability.models import ProtocolStatus, StabilityProtocol
from qc.stability.plan import protocol_plan
from tests.batches.stability_helpers import H, pull
from tests.conftest import PASSWORD
from tests.factories import make_ac225_batch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_qa_drafts_a_protocol_a_qp_approves_it_and_the_dashboard_shows_its_alert(
        open_as, reviewer, qp, analyst, operator, products, now, screenshot, web):
    author = open_as(reviewer)
    author.goto(f"{web.url}/products/ac225-psma-it/stability/")
    author.get_by_role("link", name="Draft a stability protocol").click()
    author.get_by_label("Storage temperature (°C)").fill("22")
    author.get_by_label("Container closure system").fill("10 mL type I glass vial")
    author.get_by_label("Worst-case activity concentration at EOS").fill("2.8 MBq/mL")
    for i, (hours, tolerance) in enumerate([(0, 45), (1, 10), (2, 10), (4, 15), (6, 15)]):
        author.get_by_label(f"Time point {i + 1} (h after EOS)", exact=True).fill(str(hours))
        author.get_by_label(f"Tolerance of time point {i + 1} (± min)",
                            exact=True).fill(str(tolerance))
        author.get_by_label(f"Radiochemical purity at time point {i + 1}", exact=True).check()
    for i in (0, 2, 4):
        author.get_by_label(f"Vector integrity at time point {i + 1}", exact=True).check()
    author.get_by_label("How Radiochemical purity is tested").fill("after re-equilibration")
    author.get_by_label("Reason for this protocol version").fill("First study")
    screenshot(author, "stability-protocol-draft-form")
    author.get_by_role("button", name="Create draft").click()
    author.wait_for_url(f"{web.url}/stability/protocols/*/")
    author.get_by_role("link", name="Sign as author").click()
    author.get_by_label("Password").fill(PASSWORD)
    author.get_by_role("button", name="Sign: authored").click()
    author.wait_for_url(f"{web.url}/stability/protocols/*/")

    approver = open_as(qp)
    approver.goto(author.url)
    approver.get_by_role("link", name="Approve by signature").click()
    assert "Meaning of this signature — Approved" in approver.content()
    approver.get_by_label("Password").fill(PASSWORD)
    approver.get_by_role("button", name="Sign: approve").click()
    approver.wait_for_url(author.url)
    assert approver.get_by_test_id("protocol-status").inner_text() == "Approved"
    screenshot(approver, "stability-protocol-approved")

    protocol = StabilityProtocol.objects.get()
    assert protocol.status == ProtocolStatus.APPROVED
    plan = protocol_plan(protocol)
    assert [[c.test_code for c in plan.tests_at(tp)] for tp in plan.time_points] == [
        ["rcp", "vector-integrity"], ["rcp"], ["rcp", "vector-integrity"], ["rcp"],
        ["rcp", "vector-integrity"]]

    lot = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                           eos=now - 8 * H, lot_number="AC-STAB-OOS")
    pull(analyst, protocol, lot, at=4 * H, test_code="rcp", value=85.0)
    author.goto(f"{web.url}/")
    box = author.get_by_test_id("stability-alerts")
    assert "lot AC-STAB-OOS: Stability Radiochemical purity" in box.inner_text()
    box.get_by_role("link", name="[225Ac]Ac-PSMA-I&T injection study").first.click()
    author.wait_for_url(f"{web.url}/products/ac225-psma-it/stability/")
    screenshot(author, "stability-dashboard-alert-to-study")
