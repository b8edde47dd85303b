"""The dashboard: batches by status, each batch in work with its activity now, and the
alerts that need someone."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from batches.disposition import services as disposition
from batches.evaluation import results as evaluation
from batches.records import results as records
from batches.web import formatting
from qc.engine import site_engine
from tests.conftest import PASSWORD
from tests.factories import application_time, make_ac225_batch, make_pb212_batch
from tests.gmp.flows import record, settle

pytestmark = pytest.mark.django_db


def test_it_shows_each_batch_in_work_with_its_activity_decayed_to_now(
        client_for, analyst, settled_ac225):
    response = client_for(analyst).get(reverse("dashboard"))
    assert response.status_code == 200
    engine = site_engine()
    now = response.context["now"]
    expected = settled_ac225.activity_bq * engine.decay_factor(
        "Ac-225", (now - settled_ac225.calibration_time).total_seconds())
    row = next(r for r in response.context["rows"] if r["batch"] == settled_ac225)
    assert row["activity_now"] == pytest.approx(expected, rel=1e-12)
    html = response.content.decode()
    assert formatting.si_prefixed(expected, "Bq") in html
    assert "left" in html  # time to expiry
    assert f"{settled_ac225.criteria_passed} of {settled_ac225.criteria_total}" in html


def test_the_live_part_is_rerendered_by_polling_and_marks_itself_a_background_poll(
        client_for, analyst, settled_ac225):
    client = client_for(analyst)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'hx-get="/dashboard/live/"' in page and 'hx-trigger="every 5s"' in page
    assert "X-Background-Poll" in page
    live = client.get(reverse("dashboard-live"), HTTP_HX_REQUEST="true")
    assert live.status_code == 200
    assert settled_ac225.lot_number in live.content.decode()
    assert "<html" not in live.content.decode()


def test_a_background_poll_does_not_keep_an_idle_session_alive(
        client_for, analyst, settled_ac225, settings):
    client = client_for(analyst)
    client.get(reverse("dashboard"))
    session = client.session
    session["last_activity"] -= 60
    session.save()
    before = client.session["last_activity"]
    client.get(reverse("dashboard-live"), HTTP_HX_REQUEST="true", HTTP_X_BACKGROUND_POLL="1")
    assert client.session["last_activity"] == before
    client.get(reverse("dashboard"))
    assert client.session["last_activity"] > before


def test_it_counts_batches_by_status(client_for, qp, settled_ac225, pb212_batch):
    counts = dict((value, n) for value, _, n in
                  client_for(qp).get(reverse("dashboard")).context["counts"])
    assert counts["registered"] == 2
    assert counts["released"] == 0


def test_a_result_counted_too_early_shows_a_countdown_to_when_counting_is_valid(
        client_for, analyst, settled_ac225, committed):
    now = timezone.now()
    with committed():
        record(analyst, settled_ac225, "rcp", now, 96.0, "%",
               developed_at=now - timedelta(minutes=10))
    response = client_for(analyst).get(reverse("dashboard"))
    waiting = response.context["waiting"]
    assert len(waiting) == 1 and not waiting[0]["ready"]
    # Fr-221 regrows to 99 % of equilibrium about 32.6 min after development
    assert waiting[0]["seconds_left"] == pytest.approx(22.6 * 60, abs=60)
    html = response.content.decode()
    assert "counting valid from" in html
    assert "data-countdown-to=" in html


def test_failing_results_are_listed_newest_first(client_for, analyst, settled_ac225,
                                                 committed):
    now = timezone.now()
    with committed():
        record(analyst, settled_ac225, "endotoxin", now - timedelta(minutes=2), 9.0, "EU/mL")
        record(analyst, settled_ac225, "ph", now - timedelta(minutes=1), 2.0, "pH")
    response = client_for(analyst).get(reverse("dashboard"))
    assert [r.criterion.test_code for r in response.context["failing"]] == ["ph", "endotoxin"]


def test_a_failing_result_raises_an_alert(client_for, analyst, settled_ac225, committed):
    with committed():
        record(analyst, settled_ac225, "endotoxin", timezone.now(), 9.0, "EU/mL")
    response = client_for(analyst).get(reverse("dashboard"))
    assert [r.criterion.test_code for r in response.context["failing"]] == ["endotoxin"]
    assert "above the upper limit" in response.content.decode()


def test_an_evaluation_that_could_not_run_is_an_alert_qa_sees(client_for, analyst, reviewer,
                                                               settled_ac225, committed,
                                                               monkeypatch):
    def overflow(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(evaluation, "evaluate", overflow)
    with committed():
        result = record(analyst, settled_ac225, "endotoxin", timezone.now(), 1.0, "EU/mL")
    assert result.evaluation.verdict == "error"
    response = client_for(reviewer).get(reverse("dashboard"))
    assert [r.pk for r in response.context["failing"]] == [result.pk]
    alerts = response.content.decode().split('data-testid="failing"')[1].split("</ul>")[0]
    assert settled_ac225.lot_number in alerts
    assert "could not run (OverflowError: date value out of range)" in alerts


def test_a_conditionally_released_batch_lists_its_pending_tests(
        client_for, qp, reviewed_pb212, committed, monkeypatch):
    import batches.certificates.services

    monkeypatch.setattr(batches.certificates.services, "certificate_request_issue",
                        lambda **kw: None)
    with committed():
        disposition.batch_release_conditionally(actor=qp, password=PASSWORD,
                                                batch=reviewed_pb212)
    response = client_for(qp).get(reverse("dashboard"))
    [pending] = response.context["pending_post_release"]
    assert pending.batch == reviewed_pb212
    assert {c.test_code for c in pending.criteria} == {"sterility", "ra224-breakthrough"}
    assert "Sterility" in response.content.decode()


def test_a_failure_after_release_shows_as_post_release_oos(
        client_for, qp, analyst, reviewed_pb212, committed, monkeypatch, clock):
    import batches.certificates.services

    monkeypatch.setattr(batches.certificates.services, "certificate_request_issue",
                        lambda **kw: None)
    with committed():
        disposition.batch_release_conditionally(actor=qp, password=PASSWORD,
                                                batch=reviewed_pb212)
    clock.advance(days=14, minutes=5)  # the sterility incubation (Ph. Eur. 2.6.1)
    with committed():
        record(analyst, reviewed_pb212, "sterility", clock.now(), text="growth")
    response = client_for(qp).get(reverse("dashboard"))
    [alert] = response.context["oos"]
    assert alert.batch.lot_number == reviewed_pb212.lot_number
    assert [r.criterion.test_code for r in alert.failing_results] == ["sterility"]
    assert "recall assessment" in response.content.decode()


def _many_batches(products, operator, analyst, n):
    now = timezone.now()
    for i in range(n):
        batch = settle(make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                                        eos=now - timedelta(minutes=50 + i)))
        records.result_record(actor=analyst, batch=batch,
                               criterion=batch.specification.criteria.get(test_code="ph"),
                               measured_at=now - timedelta(minutes=5), value=7.0, unit="pH")
        make_pb212_batch(product=products["pb212-dotamtate"], operator=operator,
                         eos=now - timedelta(hours=2, minutes=i))


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


# session, user, roles, status counts, longest shelf life, batches in work, batches taking
# results, waiting, failing, conditionally released (+ their criteria and results when there are
# some), recalled (+ their failing results when there are some), and the session's save
DASHBOARD_MAX_QUERIES = 17


def _planned_block() -> int:
    """Statements of config.sql.planned_for_values inside a test's transaction: on
    PostgreSQL a savepoint, SET LOCAL plan_cache_mode and the savepoint's release."""
    return 3 if connection.vendor == "postgresql" else 0


