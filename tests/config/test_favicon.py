"""The site icon browsers ask for on every first page."""

import pytest

pytestmark = pytest.mark.django_db


def test_favicon_is_served_as_an_icon_without_logging_in(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # the ICO header
    assert "max-age=86400" in response["Cache-Control"]
