"""The batch page: identity, source, times and what set the expiry, results with measured
and judged values, decay chart, Ac-227 share, signatures, certificates, and only the actions
the user may take."""

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from batches.disposition import services as disposition
from batches.records import results as records
from qc.audit import audit_record
from tests.conftest import PASSWORD
from tests.factories import make_ac225_batch
from tests.gmp.flows import record, settle

pytestmark = pytest.mark.django_db


def page(client, batch):
    response = client.get(reverse("batch-detail", args=[batch.lot_number]))
    assert response.status_code == 200
    return response


def test_it_shows_identity_source_times_and_what_set_the_expiry(
        client_for, analyst, settled_ac225):
    html = page(client_for(analyst), settled_ac225).content.decode()
    batch = settled_ac225
    assert batch.lot_number in html and batch.product.name.replace("&", "&amp;") in html
    assert batch.source_lot.lot_number in html
    assert "set by:" in html and batch.expiry_reason in html
    assert "8.00 MBq" in html  # activity at calibration, SI-prefixed
    # every time carries its zone, with the UTC time in brackets
    assert 'datetime="' in html
    assert re.search(r" CES?T</span> <span class=\"utc\">\(\d\d:\d\d UTC\)</span></time>", html)


def test_results_show_measured_and_judged_values_with_the_time_judged_at(
        client_for, analyst, settled_ac225):
    response = page(client_for(analyst), settled_ac225)
    row = next(r for r in response.context["rows"] if r["criterion"].test_code == "ac227-share")
    assert row["verdict"] == "pass"
    evaluation = row["evaluation"]
    assert evaluation.judged_at_time == settled_ac225.expiry
    html = response.content.decode()
    assert f"{evaluation.projected_value:.4g} %" in html
    assert "Projected to expiry" in html


def test_the_decay_chart_is_inline_svg_with_the_product_and_key_daughters(
        client_for, analyst, settled_ac225):
    response = page(client_for(analyst), settled_ac225)
    html = response.content.decode()
    assert '<svg class="chart"' in html
    for nuclide in settled_ac225.decay_table["activities_Bq"]:
        assert f">{nuclide}</text>" in html
    assert "<script" not in html.split("<main")[1]  # no chart library


def test_a_225ac_batch_shows_the_ac227_share_over_its_shelf_life_and_others_do_not(
        client_for, analyst, settled_ac225, pb212_batch):
    client = client_for(analyst)
    ac227 = page(client, settled_ac225).context["ac227"]
    shares = {row["label"]: row["share"] for row in ac227["rows"]}
    assert shares["Lot reference (supplier certificate)"] == pytest.approx(0.2)
    # Ac-225 decays and Ac-227 hardly does, so the share grows towards expiry
    assert shares["Lot reference (supplier certificate)"] < shares["End of synthesis"] \
        < shares["Expiry"]
    assert page(client, settle(pb212_batch)).context["ac227"] is None


def test_an_analyst_sees_record_buttons_but_no_release_and_a_qp_no_record(
        client_for, analyst, qp, settled_ac225):
    analyst_html = page(client_for(analyst), settled_ac225).content.decode()
    assert "Record<span" in analyst_html
    assert reverse("batch-release", args=[settled_ac225.lot_number]) not in analyst_html
    qp_response = page(client_for(qp), settled_ac225)
    assert "record_result" not in qp_response.context["actions"]
    assert "Record<span" not in qp_response.content.decode()


def test_the_qp_sees_release_actions_once_the_batch_is_reviewed(
        client_for, qp, reviewed_pb212):
    response = page(client_for(qp), reviewed_pb212)
    html = response.content.decode()
    assert reverse("batch-release-conditionally", args=[reviewed_pb212.lot_number]) in html
    assert reverse("batch-reject", args=[reviewed_pb212.lot_number]) in html
    # the Ra-224 recount and sterility are still to come: no full release, and it says why
    assert reverse("batch-release", args=[reviewed_pb212.lot_number]) + '"' not in html
    [release] = [b for b in response.context["action_buttons"] if b["action"] == "release"]
    assert not release["allowed"]
    assert any("Sterility has no result yet" in r for r in release["reasons"])
    assert 'data-testid="action-reasons"' in html


