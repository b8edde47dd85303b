"""Control characters in a URL's name part (a serial, a product code)
name nothing: the URL does not resolve and the answer is a 404, on PostgreSQL too (it refuses
a NUL in a query, which was a 500)."""

import pytest
from django.urls import Resolver404, resolve

pytestmark = pytest.mark.django_db

PATHS = ["/sources/generators/{}/", "/instruments/{}/", "/instruments/{}/keys/",
         "/instruments/GC-1/keys/{}/revoke/", "/api/v1/products/{}/stability/"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", ["A\x00B", "\x00", "x\x1b[31m", "tab\there", "del\x7f"])
def test_a_control_character_in_a_name_resolves_to_nothing(path, name):
    with pytest.raises(Resolver404):
        resolve(path.format(name))


@pytest.mark.parametrize("path", ["/sources/generators/A%00B/", "/instruments/%00/"])
def test_a_nul_in_a_serial_is_a_404_page(client, qp, path):
    client.force_login(qp)
    assert client.get(path).status_code == 404


def test_a_plain_serial_still_resolves():
    assert resolve("/instruments/GC-1/").kwargs == {"serial": "GC-1"}
