"""A local time typed at the edge of the calendar (year 1, whose UTC is before year 1 east of
Greenwich; year 9999) is refused next to its field as out of range, the typed text kept;
never a 500."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import Batch, Elution, Generator, GeneratorKind, Result
from tests.factories import make_source_lot

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = ["0001-01-01T00:00:00", "0001-01-01T00:00", "9999-12-31T23:59:59",
                "1899-12-31T12:00"]
LIMITS = "is out of range: a time must be from 1900-01-01 to 2199-12-31 (UTC)."


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def register_data(products):
    eos = timezone.now().replace(microsecond=0) - timedelta(minutes=20)
    return {"lot_number": "AC-WEB-001", "product": products["ac225-psma-it"].pk,
            "source": f"lot:{make_source_lot().pk}", "eos": local(eos),
            "calibration_time": local(eos + timedelta(hours=1)), "activity": "8 MBq",
            "volume_ml": "4"}


@pytest.mark.parametrize("field", ["eos", "calibration_time", "daughters_separated_at"])
@pytest.mark.parametrize("typed", OUT_OF_RANGE)
def test_a_registration_time_out_of_range_is_refused_next_to_its_field(
        client_for, operator, register_data, field, typed):
    register_data[field] = typed
    response = client_for(operator).post(reverse("batch-register"), register_data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [f"{typed} {LIMITS}"]
    assert f'value="{typed}"' in response.content.decode()
    assert not Batch.objects.exists()


@pytest.mark.parametrize("field", ["measured_at", "developed_at"])
@pytest.mark.parametrize("typed", OUT_OF_RANGE)
def test_a_result_time_out_of_range_is_refused_next_to_its_field(client_for, analyst,
                                                                 settled_ac225, field, typed):
    data = {"value": "96.1", "unit": "%", "measured_at": local(timezone.now()),
            "developed_at": local(timezone.now() - timedelta(hours=1)), field: typed}
    response = client_for(analyst).post(
        reverse("result-record", args=[settled_ac225.lot_number, "rcp"]), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [f"{typed} {LIMITS}"]
    assert not Result.objects.filter(criterion__test_code="rcp").exists()


@pytest.mark.parametrize("typed", OUT_OF_RANGE)
def test_an_elution_time_out_of_range_is_refused_next_to_its_field(client_for, operator,
                                                                   typed):
    generator = Generator.objects.create(
        kind=GeneratorKind.RA224_PB212, serial="RA-GEN-7", parent_nuclide="Ra-224",
        loaded_activity_bq=1e9, loaded_at=timezone.now() - timedelta(days=2),
        supplier="Test supplier", expires_on=(timezone.now() + timedelta(days=10)).date())
    response = client_for(operator).post(reverse("elution-record"), {
        "generator": generator.pk, "eluted_at": typed, "activity": "100 MBq", "volume_ml": "1"})
    assert response.status_code == 200
    assert response.context["form"].errors["eluted_at"] == [f"{typed} {LIMITS}"]
    assert not Elution.objects.exists()


@pytest.mark.parametrize(("date_from", "date_to", "field"), [
    ("2026-01-01", "9999-12-31", "date_to"),
    ("0001-01-01", "2026-12-31", "date_from"),
])
@pytest.mark.parametrize("page", ["audit-trail", "audit-export"])
def test_an_audit_filter_date_out_of_range_is_refused_not_a_crash(
        client_for, reviewer, settled_ac225, date_from, date_to, field, page):
    response = client_for(reviewer).get(reverse(page), {"date_from": date_from,
                                                        "date_to": date_to})
    typed = date_from if field == "date_from" else date_to
    message = f"{typed} is out of range: a date must be from 1900-01-01 to 2199-12-31 (UTC)."
    if page == "audit-trail":
        assert response.status_code == 200
        assert response.context["form"].errors[field] == [message]
    else:
        assert response.status_code == 400
        assert message in response.content.decode()
