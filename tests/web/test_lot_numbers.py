"""Lot numbers: one alphabet (batches/records/lots.py), enforced on the web form, in
batch_register and in the admin; every page of a batch reachable for any accepted lot,
"/" included; list pages still answer with one bad row stored before the rule."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import resolve, reverse
from django.utils import timezone

from batches.models import Batch, SourceLot
from batches.records.lots import lot_number_problem, storage_name
from tests.factories import make_ac225_batch, make_source_lot

pytestmark = pytest.mark.django_db


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def form_data(products):
    eos = timezone.now().replace(microsecond=0) - timedelta(minutes=20)
    lot = make_source_lot()
    return {"product": products["ac225-psma-it"].pk, "source": f"lot:{lot.pk}",
            "eos": local(eos), "calibration_time": local(eos + timedelta(hours=1)),
            "activity": "8 MBq", "volume_ml": "4"}


@pytest.mark.parametrize("lot", ["BI213/2612/102", "AC-2612_07.b", "PB212-2611-001", "7"])
def test_letters_digits_dash_underscore_dot_and_slash_separated_parts_are_accepted(lot):
    assert lot_number_problem(lot) is None


@pytest.mark.parametrize(("lot", "says"), [
    ("<script>alert(1)</script>", "'<'"),
    ("AC 225", "' '"),
    ("AC\x00225", "'\\x00'"),
    ("AC\n225", "'\\n'"),
    ('AC"225', "'\"'"),
    ("/AC225", "not a valid lot number"),
    ("AC225/", "not a valid lot number"),
    ("AC//225", "not a valid lot number"),
    ("AC/../225", "not a valid lot number"),
    ("AC225/audit", "part named 'audit'"),
    ("new", "part named 'new'"),
    ("A" * 41, "at most 40 characters (this has 41)"),
])
def test_anything_else_is_refused_with_the_accepted_format_and_an_example(lot, says):
    problem = lot_number_problem(lot)
    assert says in problem
    if "at most" not in problem:
        assert "BI213/2612/102" in problem and '"/"' in problem


def test_the_form_registers_a_lot_with_slashes_and_every_batch_page_takes_it(
        client_for, operator, form_data):
    form_data["lot_number"] = "BI213/2612/102"
    client = client_for(operator)
    response = client.post(reverse("batch-register"), form_data)
    assert response.status_code == 302
    assert response["Location"] == "/batches/BI213/2612/102/"
    assert Batch.objects.filter(lot_number="BI213/2612/102").exists()
    for name in ("batch-detail", "batch-audit", "batch-live", "batch-results",
                 "batch-certificates", "batch-review", "batch-release", "batch-reject"):
        url = reverse(name, args=["BI213/2612/102"])
        match = resolve(url)
        assert match.url_name == name and match.kwargs["lot_number"] == "BI213/2612/102"
    assert client.get("/batches/BI213/2612/102/").status_code == 200
    assert client.get("/batches/BI213/2612/102/results/").status_code == 200
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("batch-list")).status_code == 200


def test_the_form_refuses_a_script_as_lot_number_showing_the_accepted_format(
        client_for, operator, form_data):
    form_data["lot_number"] = "<script>alert(1)</script>"
    response = client_for(operator).post(reverse("batch-register"), form_data)
    assert response.status_code == 200
    error = response.context["form"].errors["lot_number"][0]
    assert "'<'" in error and "e.g. BI213/2612/102" in error
    assert not Batch.objects.exists()


def test_batch_register_itself_refuses_a_lot_outside_the_alphabet(products, operator, now):
    with pytest.raises(ValidationError) as refused:
        make_ac225_batch(product=products["ac225-psma-it"], operator=operator, eos=now,
                         lot_number="AC 225 ")  # inner space; the outer ones are stripped
    assert "' '" in refused.value.message_dict["lot_number"][0]
    assert not Batch.objects.exists()


def test_lists_and_the_batch_page_answer_with_a_legacy_lot_no_rule_would_take_now(
        client_for, operator, products, now):
    batch = make_ac225_batch(product=products["ac225-psma-it"], operator=operator, eos=now)
    legacy = "<script>x</script> 1/2"
    Batch.objects.filter(pk=batch.pk).update(lot_number=legacy)  # stored before the rule
    client = client_for(operator)
    for url in (reverse("dashboard"), reverse("batch-list")):
        response = client.get(url)
        assert response.status_code == 200
        assert "&lt;script&gt;x&lt;/script&gt; 1/2" in response.content.decode()
    detail = reverse("batch-detail", args=[legacy])
    assert detail == "/batches/%3Cscript%3Ex%3C/script%3E%201/2/"
    assert client.get(detail).status_code == 200


def test_the_admin_refuses_a_source_lot_number_outside_the_alphabet(admin_user, client_for):
    response = client_for(admin_user).post(reverse("admin:batches_sourcelot_add"), {
        "lot_number": "AC225 <lot>", "supplier": "S", "route": "th232_spallation",
        "activity_bq": "3.7e9", "reference_time_0": "2026-11-20", "reference_time_1": "10:00:00",
        "ac227_ratio_percent": "0.2"})
    assert response.status_code == 200
    assert "e.g. BI213/2612/102" in str(response.context["adminform"].form.errors["lot_number"])
    assert not SourceLot.objects.exists()


def test_certificate_files_of_a_lot_with_slashes_stay_one_folder_deep():
    assert storage_name("BI213/2612/102") == "BI213_2612_102"
    assert storage_name("CoR-BI213/2612/102-v2") == "CoR-BI213_2612_102-v2"
    assert storage_name("../x") == "_x"
