"""The example instrument client against a live server: a CSV export posted once however
often it is re-run, and retried safely when an answer is lost."""

import csv
import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest

from batches.models import RawDataFile, Result
from clients import instrument_client
from clients.instrument_client import InstrumentClient, Number, Refused, dumps, read_csv
from qc.api_keys import api_key_create
from qc.models import InstrumentKind
from tests.factories import make_ac225_batch, make_instrument, make_pb212_batch

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLES = Path(instrument_client.__file__).parent / "examples"


@pytest.fixture
def setup(products, operator, admin_user, now, live_server):
    ac = make_ac225_batch(product=products["ac225-psma-it"], operator=operator,
                          eos=now - timedelta(minutes=50), lot_number="AC225-2611-003")
    pb = make_pb212_batch(product=products["pb212-dotamtate"], operator=operator,
                          eos=now - timedelta(hours=3), lot_number="PB212-2611-001")
    scanner = make_instrument(kind=InstrumentKind.RADIO_TLC, serial="TLC-LIVE")
    _, key = api_key_create(actor=admin_user, instrument=scanner,
                            test_codes=["rcp", "ph", "activity"])
    return {"ac": ac, "pb": pb, "key": key, "url": live_server.url}


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=sorted({k for r in rows for k in r}))
        writer.writeheader()
        writer.writerows(rows)
    return path


def export(tmp_path, now, ac, pb) -> Path:
    return write_csv(tmp_path / "export.csv", [
        {"lot_number": ac.lot_number, "test_code": "ph", "value": "7.1", "unit": "pH",
         "measured_at": (now - timedelta(minutes=3)).isoformat()},
        {"lot_number": ac.lot_number, "test_code": "rcp", "value": "97.2", "unit": "%",
         "developed_at": (now - timedelta(minutes=45)).isoformat(),
         "measured_at": (now - timedelta(minutes=2)).isoformat()},
        {"lot_number": pb.lot_number, "test_code": "activity", "value": "300", "unit": "MBq",
         "measured_at": (now - timedelta(minutes=1)).isoformat()},
    ])


def api_results():
    return Result.objects.filter(channel="api")


@pytest.mark.parametrize("bulk", [False, True])
def test_an_export_is_stored_once_however_often_it_is_posted(setup, tmp_path, now, bulk):
    path = export(tmp_path, now, setup["ac"], setup["pb"])
    client = InstrumentClient(setup["url"], setup["key"])
    first = client.upload(read_csv(path), bulk=bulk)
    assert first.ok and len(first.stored) == 3 and not first.replayed
    again = client.upload(read_csv(path), bulk=bulk)
    assert again.ok and not again.stored and len(again.replayed) == 3
    assert api_results().count() == 3
    rcp = api_results().get(criterion__test_code="rcp")
    assert rcp.method_times == {"developed_at": (now - timedelta(minutes=45)).isoformat()}


def test_a_lost_answer_is_retried_with_the_same_key_and_stored_once(setup, tmp_path, now):
    path = export(tmp_path, now, setup["ac"], setup["pb"])
    client = InstrumentClient(setup["url"], setup["key"], sleep=lambda s: None,
                              log=lambda *a: None)
    real_send, lost = client.send, []

    def send_and_lose_the_first_answer(*args):
        answer = real_send(*args)
        if not lost:
            lost.append(answer)
            raise TimeoutError("timed out")  # the server stored it; the client never heard
        return answer

    client.send = send_and_lose_the_first_answer
    outcome = client.upload(read_csv(path)[:1])
    assert outcome.ok and len(outcome.replayed) == 1
    assert outcome.replayed[0][1]["id"] == lost[0][2]["id"]
    assert api_results().count() == 1


def test_server_errors_are_retried_with_backoff_then_given_up(setup, tmp_path, now):
    path = export(tmp_path, now, setup["ac"], setup["pb"])
    waits = []
    client = InstrumentClient(setup["url"], setup["key"], retries=3, sleep=waits.append,
                              log=lambda *a: None)
    client.send = lambda *args: (503, {}, {"detail": "maintenance"})
    with pytest.raises(instrument_client.GaveUp):
        client.upload(read_csv(path)[:1])
    assert len(waits) == 3 and waits[0] < waits[2]
    assert not api_results().exists()


