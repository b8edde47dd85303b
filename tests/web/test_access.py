"""Every page renders for each role that may see it; everyone else gets 403, and a visitor
who is not logged in is sent to the login page."""

import pytest
from django.urls import reverse

from batches.models import Elution, SourceLot
from qc.models import Instrument, Specification
from tests.factories import make_instrument

pytestmark = pytest.mark.django_db

STAFF = {"operator", "analyst", "reviewer", "qp", "admin_user"}
QA = {"reviewer", "qp"}


@pytest.fixture
def site(products, settled_ac225, pb212_batch):
    """One of everything a page can show."""
    instrument = make_instrument()
    lot = SourceLot.objects.first()
    elution = Elution.objects.select_related("generator").first()
    spec = Specification.objects.get(product__code="ac225-psma-it")
    rcp = settled_ac225.specification.criteria.get(test_code="rcp")
    ac227 = settled_ac225.results.get(criterion__test_code="ac227-share")
    lot_no = settled_ac225.lot_number
    return [
        # (url, roles that may open it)
        (reverse("dashboard"), STAFF),
        (reverse("dashboard-live"), STAFF),
        (reverse("batch-list"), STAFF),
        (reverse("batch-list") + "?status=registered&product=ac225-psma-it&q=AC", STAFF),
        (reverse("batch-register"), {"operator"}),
        (reverse("batch-source-info") + f"?source=lot:{lot.pk}", STAFF),
        (reverse("batch-source-info") + f"?source=elution:{elution.pk}", STAFF),
        (reverse("batch-detail", args=[lot_no]), STAFF),
        (reverse("batch-detail", args=[pb212_batch.lot_number]), STAFF),
        (reverse("batch-live", args=[lot_no]), STAFF),
        (reverse("batch-results", args=[lot_no]), STAFF),
        (reverse("batch-certificates", args=[lot_no]), STAFF),
        (reverse("batch-audit", args=[lot_no]), QA),
        (reverse("result-record", args=[lot_no, rcp.test_code]), {"analyst"}),
        (reverse("result-correct", args=[lot_no, ac227.pk]), {"analyst", "reviewer"}),
        (reverse("result-invalidate", args=[lot_no, ac227.pk]), {"reviewer"}),
        (reverse("batch-review", args=[lot_no]), {"reviewer"}),
        (reverse("batch-release", args=[lot_no]), {"qp"}),
        (reverse("batch-release-conditionally", args=[lot_no]), {"qp"}),
        (reverse("batch-reject", args=[lot_no]), {"qp"}),
        (reverse("specification-list"), STAFF),
        (reverse("specification-detail", args=[spec.pk]), STAFF),
        (reverse("specification-draft", args=["ac225-psma-it"]), QA),
        (reverse("specification-approve", args=[spec.pk]), QA),
        (reverse("specification-author", args=[spec.pk]), QA),
        (reverse("criterion-add", args=[spec.pk]), QA),
        (reverse("criterion-edit", args=[spec.pk, rcp.pk]), QA),
        (reverse("source-list"), STAFF),
        (reverse("generator-detail", args=[elution.generator.serial]), STAFF),
        (reverse("generator-detail", args=[elution.generator.serial]) + "?at=2030-01-01T08:00",
         STAFF),
        (reverse("lot-detail", args=[lot.lot_number]), STAFF),
        (reverse("lot-detail", args=[lot.lot_number]) + "?at=2030-01-01T08:00", STAFF),
        (reverse("instrument-list"), STAFF),
        (reverse("instrument-detail", args=[instrument.serial]), STAFF),
        (reverse("audit-trail"), QA),
        (reverse("audit-trail") + "?action=batch&lot=" + lot_no, QA),
        (reverse("audit-export"), QA),
    ]


@pytest.mark.parametrize("persona", sorted(STAFF | {"outsider"}))
def test_each_page_renders_for_the_roles_that_may_see_it_and_refuses_the_others(
        request, persona, site, client_for):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    for url, roles in site:
        response = client.get(url)
        expected = 200 if persona in roles else 403
        assert response.status_code == expected, (persona, url, response.status_code)
        if expected == 403:
            assert b"Not allowed" in response.content, url


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(site, client):
    for url, _ in site:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url


def test_a_background_poll_after_logout_reloads_the_page_instead_of_swapping_in_the_login(
        client, settled_ac225):
    response = client.get(reverse("dashboard-live"), HTTP_HX_REQUEST="true",
                          HTTP_HX_CURRENT_URL="http://testserver/")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/?next=http%3A%2F%2Ftestserver%2F"


def test_posts_that_change_records_are_refused_to_the_wrong_role(
        site, settled_ac225, client_for, analyst, operator):
    lot_no = settled_ac225.lot_number
    analyst_client = client_for(analyst)
    for name in ("batch-review", "batch-release", "batch-release-conditionally", "batch-reject"):
        response = analyst_client.post(reverse(name, args=[lot_no]),
                                       {"password": "x", "reason": "x", "comment": "x"})
        assert response.status_code == 403, name
    instrument = Instrument.objects.first()
    response = client_for(operator).post(reverse("api-key-create", args=[instrument.serial]),
                                         {"test_codes": ["ph"]})
    assert response.status_code == 403
    assert not instrument.api_keys.exists()
    settled_ac225.refresh_from_db()
    assert settled_ac225.status == "registered"
