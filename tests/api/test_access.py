"""No endpoint answers without authentication; keys act within their scope, staff within
their role."""

import re
from datetime import timedelta

import pytest

from batches.models import Batch, Result
from qc.api_keys import api_key_revoke
from tests.api.conftest import problem

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/batches/"),
    ("get", "/api/v1/batches/AC-00001/"),
    ("post", "/api/v1/batches/"),
    ("post", "/api/v1/results/"),
    ("post", "/api/v1/results/bulk/"),
    ("get", "/api/v1/schema/"),
    ("get", "/api/v1/docs/"),
]


def ph_result(batch, now, **overrides):
    return {"lot_number": batch.lot_number, "test_code": "ph", "value": 7.0, "unit": "pH",
            "measured_at": (now - timedelta(minutes=1)).isoformat(), **overrides}


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_refuses_an_unauthenticated_request_with_401(anonymous, method, path):
    response = getattr(anonymous, method)(path, {}) if method == "post" else anonymous.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "API key" in problem(response)["detail"]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_refuses_an_unknown_key_with_401(as_key, products, method, path):
    client = as_key("ark_00000000_not-a-real-key")
    response = getattr(client, method)(path, {}) if method == "post" else client.get(path)
    assert response.status_code == 401
    assert "unknown or has been revoked" in problem(response)["detail"]


def test_a_revoked_key_is_refused(api, tlc_key, admin_user, ac225_batch, now):
    api_key_revoke(actor=admin_user, key=tlc_key[0])
    response = api.post("/api/v1/results/", ph_result(ac225_batch, now))
    assert response.status_code == 401
    assert not Result.objects.filter(channel="api").exists()


def test_a_key_used_a_moment_ago_is_refused_as_soon_as_it_is_revoked(api, tlc_key, admin_user,
                                                                     ac225_batch, now):
    assert api.post("/api/v1/results/", ph_result(ac225_batch, now)).status_code == 201
    api_key_revoke(actor=admin_user, key=tlc_key[0])
    later = ph_result(ac225_batch, now - timedelta(seconds=1))
    assert api.post("/api/v1/results/", later).status_code == 401
    assert Result.objects.filter(channel="api").count() == 1


def test_the_key_may_also_be_sent_as_x_api_key(as_key, tlc_key, ac225_batch, now):
    response = as_key(tlc_key[1]).post("/api/v1/results/", ph_result(ac225_batch, now))
    assert response.status_code == 201, response.content


def test_a_key_cannot_report_a_test_code_outside_its_scope(make_key, tlc, as_key, ac225_batch,
                                                          now):
    _, plaintext = make_key(tlc, codes=["rcp"])
    response = as_key(plaintext).post("/api/v1/results/", ph_result(ac225_batch, now))
    assert response.status_code == 403
    body = problem(response)
    assert body["code"] == "out_of_scope"
    assert "may not report test ph" in body["detail"] and "rcp" in body["detail"]
    assert not Result.objects.filter(channel="api").exists()


def test_a_key_cannot_report_in_bulk_outside_its_scope(make_key, tlc, as_key, ac225_batch, now):
    _, plaintext = make_key(tlc, codes=["ph"])
    items = [ph_result(ac225_batch, now), ph_result(ac225_batch, now, test_code="rcp",
                                                   value=97, unit="%")]
    response = as_key(plaintext).post("/api/v1/results/bulk/", {"results": items})
    assert response.status_code == 403
    assert problem(response)["errors"] == [
        {"index": 1, "field": "test_code", "message": response.json()["errors"][0]["message"]}]
    assert not Result.objects.filter(channel="api").exists()


def test_a_key_cannot_register_batches_unless_its_scope_says_so(api, products, now):
    response = api.post("/api/v1/batches/", {"lot_number": "X"})
    assert response.status_code == 403
    assert "may not register batches" in problem(response)["detail"]
    assert not Batch.objects.filter(lot_number="X").exists()


def test_a_key_cannot_report_for_another_instrument(api, ac225_batch, now):
    response = api.post("/api/v1/results/", ph_result(ac225_batch, now, instrument="OTHER-1"))
    assert response.status_code == 422
    assert "belongs to instrument TLC-0001" in response.json()["errors"][0]["message"]


def test_an_account_without_a_role_is_refused_everything(as_user, outsider, ac225_batch, now):
    client = as_user(outsider)
    assert client.get("/api/v1/batches/").status_code == 403
    assert client.get(f"/api/v1/batches/{ac225_batch.lot_number}/").status_code == 403
    response = client.post("/api/v1/results/", ph_result(ac225_batch, now))
    assert response.status_code == 403
    assert not Result.objects.filter(channel="api").exists()


def test_a_reviewer_may_read_but_not_record_results(as_user, reviewer, ac225_batch, now):
    client = as_user(reviewer)
    assert client.get(f"/api/v1/batches/{ac225_batch.lot_number}/").status_code == 200
    response = client.post("/api/v1/results/", ph_result(ac225_batch, now))
    assert response.status_code == 403
    assert "QC analyst" in problem(response)["detail"]


def test_an_analyst_records_results_with_their_session(as_user, analyst, ac225_batch, now):
    response = as_user(analyst).post("/api/v1/results/", ph_result(ac225_batch, now), key=None)
    assert response.status_code == 201, response.content
    result = Result.objects.get(pk=response.json()["id"])
    assert result.recorded_by == analyst and result.instrument is None


def test_an_analyst_must_not_register_batches(as_user, analyst, products):
    response = as_user(analyst).post("/api/v1/batches/", {"lot_number": "X"})
    assert response.status_code == 403
    assert "production operator" in problem(response)["detail"]


def test_the_docs_and_schema_are_served_to_staff_without_a_cdn(as_user, reviewer):
    client = as_user(reviewer)
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    # A CDN shows as a host or path ("cdn.jsdelivr.net", "/cdn/"); the page's random CSRF token
    # may contain the letters "cdn" but never a dot or a slash.
    assert not re.search(r"cdn[./]", html, re.IGNORECASE) and "https://" not in html
    assert all(url.startswith("/") for url in re.findall(r'(?:src|href)="([^"]+)"', html))
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/results/", "/api/v1/results/bulk/", "/api/v1/batches/",
            "/api/v1/batches/{lot_number}/"} <= paths.keys()


def test_the_docs_static_files_ship_with_the_package():
    from django.contrib.staticfiles import finders

    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_staff_browse_the_api_in_their_session(as_user, reviewer, ac225_batch):
    client = as_user(reviewer)
    for path in ("/api/v1/batches/", f"/api/v1/batches/{ac225_batch.lot_number}/",
                 "/api/v1/batches/NO-SUCH-LOT/"):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response["Content-Type"].startswith("text/html"), path
        assert ac225_batch.lot_number in response.content.decode() or response.status_code == 404
