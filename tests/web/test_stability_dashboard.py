"""Stability on the dashboard: QA and the QP see a study's result out of specification, a
pull overdue or recorded outside its tolerance, with a link to the study; a lot flagged by a
retained sample's failure lists that stability result among its post-release failures."""

from django.urls import reverse
from django.utils import timezone

from batches.models import BatchStatus
from tests.batches.stability_helpers import MIN, H, approved_protocol, pull
from tests.factories import make_ac225_batch


def study(products, reviewer, qp):
    return approved_protocol(products["ac225-psma-it"], reviewer=reviewer, qp=qp)


def lot_made(products, operator, ago):
    return make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                            eos=timezone.now() - ago)


def stability_box(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.context["stability"], response.content.decode()


def test_a_failing_stability_result_shows_to_qa_with_a_link_to_the_study(
        client_for, products, reviewer, qp, analyst, operator):
    protocol = study(products, reviewer, qp)
    lot = lot_made(products, operator, 8 * H)
    pull(analyst, protocol, lot, at=4 * H, test_code="rcp", value=85.0)

    alerts, html = stability_box(client_for(reviewer))

    [failure] = [a for a in alerts if a.kind == "oos"]
    assert failure.lot_number == lot.lot_number
    assert failure.message.startswith(f"Stability Radiochemical purity of lot "
                                      f"{lot.lot_number} at T+4 h failed")
    box = html.split('data-testid="stability-alerts"')[1].split("</ul>")[0]
    assert 'href="/products/ac225-psma-it/stability/"' in box
    assert f'href="/stability/protocols/{protocol.pk}/"' in box


def test_an_analyst_s_dashboard_has_no_stability_box(client_for, products, reviewer, qp,
                                                      analyst, operator):
    protocol = study(products, reviewer, qp)
    pull(analyst, protocol, lot_made(products, operator, 8 * H), at=4 * H, test_code="rcp",
         value=85.0)

    alerts, html = stability_box(client_for(analyst))

    assert alerts is None and "Stability studies" not in html


def test_a_pull_late_beyond_its_tolerance_shows_as_overdue_while_it_can_still_be_pulled(
        client_for, products, reviewer, qp, analyst, operator):
    protocol = study(products, reviewer, qp)
    lot = lot_made(products, operator, H + 25 * MIN)  # T+1 h (± 10 min) fell due 25 min ago
    pull(analyst, protocol, lot, at=0 * H, test_code="rcp", value=98.5)

    alerts, _ = stability_box(client_for(qp))

    assert [(a.kind, a.lot_number) for a in alerts] == [("overdue", lot.lot_number)]
    assert alerts[0].message.startswith("T+1 h pull overdue by 25 min (tolerance ± 10 min); "
                                        "pull it now: it is recorded as a deviation up to "
                                        "30 min late")


def test_a_pull_further_out_than_three_tolerances_shows_as_missed(
        client_for, products, reviewer, qp, analyst, operator):
    protocol = study(products, reviewer, qp)
    lot = lot_made(products, operator, 2 * H + 5 * MIN)
    pull(analyst, protocol, lot, at=0 * H, test_code="rcp", value=98.5)

    alerts, _ = stability_box(client_for(qp))

    assert [a.kind for a in alerts] == ["missed"]
    assert "T+1 h pull overdue by 1 h 05 min" in alerts[0].message
    assert "missed: further out than 3 × its tolerance" in alerts[0].message


def test_a_pull_recorded_outside_its_tolerance_shows_as_a_deviation(
        client_for, products, reviewer, qp, analyst, operator):
    protocol = study(products, reviewer, qp)
    lot = lot_made(products, operator, 4 * H + 30 * MIN)
    for code, value in (("rcp", 97.0), ("ph", 7.0)):  # one pull, two tests: one alert
        pull(analyst, protocol, lot, at=4 * H, test_code=code, value=value, late=20 * MIN)

    alerts, _ = stability_box(client_for(reviewer))

    [deviation] = [a for a in alerts if a.kind == "deviation"]
    assert deviation.message == ("T+4 h pull 20 min late (tolerance ± 15 min): recorded as a "
                                 "deviation; assess it.")


def test_a_study_on_plan_raises_nothing(client_for, products, reviewer, qp, analyst,
                                        operator):
    protocol = study(products, reviewer, qp)
    lot = lot_made(products, operator, 50 * MIN)
    pull(analyst, protocol, lot, at=0 * H, test_code="ph", value=7.0)

    alerts, html = stability_box(client_for(reviewer))

    assert alerts == []
    assert "No stability result out of specification" in html


def test_a_lot_flagged_by_a_retained_sample_lists_the_failing_stability_result(
        client_for, products, reviewer, qp, analyst, operator):
    protocol = study(products, reviewer, qp)
    lot = lot_made(products, operator, 8 * H)
    # released through the disposition services in their own tests; here the status matters
    type(lot).objects.filter(pk=lot.pk).update(status=BatchStatus.RELEASED)
    lot.refresh_from_db()
    result = pull(analyst, protocol, lot, at=6 * H, test_code="rcp", value=85.0)

    response = client_for(qp).get(reverse("dashboard"))

    [alert] = response.context["oos"]
    assert alert.batch.pk == lot.pk
    assert alert.failing_stability == (result,)
    oos = response.content.decode().split('data-testid="oos"')[1].split("</ul>")[0]
    assert (f"Stability Radiochemical purity at T+6 h 00 min (retained sample): Stability "
            f"Radiochemical purity of lot {lot.lot_number} at T+6 h failed") in oos
    assert 'href="/products/ac225-psma-it/stability/"' in oos


def test_the_stability_alerts_take_the_same_few_queries_however_many_lots(
        products, reviewer, qp, analyst, operator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from batches.stability.alerts import stability_alerts

    protocol = study(products, reviewer, qp)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            stability_alerts(now=timezone.now())
        return len(captured.captured_queries)

    lot = lot_made(products, operator, 8 * H)
    pull(analyst, protocol, lot, at=4 * H, test_code="rcp", value=85.0, late=20 * MIN)
    few = queries()
    for _ in range(4):
        lot = lot_made(products, operator, 8 * H)
        pull(analyst, protocol, lot, at=4 * H, test_code="rcp", value=85.0, late=20 * MIN)

    assert queries() == few == 5