def test_the_dashboard_takes_the_same_few_queries_however_many_batches(
        products, operator, analyst, client_for, django_assert_max_num_queries):
    client = client_for(analyst)
    _many_batches(products, operator, analyst, 2)
    few = _queries(client, reverse("dashboard"))
    _many_batches(products, operator, analyst, 6)
    many = _queries(client, reverse("dashboard"))
    assert few == many
    with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES + _planned_block()):
        client.get(reverse("dashboard"))
    with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES - 1 + _planned_block()):
        client.get(reverse("dashboard-live"))


def test_the_batch_list_takes_the_same_few_queries_however_many_batches(
        products, operator, analyst, client_for, django_assert_max_num_queries):
    client = client_for(analyst)
    _many_batches(products, operator, analyst, 2)
    few = _queries(client, reverse("batch-list"))
    _many_batches(products, operator, analyst, 6)
    many = _queries(client, reverse("batch-list"))
    assert few == many
    # session, user, roles, products (filter), count, page, and the session's update
    with django_assert_max_num_queries(9 + _planned_block()):
        client.get(reverse("batch-list"))


def test_the_batch_list_pages_through_every_batch_newest_first_each_once(
        products, operator, analyst, client_for, monkeypatch):
    from batches.models import Batch

    monkeypatch.setattr("batches.web.batch_views.PAGE_SIZE", 3)
    client = client_for(analyst)
    _many_batches(products, operator, analyst, 4)
    newest_first = list(Batch.objects.order_by("-eos").values_list("lot_number", flat=True))
    seen = []
    for number in (1, 2, 3):
        page = client.get(reverse("batch-list"), {"page": number}).context["page"]
        assert page.paginator.num_pages == 3
        seen += [b.lot_number for b in page]
    assert seen == newest_first
    # a page past the end is the last one; a filter pages within its batches
    assert [b.lot_number for b in client.get(reverse("batch-list"), {"page": 9}
                                             ).context["page"]] == newest_first[6:]
    page = client.get(reverse("batch-list"), {"product": "pb212-dotamtate", "page": 2}
                      ).context["page"]
    assert [b.lot_number for b in page] == list(
        Batch.objects.filter(product__code="pb212-dotamtate").order_by("-eos")
        .values_list("lot_number", flat=True))[3:]
    empty = client.get(reverse("batch-list"), {"q": "NO-SUCH-LOT"}).context["page"]
    assert list(empty) == [] and empty.paginator.count == 0


