"""The product stability page and the stability result form."""

from django.utils import timezone

from batches.stability.models import StabilityResult
from batches.stability.services import stability_result_record
from tests.batches.stability_helpers import MIN, H, approved_protocol, record_study
from tests.batches.test_stability_estimate import TRENDS
from tests.factories import make_ac225_batch


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def study(products, reviewer, qp, operator, now):
    product = products["ac225-psma-it"]
    protocol = approved_protocol(product, reviewer=reviewer, qp=qp)
    lots = [make_ac225_batch(product=product, operator=operator, eos=now - (10 + i) * H)
            for i in range(3)]
    return product, protocol, lots


def test_the_page_charts_each_criterion_with_its_model_and_the_supported_shelf_life(
        client_for, analyst, products, reviewer, qp, operator, now):
    product, protocol, lots = study(products, reviewer, qp, operator, now)
    record_study(analyst, protocol, lots, TRENDS)

    page = client_for(reviewer).get("/products/ac225-psma-it/stability/")

    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="stability-criterion"') == 4
    assert html.count('<svg class="chart stability"') == 3  # appearance is a text result
    assert "separate" in html and "pooled" in html
    assert "radiolysis dose" in html and "one-sided 95 % bound" in html
    assert "Supported by stability data</dt><dd>6 h" in html


def test_without_a_protocol_the_page_says_so(client_for, reviewer, products):
    page = client_for(reviewer).get("/products/bi213-dotatoc/stability/")

    assert "No approved stability protocol for this product." in page.content.decode()


def test_an_analyst_records_a_pull_through_the_form(client_for, analyst, products, reviewer,
                                                     qp, operator, now):
    product, protocol, lots = study(products, reviewer, qp, operator, now)
    measured = lots[0].eos + 4 * H

    response = client_for(analyst).post("/products/ac225-psma-it/stability/results/new/", {
        "lot": lots[0].lot_number, "time_point": str(4 * 3600.0), "test_code": "rcp",
        "value": "96.5", "unit": "%", "measured_at": local_input(measured),
        "developed_at": local_input(measured - 40 * MIN)})

    assert response.status_code == 302, response.content.decode()[:2000]
    result = StabilityResult.objects.get()
    assert (result.batch, result.value, result.verdict) == (lots[0], 96.5, "pass")


def test_a_pull_far_outside_its_tolerance_is_refused_on_the_form(
        client_for, analyst, products, reviewer, qp, operator, now):
    product, protocol, lots = study(products, reviewer, qp, operator, now)
    measured = lots[0].eos + 5 * H

    response = client_for(analyst).post("/products/ac225-psma-it/stability/results/new/", {
        "lot": lots[0].lot_number, "time_point": str(4 * 3600.0), "test_code": "rcp",
        "value": "96.5", "unit": "%", "measured_at": local_input(measured),
        "developed_at": local_input(measured - 40 * MIN)})

    assert response.status_code == 200
    assert "late for the T+4 h time point" in response.content.decode()
    assert not StabilityResult.objects.exists()


def test_the_form_is_an_analyst_s(client_for, reviewer, products, qp, operator, now):
    study(products, reviewer, qp, operator, now)

    response = client_for(reviewer).get("/products/ac225-psma-it/stability/results/new/")

    assert response.status_code == 403


def test_anonymous_visitors_go_to_the_login_page(client, products):
    response = client.get("/products/ac225-psma-it/stability/")

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_outsider_is_refused(client_for, outsider, products):
    assert client_for(outsider).get("/products/ac225-psma-it/stability/").status_code == 403


def test_the_page_gives_each_time_point_s_radiolysis_dose_at_the_worst_case_concentration(
        client_for, reviewer, products, qp, operator, now):
    from qc.engine import site_engine
    from qc.physics.radiolysis import product_dose_gy

    study(products, reviewer, qp, operator, now)
    at_6h = product_dose_gy(site_engine(), "Ac-225", 2.8e6, [6 * 3600.0])["total"][0]

    html = client_for(reviewer).get("/products/ac225-psma-it/stability/").content.decode()

    table = html.split('data-testid="stability-time-points"')[1].split("</table>")[0]
    assert "T+6 h" in table and "± 15 min" in table
    assert f"{at_6h:,.1f}" in table


