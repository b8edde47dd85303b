"""POST /api/v1/results/bulk/: up to 500 results, all or nothing."""

import json
from datetime import timedelta

import pytest

from batches.models import Batch, BatchStatus, Evaluation, IdempotencyRecord, Result
from qc.models import AuditEvent
from tests.api.conftest import problem

pytestmark = pytest.mark.django_db
URL = "/api/v1/results/bulk/"


def item(batch, now, **overrides):
    return {"lot_number": batch.lot_number, "test_code": "ph", "value": 7.0, "unit": "pH",
            "measured_at": (now - timedelta(minutes=3)).isoformat(), **overrides}


def api_results():
    return Result.objects.filter(channel="api")


def test_it_records_every_result_and_reports_each_by_index(api, ac225_batch, pb212_batch, now,
                                                          committed):
    items = [item(ac225_batch, now), item(pb212_batch, now, test_code="rcp", value=98.1,
                                          unit="%", counting_window="product_line"),
             item(ac225_batch, now, test_code="endotoxin", value=1.5, unit="EU/mL")]
    with committed():
        response = api.post(URL, {"results": items})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["count"] == 3
    assert [(r["index"], r["lot_number"], r["test_code"]) for r in body["results"]] == [
        (0, ac225_batch.lot_number, "ph"), (1, pb212_batch.lot_number, "rcp"),
        (2, ac225_batch.lot_number, "endotoxin")]
    ids = [r["id"] for r in body["results"]]
    assert api_results().filter(id__in=ids).count() == 3
    assert AuditEvent.objects.filter(action="result.record",
                                     object_id__in=[str(i) for i in ids]).count() == 3
    assert Evaluation.objects.filter(result_id__in=ids).count() == 3


def test_edge_errors_are_reported_per_item_and_nothing_is_stored(api, ac225_batch, now):
    items = [item(ac225_batch, now), item(ac225_batch, now, measured_at="2026-11-22T10:00:00"),
             item(ac225_batch, now, lot_number="NOPE"), "not an object",
             item(ac225_batch, now, value="__INF__")]
    body = json.dumps({"results": items}).replace('"__INF__"', "Infinity")
    response = api.post(URL, body, fmt="raw")
    assert response.status_code == 422
    errors = problem(response)["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [
        (1, "measured_at"), (2, "lot_number"), (3, "non_field_errors"), (4, "value")]
    assert "item 1, measured_at" in problem(response)["detail"]
    assert not api_results().exists()