def test_batches_in_work_leave_out_long_expired_ones_but_keep_one_never_given_an_expiry(
        products, operator, client_for, analyst):
    now = timezone.now()
    # each registered when it was made (an expired batch cannot be registered later)
    with application_time(now - timedelta(days=3, minutes=-2)):
        old = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                               eos=now - timedelta(days=3))
    with application_time(now - timedelta(hours=5, minutes=-2)):
        just_expired = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                                        eos=now - timedelta(hours=5))
    # registered outside committed(): its expiry was never computed
    with application_time(now - timedelta(days=4, minutes=-2)):
        stuck = make_pb212_batch(product=products["pb212-dotamtate"], operator=operator,
                                 eos=now - timedelta(days=4))
    old, just_expired = settle(old), settle(just_expired)
    rows = client_for(analyst).get(reverse("dashboard")).context["rows"]
    shown = {row["batch"].lot_number: row for row in rows}
    assert old.lot_number not in shown
    assert shown[just_expired.lot_number]["expired"]
    assert stuck.lot_number in shown and "computing" in client_for(analyst).get(
        reverse("dashboard")).content.decode()


@pytest.mark.services  # plan_cache_mode is PostgreSQL's
@pytest.mark.parametrize("path", ["/", "/dashboard/live/", "/batches/", "/api/v1/batches/"])
def test_the_lists_that_find_batches_by_status_are_planned_for_their_values(
        path, client_for, qp, ac225_batch):
    # a generic plan would walk years of batches by EOS to find the few in work
    client = client_for(qp)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    planned = next(i for i, sql in enumerate(statements) if "plan_cache_mode" in sql)
    batch_reads = [i for i, sql in enumerate(statements) if 'FROM "batches_batch"' in sql]
    assert batch_reads and min(batch_reads) > planned
