"""A decimal comma where the site writes one ('1,2 GBq'); elsewhere a clear refusal that says
what to type instead, never an unknown unit ',2 GBq'."""

import pytest

from qc.units import parse_activity


def test_a_site_with_a_decimal_comma_reads_1_comma_2_gbq():
    assert parse_activity("1,2 GBq", decimal_comma=True) == pytest.approx(1.2e9)
    assert parse_activity("412 MBq", decimal_comma=True) == pytest.approx(4.12e8)


def test_a_site_with_a_decimal_point_says_how_to_write_it():
    with pytest.raises(ValueError) as refused:
        parse_activity("1,2 GBq")
    assert "decimal point, e.g. '1.2'" in str(refused.value)
    assert "unit" not in str(refused.value)


@pytest.mark.django_db
def test_the_decay_api_follows_the_sites_setting(client, analyst, settings):
    client.force_login(analyst)
    settings.DECIMAL_COMMA = True
    response = client.get("/api/v1/decay/", {"nuclide": "Ac-225", "activity": "1,2 GBq",
                                             "at": "0h"})
    assert response.status_code == 200, response.content
    assert response.json()["activity_Bq"] == pytest.approx(1.2e9)
    settings.DECIMAL_COMMA = False
    refused = client.get("/api/v1/decay/", {"nuclide": "Ac-225", "activity": "1,2 GBq",
                                            "at": "0h"})
    assert refused.status_code == 422  # the API's status for a value it cannot read
    assert "decimal point" in refused.content.decode()


def test_the_language_decides_the_default(monkeypatch):
    import importlib

    import config.settings as site_settings

    monkeypatch.setenv("LANGUAGE_CODE", "nl-nl")
    monkeypatch.delenv("DECIMAL_COMMA", raising=False)
    try:
        assert importlib.reload(site_settings).DECIMAL_COMMA is True
        monkeypatch.setenv("LANGUAGE_CODE", "en-gb")
        assert importlib.reload(site_settings).DECIMAL_COMMA is False
    finally:
        monkeypatch.delenv("LANGUAGE_CODE", raising=False)
        importlib.reload(site_settings)