def test_rule_errors_found_by_the_service_roll_back_the_whole_request(api, ac225_batch, now):
    events = AuditEvent.objects.count()
    items = [item(ac225_batch, now, value=15), item(ac225_batch, now),
             item(ac225_batch, now, test_code="activity", value=5, unit="mL")]
    response = api.post(URL, {"results": items})
    assert response.status_code == 422
    errors = problem(response)["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(0, "value"), (2, "unit")]
    assert "Nothing was stored" in problem(response)["detail"]
    assert not api_results().exists()
    assert AuditEvent.objects.count() == events
    assert Batch.objects.get(pk=ac225_batch.pk).status == BatchStatus.REGISTERED


def test_a_closed_batch_in_the_request_refuses_all_of_it_with_409(api, ac225_batch,
                                                                 pb212_batch, now):
    Batch.objects.filter(pk=pb212_batch.pk).update(status=BatchStatus.RELEASED)
    items = [item(ac225_batch, now), item(pb212_batch, now)]
    response = api.post(URL, {"results": items})
    assert response.status_code == 409
    body = problem(response)
    assert body["code"] == "batch_closed"
    assert body["errors"][0]["index"] == 1 and body["errors"][0]["code"] == "batch_closed"
    assert "superseding result" in body["errors"][0]["message"]
    assert not api_results().exists()


def test_an_instrument_out_of_service_is_refused_with_409(api, ac225_batch, now, tlc):
    tlc.in_service = False
    tlc.save()
    response = api.post(URL, {"results": [item(ac225_batch, now)]})
    assert response.status_code == 409
    assert problem(response)["code"] == "instrument_unusable"
    assert not api_results().exists()


@pytest.mark.parametrize("body", [{"results": []}, {"results": "x"}, {"items": []}])
def test_it_refuses_a_body_without_results(api, body):
    response = api.post(URL, body)
    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"] == "results"


def test_it_refuses_more_than_500_results(api, ac225_batch, now):
    response = api.post(URL, {"results": [item(ac225_batch, now)] * 501})
    assert response.status_code == 422
    assert "1 to 500" in problem(response)["detail"]
    assert not api_results().exists()


def test_it_takes_500_results_in_one_request(api, ac225_batch, pb212_batch, now):
    items = [item(ac225_batch if i % 2 else pb212_batch, now,
                  measured_at=(now - timedelta(seconds=i)).isoformat()) for i in range(500)]
    response = api.post(URL, {"results": items})
    assert response.status_code == 201, response.content[:500]
    assert response.json()["count"] == 500
    assert api_results().count() == 500


def test_a_bulk_retry_is_replayed_and_a_changed_bulk_is_refused(api, ac225_batch, now):
    items = [item(ac225_batch, now), item(ac225_batch, now, value=7.2)]
    first = api.post(URL, {"results": items}, key="export-2026-11-22")
    retry = api.post(URL, {"results": items}, key="export-2026-11-22")
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    changed = api.post(URL, {"results": items[:1]}, key="export-2026-11-22")
    assert changed.status_code == 422
    assert problem(changed)["code"] == "idempotency_key_reused"
    assert api_results().count() == 2
    assert IdempotencyRecord.objects.count() == 1


def test_a_failed_bulk_leaves_no_idempotency_record(api, ac225_batch, now):
    api.post(URL, {"results": [item(ac225_batch, now, value=99)]}, key="k1")
    assert not IdempotencyRecord.objects.exists()


def test_items_of_the_wrong_shape_are_field_errors_not_crashes(api, ac225_batch, now):
    items = [item(ac225_batch, now, test_code=["ph"]), item(ac225_batch, now, lot_number=7),
             item(ac225_batch, now, value="7.0"), item(ac225_batch, now, method_times="x")]
    response = api.post(URL, {"results": items})
    assert response.status_code == 422
    assert [(e["index"], e["field"]) for e in problem(response)["errors"]] == [
        (0, "test_code"), (1, "lot_number"), (2, "value"), (3, "method_times")]


def test_the_service_records_each_result_with_its_own_audit_event_in_order(
        ac225_batch, pb212_batch, now, committed):
    from batches.records.results import ResultInput, result_record_many
    from qc.audit import verify_chain
    from tests.factories import make_instrument

    instrument = make_instrument()
    criteria = {b.pk: b.specification.criteria.get(test_code="ph")
                for b in (ac225_batch, pb212_batch)}
    items = [ResultInput(batch=batch, criterion=criteria[batch.pk], value=7.0 + i / 10,
                         unit="pH", measured_at=now - timedelta(minutes=3, seconds=i),
                         instrument=instrument)
             for i, batch in enumerate([ac225_batch, pb212_batch, ac225_batch])]
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with committed():
        results = result_record_many(actor=instrument_account(instrument), items=items,
                                     actor_name="instrument key test")
    assert [r.batch_id for r in results] == [ac225_batch.pk, pb212_batch.pk, ac225_batch.pk]
    assert [r.value for r in results] == [7.0, 7.1, 7.2]
    events = list(AuditEvent.objects.filter(id__gt=before, action__in=[
        "result.record", "batch.status"]).order_by("id"))
    assert [(e.action, e.object_id) for e in events] == [
        ("result.record", str(results[0].id)), ("batch.status", str(ac225_batch.pk)),
        ("result.record", str(results[1].id)), ("batch.status", str(pb212_batch.pk)),
        ("result.record", str(results[2].id))]
    assert {e.actor_name for e in events} == {"instrument key test"}
    assert events[0].after["measured_at"] == items[0].measured_at.isoformat().replace(
        "+00:00", "Z")
    assert set(Batch.objects.filter(pk__in=[ac225_batch.pk, pb212_batch.pk])
               .values_list("status", flat=True)) == {BatchStatus.IN_QC}
    assert Evaluation.objects.filter(result__in=results).count() == 3
    assert verify_chain().ok


def instrument_account(instrument):
    from qc.api_keys import instrument_user

    return instrument_user(instrument)


def test_the_service_stores_nothing_when_one_item_is_refused(ac225_batch, pb212_batch, now):
    from batches.records.results import ResultInput, ResultsRefused, result_record_many

    Batch.objects.filter(pk=pb212_batch.pk).update(status=BatchStatus.REJECTED)
    ph = {b.pk: b.specification.criteria.get(test_code="ph") for b in (ac225_batch, pb212_batch)}
    events = AuditEvent.objects.count()
    items = [ResultInput(batch=ac225_batch, criterion=ph[ac225_batch.pk], value=7.0, unit="pH",
                         measured_at=now - timedelta(minutes=3)),
             ResultInput(batch=ac225_batch, criterion=ph[ac225_batch.pk], value=15, unit="pH",
                         measured_at=now - timedelta(minutes=3)),
             ResultInput(batch=pb212_batch, criterion=ph[pb212_batch.pk], value=7.0, unit="pH",
                         measured_at=now - timedelta(minutes=3))]
    with pytest.raises(ResultsRefused) as refused:
        result_record_many(actor=None, items=items, actor_name="instrument key test")
    assert list(refused.value.errors) == [1] and "value" in refused.value.errors[1].message_dict
    assert list(refused.value.refusals) == [2]
    assert refused.value.refusals[2].code == "batch_closed"
    assert not api_results().exists()
    assert AuditEvent.objects.count() == events
    assert Batch.objects.get(pk=ac225_batch.pk).status == BatchStatus.REGISTERED


def test_verify_audit_finds_a_bulk_written_event_changed_afterwards(api, ac225_batch, now):
    from django.core.management import CommandError, call_command

    from qc.audit import verify_chain
    from tests.qc.test_audit_trail import tamper

    items = [item(ac225_batch, now, value=7.0 + i / 10,
                  measured_at=(now - timedelta(seconds=i)).isoformat()) for i in range(20)]
    response = api.post(URL, {"results": items})
    assert response.status_code == 201
    assert verify_chain().ok
    tenth = AuditEvent.objects.get(action="result.record",
                                   object_id=str(response.json()["results"][10]["id"]))
    tamper("UPDATE qc_auditevent SET after = %s WHERE id = %s",
           ['{"test_code": "ph", "value": 7.5}', tenth.id])
    assert verify_chain().broken_event_id == tenth.id
    with pytest.raises(CommandError, match=f"BROKEN at event #{tenth.id}:"):
        call_command("verify_audit")
