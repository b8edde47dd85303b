"""The site-wide audit trail for QA and the QP: filters and CSV export."""

import csv
import io

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_qa_filters_the_trail_by_lot_and_action(client_for, reviewer, settled_ac225,
                                                pb212_batch):
    response = client_for(reviewer).get(reverse("audit-trail"),
                                        {"lot": settled_ac225.lot_number, "action": "batch"})
    events = list(response.context["page"])
    assert events and all(e.batch_lot == settled_ac225.lot_number for e in events)
    assert all(e.action.startswith("batch.") for e in events)
    assert pb212_batch.lot_number not in response.content.decode()


def test_the_csv_export_carries_the_filtered_events_with_their_hashes(
        client_for, qp, settled_ac225):
    response = client_for(qp).get(reverse("audit-export"), {"lot": settled_ac225.lot_number})
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows and {r["batch_lot"] for r in rows} == {settled_ac225.lot_number}
    assert all(len(r["hash"]) == 64 for r in rows)


def test_a_bad_date_filter_is_an_error_not_a_crash(client_for, reviewer, settled_ac225):
    response = client_for(reviewer).get(reverse("audit-trail"), {"date_from": "yesterday"})
    assert response.status_code == 200
    assert response.context["form"].errors["date_from"]


def test_an_analyst_cannot_read_or_export_the_trail(client_for, analyst, settled_ac225):
    client = client_for(analyst)
    assert client.get(reverse("audit-trail")).status_code == 403
    assert client.get(reverse("audit-export")).status_code == 403
