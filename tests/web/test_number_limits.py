"""A number typed on the result form is refused with what is wrong with it as typed: more
significant figures than a value holds, or beyond the quantity's physical range (named with
its limit); nothing is stored."""

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import Result

pytestmark = pytest.mark.django_db


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.parametrize(("code", "value", "unit", "says"), [
    ("activity", "1.23456789012345678901234567890", "GBq",
     "1.23456789012345678901234567890 has 30 significant figures; a value is recorded with at "
     "most 17 (more than any instrument measures). Send it as the instrument shows it."),
    ("activity", "1e308", "GBq", "1e308 GBq is outside the physical range: above the largest "
     "activity accepted, 1000 TBq (1e+15 Bq)."),
    ("ph", "-0.5", "pH", "-0.5 pH is outside the physical range: below the smallest pH "
     "accepted, 0 pH."),
])
def test_a_typed_number_is_refused_as_typed_with_what_is_wrong(client_for, analyst,
                                                               settled_ac225, code, value, unit,
                                                               says):
    response = client_for(analyst).post(
        reverse("result-record", args=[settled_ac225.lot_number, code]),
        {"value": value, "unit": unit, "measured_at": local(timezone.now())})
    assert response.status_code == 200
    assert response.context["form"].errors["value"] == [says]
    assert not Result.objects.filter(criterion__test_code=code, channel="web").exists()


@pytest.mark.parametrize(("value", "says"), [
    ("١٢", "'١٢' is not a number"), ("1_000", "'1_000' is not a number"),
    ("1e-400", "1e-400 is too small to tell from zero; type 0 if it is zero."),
])
def test_a_number_a_certificate_could_not_show_as_typed_is_refused(client_for, analyst,
                                                                   settled_ac225, value, says):
    # float() reads Arabic-Indic digits and underscores; '1e-400' reads as 0.
    response = client_for(analyst).post(
        reverse("result-record", args=[settled_ac225.lot_number, "ph"]),
        {"value": value, "unit": "pH", "measured_at": local(timezone.now())})
    assert response.status_code == 200
    assert response.context["form"].errors["value"][0].startswith(says)
    assert not Result.objects.filter(criterion__test_code="ph").exists()


@pytest.mark.parametrize(("typed", "says"), [
    ("1e308 GBq", "1e308 GBq is outside the physical range: above the largest activity "
                  "accepted, 1000 TBq (1e+15 Bq)."),
    ("١ GBq", "Cannot read an activity from '١ GBq'"),
])
def test_a_registered_activity_is_refused_as_typed(client_for, operator, products, typed,
                                                   says):
    from batches.models import Batch
    from tests.factories import make_source_lot

    eos = timezone.now().replace(microsecond=0) - timezone.timedelta(minutes=20)
    response = client_for(operator).post(reverse("batch-register"), {
        "lot_number": "AC-WEB-001", "product": products["ac225-psma-it"].pk,
        "source": f"lot:{make_source_lot().pk}", "eos": local(eos),
        "calibration_time": local(eos + timezone.timedelta(hours=1)), "activity": typed,
        "volume_ml": "4"})
    assert response.status_code == 200
    assert response.context["form"].errors["activity"][0].startswith(says)
    assert not Batch.objects.exists()