def test_a_refused_row_is_reported_with_its_reason_and_the_rest_are_stored(setup, tmp_path,
                                                                          now, capsys):
    path = export(tmp_path, now, setup["ac"], setup["pb"])
    rows = list(csv.DictReader(open(path)))
    rows[0]["value"] = "17"  # pH beyond the physical range
    write_csv(path, rows)
    code = instrument_client.main([str(path), "--url", setup["url"], "--key", setup["key"]])
    assert code == 1
    out, err = capsys.readouterr()
    assert "line 2: REFUSED (422) value: 17 pH is outside the physical range" in err
    assert "2 stored, 0 already stored, 1 refused" in out
    assert api_results().count() == 2


def test_a_refused_bulk_stores_nothing_and_says_which_lines_failed(setup, tmp_path, now):
    path = export(tmp_path, now, setup["ac"], setup["pb"])
    rows = list(csv.DictReader(open(path)))
    rows[1]["unit"] = "mL"
    write_csv(path, rows)
    outcome = InstrumentClient(setup["url"], setup["key"]).upload(read_csv(path), bulk=True)
    assert {line for line, _, _ in outcome.refused} == {2, 3, 4}
    assert any("use one of: %" in p.get("message", "") for _, _, p in outcome.refused)
    assert not api_results().exists()


def test_a_key_outside_its_scope_is_refused_not_retried(setup, tmp_path, now):
    path = write_csv(tmp_path / "x.csv", [{
        "lot_number": setup["ac"].lot_number, "test_code": "endotoxin", "value": "1",
        "unit": "EU/mL", "measured_at": (now - timedelta(minutes=1)).isoformat()}])
    client = InstrumentClient(setup["url"], setup["key"])
    with pytest.raises(Refused) as refused:
        client.post_result(read_csv(path)[0])
    assert refused.value.status == 403


def test_the_tlc_example_with_its_raw_scan_posts_against_the_demo_lots(setup, now):
    rows = read_csv(EXAMPLES / "tlc_scanner_report.csv", rebase_to=now - timedelta(minutes=1))
    ac_row = [r for r in rows if r.payload["lot_number"] == "AC225-2611-003"]
    outcome = InstrumentClient(setup["url"], setup["key"]).upload(ac_row)
    assert outcome.ok, outcome.refused
    content = (EXAMPLES / "scans" / "AC225-2611-003-strip2.csv").read_bytes()
    assert outcome.stored[0][1]["raw_data"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert RawDataFile.objects.get().size == len(content)


def test_the_dose_calibrator_example_parses():
    rows = read_csv(EXAMPLES / "dose_calibrator_log.csv")
    assert rows[0].payload == {"lot_number": "PB212-2611-001", "test_code": "activity",
                               "value": "312.4", "unit": "MBq",
                               "measured_at": "2026-11-22T06:15:12+01:00"}
    assert isinstance(rows[0].payload["value"], Number)  # sent as a number, digits as written
    assert rows[0].idempotency_key == read_csv(EXAMPLES / "dose_calibrator_log.csv")[0] \
        .idempotency_key != rows[1].idempotency_key


def test_a_value_is_sent_as_a_json_number_with_the_digits_the_export_wrote(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("lot_number,test_code,value,unit,measured_at\n"
                      "AC225-1,rcp,96.10,%,2026-11-22T06:15:12+01:00\n"
                      "AC225-1,ph,7,pH,2026-11-22T06:16:12+01:00\n")
    first, second = read_csv(export)
    assert dumps(first.payload).count('"value": 96.10,') == 1  # not "96.1", not a string
    assert '"value": 7,' in dumps(second.payload)  # not 7.0
    # The same row keeps the Idempotency-Key the client gave it when it sent floats.
    as_before = hashlib.sha256(json.dumps({**first.payload, "value": 96.1}, sort_keys=True,
                                          separators=(",", ":")).encode())
    assert first.idempotency_key == "row-" + as_before.hexdigest()[:48]
