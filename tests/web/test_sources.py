"""Generators and 225Ac lots: the elution history, the activity the next elution will give
(ingrowth by the decay engine), and a lot's Ac-227 share now and at a chosen time."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import Elution, Generator, GeneratorKind
from batches.web import physics
from qc.engine import site_engine
from tests.factories import make_source_lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def ra224_generator(db):
    now = timezone.now()
    generator = Generator.objects.create(
        kind=GeneratorKind.RA224_PB212, serial="RA-TEST-1", parent_nuclide="Ra-224",
        loaded_activity_bq=1e9, loaded_at=now - timedelta(days=2), supplier="Test",
        expires_on=(now + timedelta(days=10)).date())
    Elution.objects.create(generator=generator, eluted_at=now - timedelta(hours=26),
                           activity_bq=4.0e8)
    Elution.objects.create(generator=generator, eluted_at=now - timedelta(hours=6),
                           activity_bq=2.5e8)
    return generator


def test_pb212_grows_back_on_a_ra224_generator_towards_transient_equilibrium(ra224_generator):
    now = timezone.now()
    engine = site_engine()
    last = now - timedelta(hours=6)
    soon = physics.predict_elution(ra224_generator, last_elution_at=last, at=now)
    later = physics.predict_elution(ra224_generator, last_elution_at=last,
                                    at=now + timedelta(days=5))
    ra_now = 1e9 * engine.decay_factor("Ra-224", 2 * 86400)
    assert soon.parent_now_bq == pytest.approx(ra_now, rel=1e-6)
    assert 0 < soon.product_bq < later.product_bq
    # Pb-212 (10.6 h) under Ra-224 (3.6 d) settles at about 1.14 x the parent activity
    assert later.product_bq / later.parent_now_bq == pytest.approx(
        engine.equilibrium_ratio("Ra-224", "Pb-212"), rel=0.03)


def test_an_ac225_generator_gives_bi213_within_hours(db):
    now = timezone.now()
    generator = Generator(kind=GeneratorKind.AC225_BI213, serial="x", parent_nuclide="Ac-225",
                          loaded_activity_bq=1e9, loaded_at=now - timedelta(days=1))
    prediction = physics.predict_elution(generator, last_elution_at=now - timedelta(hours=5),
                                         at=now)
    assert prediction.product_bq == pytest.approx(prediction.parent_now_bq, rel=0.02)


def test_the_generator_page_shows_history_yields_and_a_prediction_at_a_chosen_time(
        client_for, operator, ra224_generator):
    client = client_for(operator)
    url = reverse("generator-detail", args=[ra224_generator.serial])
    response = client.get(url)
    assert len(response.context["rows"]) == 2
    assert all(row["yield"] and 0 < row["yield"] for row in response.context["rows"])
    at = timezone.localtime() + timedelta(hours=12)
    later = client.get(url, {"at": at.strftime("%Y-%m-%dT%H:%M:%S")})
    assert later.context["prediction"].product_bq > response.context["prediction"].product_bq
    assert "If eluted at" in later.content.decode()


def test_the_source_list_shows_what_each_generator_would_give_now(
        client_for, operator, ra224_generator):
    response = client_for(operator).get(reverse("source-list"))
    [row] = response.context["generators"]
    assert row["prediction"].since_what == "last elution"
    assert row["generator"].elution_count == 2


def test_the_source_list_says_in_words_which_generators_have_expired(
        client_for, operator, ra224_generator):
    now = timezone.now()
    Generator.objects.create(
        kind=GeneratorKind.RA224_PB212, serial="RA-OLD-1", parent_nuclide="Ra-224",
        loaded_activity_bq=1e9, loaded_at=now - timedelta(days=20), supplier="Test",
        expires_on=(now - timedelta(days=10)).date())
    response = client_for(operator).get(reverse("source-list"))
    expired = {row["generator"].serial: row["expired"] for row in response.context["generators"]}
    assert expired == {"RA-OLD-1": True, "RA-TEST-1": False}
    assert response.content.decode().count('<span aria-hidden="true">✖</span> expired') == 1


def test_a_lot_page_shows_the_ac227_share_now_and_at_a_chosen_date(client_for, analyst):
    lot = make_source_lot(reference_time=timezone.now() - timedelta(days=5), ratio_percent=0.2)
    url = reverse("lot-detail", args=[lot.lot_number])
    client = client_for(analyst)
    now_page = client.get(url)
    at = timezone.localtime() + timedelta(days=20)
    later = client.get(url, {"at": at.strftime("%Y-%m-%dT%H:%M:%S")})
    engine = site_engine()
    expected = 100 * engine.activity_ratio(
        {"Ac-225": 1.0, "Ac-227": 0.002}, "Ac-227", "Ac-225",
        (later.context["at"] - lot.reference_time).total_seconds())[0]
    assert later.context["share_at"] == pytest.approx(expected, rel=1e-9)
    assert now_page.context["share_now"] < later.context["share_at"]
    assert '<svg class="chart"' in later.content.decode()


def test_a_lot_page_shows_the_ac227_share_before_the_reference_time_projected_back(
        client_for, analyst):
    lot = make_source_lot(reference_time=timezone.now() + timedelta(days=3), ratio_percent=0.2)
    at = timezone.localtime() + timedelta(days=1)
    response = client_for(analyst).get(reverse("lot-detail", args=[lot.lot_number]),
                                       {"at": at.strftime("%Y-%m-%dT%H:%M:%S")})
    share_at = response.context["share_at"]
    assert share_at == pytest.approx(physics.ac227_share_percent(lot, [response.context["at"]])[0])
    assert 0 < share_at < 0.2  # Ac-225 decays faster, so the share was smaller before
    assert "(before the reference time, projected back)" in response.content.decode()