def test_a_qp_approving_a_longer_shelf_life_than_supported_is_refused_on_the_form(
        client_for, analyst, products, reviewer, qp, operator, now):
    from tests.conftest import PASSWORD

    product, protocol, lots = study(products, reviewer, qp, operator, now)
    record_study(analyst, protocol, lots, TRENDS)
    client = client_for(qp)

    refused = client.post("/products/ac225-psma-it/shelf-life/",
                          {"hours": "24", "password": PASSWORD})
    approved = client.post("/products/ac225-psma-it/shelf-life/",
                           {"hours": "4", "password": PASSWORD, "comment": "study v1"})

    assert refused.status_code == 200
    assert "A shelf life of 24 h for ac225-psma-it exceeds the 6 h its stability data " \
           "support" in refused.content.decode()
    assert approved.status_code == 302
    product.refresh_from_db()
    assert product.shelf_life.total_seconds() == 4 * 3600


def test_an_analyst_does_not_open_the_shelf_life_approval(client_for, analyst, products):
    assert client_for(analyst).get("/products/ac225-psma-it/shelf-life/").status_code == 403


def test_a_failing_pull_shows_as_a_stability_alert_on_the_page(
        client_for, analyst, reviewer, products, qp, operator, now):
    product, protocol, lots = study(products, reviewer, qp, operator, now)
    measured = lots[0].eos + 4 * H

    stability_result_record(actor=analyst, batch=lots[0], protocol=protocol,
                            time_point_after_eos=4 * H, test_code="rcp", measured_at=measured,
                            value=85.0, unit="%",
                            method_times={"developed_at": measured - 40 * MIN})

    html = client_for(reviewer).get("/products/ac225-psma-it/stability/").content.decode()

    alerts = html.split('data-testid="stability-alerts"')[1].split("</section>")[0]
    assert f"Stability Radiochemical purity of lot {lots[0].lot_number} at T+4 h failed" in alerts


def test_the_result_form_lists_the_tests_planned_at_each_time_point(
        client_for, analyst, products, reviewer, qp):
    approved_protocol(products["ac225-psma-it"], reviewer=reviewer, qp=qp,
                      criteria=("rcp", "ph"), schedule={
                          "rcp": [0 * H, H, 2 * H, 4 * H, 6 * H], "ph": [0 * H, 6 * H]})

    html = client_for(analyst).get("/products/ac225-psma-it/stability/results/new/"
                                   ).content.decode()

    plan = html.split('data-testid="stability-plan"')[1].split("</section>")[0]
    assert "<li>T+1 h: Radiochemical purity</li>" in plan
    assert "<li>T+6 h: Radiochemical purity, pH</li>" in plan


def test_a_result_the_plan_does_not_foresee_is_refused_on_the_form(
        client_for, analyst, products, reviewer, qp, operator, now):
    protocol = approved_protocol(products["ac225-psma-it"], reviewer=reviewer, qp=qp,
                                 criteria=("rcp", "ph"), schedule={
                                     "rcp": [0 * H, H, 2 * H, 4 * H, 6 * H],
                                     "ph": [0 * H, 6 * H]})
    lot = make_ac225_batch(product=protocol.product, operator=operator, eos=now - 8 * H)

    response = client_for(analyst).post("/products/ac225-psma-it/stability/results/new/", {
        "lot": lot.lot_number, "time_point": str(4 * 3600.0), "test_code": "ph",
        "value": "7.0", "unit": "pH", "measured_at": local_input(lot.eos + 4 * H)})

    assert response.status_code == 200
    assert ("does not test ph at T+4 h: it plans rcp there, and ph at T+0 h, T+6 h"
            in response.context["form"].errors["test_code"][0])
    assert not StabilityResult.objects.exists()


def test_a_shelf_life_beyond_ten_years_is_refused_not_a_crash(client_for, products, qp):
    from tests.conftest import PASSWORD

    response = client_for(qp).post("/products/ac225-psma-it/shelf-life/",
                                   {"hours": "1e308", "password": PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].errors["hours"] == ["At most 87660 h (ten years)."]