def tamper(table: str, sql: str, params) -> None:
    """Change a row as someone with database access could (on PostgreSQL that takes switching
    the append-only trigger off first)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


def test_signatures_say_whether_the_signed_record_was_tampered_with(
        client_for, qp, reviewed_pb212, analyst, committed, clock):
    response = page(client_for(qp), reviewed_pb212)
    [row] = response.context["signatures"]
    assert row["signature"].meaning == "reviewed" and row["untampered"]
    assert "Not tampered with" in response.content.decode()
    # a result recorded after the review is a later record: the signed record is untouched
    clock.advance(days=14, minutes=5)  # the sterility incubation (Ph. Eur. 2.6.1)
    with committed():
        record(analyst, reviewed_pb212, "sterility", clock.now(), text="sterile")
    [row] = page(client_for(qp), reviewed_pb212).context["signatures"]
    assert row["untampered"] and row["amendments"] == []
    # a signed result changed behind the application's back is tampering, and the page says so
    rcp = reviewed_pb212.results.get(criterion__test_code="rcp")
    tamper("batches_result", "UPDATE batches_result SET value = 99.9 WHERE id = %s", [rcp.id])
    response = page(client_for(qp), reviewed_pb212)
    [row] = response.context["signatures"]
    assert not row["untampered"]
    assert "Tampered with: no longer what was signed" in response.content.decode()


def test_a_correction_after_signing_shows_as_an_amendment_not_as_tampering(
        client_for, qp, reviewed_pb212, analyst, committed):
    rcp = reviewed_pb212.results.get(criterion__test_code="rcp")
    with committed():
        records.result_correct(actor=analyst, result=rcp, value=98.0,
                                   reason="transcription error")
    response = page(client_for(qp), reviewed_pb212)
    [row] = response.context["signatures"]
    assert row["untampered"]
    assert [r.id for r in row["amendments"]] == [rcp.id]
    html = response.content.decode()
    assert 'data-testid="amended-since"' in html and "Not tampered with" in html


def test_the_signatures_on_a_batch_are_checked_against_one_read_of_its_record(
        client_for, qp, reviewed_pb212, committed):
    with committed():
        disposition.batch_release_conditionally(actor=qp, password=PASSWORD,
                                                batch=reviewed_pb212)
    client = client_for(qp)
    page(client, reviewed_pb212)
    with CaptureQueriesContext(connection) as captured:
        rows = page(client, reviewed_pb212).context["signatures"]
    assert [(row["signature"].meaning, row["untampered"]) for row in rows] == [
        ("reviewed", True), ("conditionally_released", True)]
    records = [q["sql"] for q in captured.captured_queries
               if q["sql"].startswith('SELECT "batches_result"."id"')
               and 'ORDER BY "batches_result"."id"' in q["sql"]
               and '"batches_rawdatafile"' in q["sql"]]
    assert len(records) == 1, records


def test_the_certificate_area_says_none_before_release(client_for, analyst, settled_ac225):
    html = page(client_for(analyst), settled_ac225).content.decode()
    assert 'data-testid="no-certificate"' in html


def test_the_audit_trail_tab_lists_the_lots_events_for_qa(client_for, reviewer, analyst,
                                                          settled_ac225):
    response = client_for(reviewer).get(reverse("batch-audit", args=[settled_ac225.lot_number]))
    actions = [e.action for e in response.context["events"]]
    assert actions[0] == "batch.register"
    assert "result.evaluate" in actions
    tab = f'href="/batches/{settled_ac225.lot_number}/audit/"'
    assert tab not in page(client_for(analyst), settled_ac225).content.decode()


def test_the_audit_trail_tab_takes_the_same_queries_however_many_events_the_lot_has(
        client_for, reviewer, analyst, settled_ac225):
    client = client_for(reviewer)
    url = reverse("batch-audit", args=[settled_ac225.lot_number])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for actor in (analyst, reviewer, analyst):  # more events, each naming its actor
        with transaction.atomic():
            audit_record(actor=actor, action="batch.note", object_type="batches.batch",
                         object_id=settled_ac225.pk, batch_lot=settled_ac225.lot_number)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["events"]) > 0
    assert len(few) == len(many)


def test_the_results_table_polls_while_a_result_is_being_evaluated(
        client_for, analyst, settled_ac225):
    # recorded outside committed(): its evaluation has not run yet
    record(analyst, settled_ac225, "ph", timezone.now(), 7.0, "pH")
    html = page(client_for(analyst), settled_ac225).content.decode()
    assert f'hx-get="/batches/{settled_ac225.lot_number}/results/"' in html
    assert "Evaluating" in html


def test_the_live_activity_partial_decays_on_the_server(client_for, analyst, settled_ac225):
    response = client_for(analyst).get(reverse("batch-live", args=[settled_ac225.lot_number]),
                                       HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.context["live"]["activity_now"] < settled_ac225.activity_bq * 1.01
    assert "Activity now" in response.content.decode()


BATCH_PAGE_MAX_QUERIES = 45


def test_the_batch_page_takes_the_same_queries_however_many_other_batches_exist(
        products, operator, analyst, qp, client_for, settled_ac225,
        django_assert_max_num_queries):
    client = client_for(qp)
    url = reverse("batch-detail", args=[settled_ac225.lot_number])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(5):
        settle(make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                                eos=timezone.now() - timedelta(minutes=30 + i)))
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(few) == len(many)
    with django_assert_max_num_queries(BATCH_PAGE_MAX_QUERIES):
        client.get(url)


def test_a_reviewed_batch_page_with_signatures_stays_within_its_query_budget(
        client_for, qp, reviewed_pb212, django_assert_max_num_queries):
    client = client_for(qp)
    with django_assert_max_num_queries(BATCH_PAGE_MAX_QUERIES):
        page(client, reviewed_pb212)


def test_the_qps_batch_page_reads_the_results_once_for_the_record_and_every_action(
        client_for, qp, reviewed_pb212):
    client = client_for(qp)
    page(client, reviewed_pb212)
    with CaptureQueriesContext(connection) as captured:
        states = page(client, reviewed_pb212).context["action_buttons"]
    assert {s["action"] for s in states} >= {"release", "release_conditionally"}
    result_lists = [q["sql"] for q in captured.captured_queries
                    if q["sql"].startswith('SELECT "batches_result"."id"')
                    and 'ORDER BY "qc_criterion"."position"' in q["sql"]]
    assert len(result_lists) == 1, result_lists


def test_a_reviewer_who_recorded_no_results_may_invalidate_and_sees_the_button(
        client_for, reviewer, analyst, settled_ac225, committed):
    with committed():
        record(analyst, settled_ac225, "endotoxin", timezone.now(), 9.0, "EU/mL")
    response = page(client_for(reviewer), settled_ac225)
    assert "invalidate" in response.context["actions"]
    assert "Invalidate<span" in response.content.decode()
    # a failing result is investigated, not corrected: no correct button on it
    row = next(r for r in response.context["rows"] if r["criterion"].test_code == "endotoxin")
    assert not row["can_correct"]


def test_unknown_lot_is_404(client_for, analyst, db):
    assert client_for(analyst).get(reverse("batch-detail", args=["NOPE"])).status_code == 404


def test_a_900_word_rejection_reason_wraps_and_clips_with_show_all(
        client_for, qp, settled_ac225, committed):
    from batches.disposition import services as disposition
    from tests.conftest import PASSWORD

    reason = " ".join(["synthesis module fault during the labelling step"] * 130)
    with committed():
        disposition.batch_reject(actor=qp, password=PASSWORD, batch=settled_ac225,
                                 reason=reason)
    html = page(client_for(qp), settled_ac225).content.decode()
    assert 'data-testid="long-text"' in html and "show all" in html
    assert reason in html  # clipped on screen, all of it there for "show all" and print
