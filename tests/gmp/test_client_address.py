"""Behind the reverse proxy, logins are recorded (and locked out) from the client's address:
X-Forwarded-For is believed only through the configured number of trusted proxies, so an
address the client writes into the header itself is never taken."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from qc.client_address import client_ip
from qc.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
PROXY = "127.0.0.1"  # nginx on the same host
SPOOFED = "6.6.6.6"


def request_from(remote=PROXY, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize("proxies, remote, forwarded, expected", [
    (0, PROXY, f"{SPOOFED}, 203.0.113.9", PROXY),  # no proxy trusted: the header is ignored
    (0, "203.0.113.9", SPOOFED, "203.0.113.9"),
    (1, PROXY, "203.0.113.9", "203.0.113.9"),
    (1, PROXY, f"{SPOOFED}, 203.0.113.9", "203.0.113.9"),  # the client's own entry is skipped
    (1, PROXY, f"{SPOOFED},{SPOOFED}, 203.0.113.9", "203.0.113.9"),
    (2, PROXY, f"{SPOOFED}, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
    (2, PROXY, "10.0.0.2", PROXY),  # fewer entries than proxies: not through them all
    (1, PROXY, None, PROXY),
    (1, PROXY, "", PROXY),
    (1, PROXY, f"{SPOOFED}, not-an-address", PROXY),
    (1, PROXY, f"{SPOOFED}, 203.0.113.9\x00", PROXY),
    (1, PROXY, "2001:db8::7", "2001:db8::7"),
    (1, PROXY, "[2001:db8::7]:4431", "2001:db8::7"),
])
def test_the_client_address_is_taken_only_through_trusted_proxies(settings, proxies, remote,
                                                                  forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(request_from(remote, forwarded)) == expected


def test_a_login_behind_the_proxy_is_recorded_from_the_client_not_the_proxy(settings,
                                                                           analyst):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{SPOOFED}, 203.0.113.9")
    client.post(reverse("login"), {"username": "ana", "password": "wrong"})
    client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    for action in ("auth.login_failed", "auth.login"):
        assert AuditEvent.objects.get(action=action).after["ip_address"] == "203.0.113.9"


def test_without_a_trusted_proxy_a_spoofed_header_is_not_recorded(settings, analyst):
    settings.TRUSTED_PROXY_COUNT = 0
    Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=SPOOFED).post(
        reverse("login"), {"username": "ana", "password": "wrong"})
    assert AuditEvent.objects.get(action="auth.login_failed").after["ip_address"] == (
        "203.0.113.9")


def test_the_lockout_follows_the_client_whatever_it_writes_into_the_header(settings,
                                                                          analyst):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):  # a new spoofed address each time does not escape the count
        Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.9").post(
            reverse("login"), {"username": "ana", "password": "wrong"})
    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="10.9.9.99, 203.0.113.9")
    assert attacker.post(reverse("login"), {"username": "ana", "password": PASSWORD}
                         ).status_code == 429
    lockouts = AuditEvent.objects.filter(action="auth.lockout")
    assert lockouts and {e.after["ip_address"] for e in lockouts} == {"203.0.113.9"}
    # Another client behind the same proxy is not locked out by it.
    colleague = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert colleague.post(reverse("login"), {"username": "ana", "password": PASSWORD}
                          ).status_code == 302


@pytest.mark.parametrize("username", ["ana%00", "%ED%A0%80", "a" * 5000, "ana%0D%0Aroot"])
def test_a_hostile_username_at_login_is_refused_or_recorded_never_a_crash(client, analyst,
                                                                         username):
    from qc.audit import verify_chain

    response = client.post(reverse("login"), f"username={username}&password=x",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert verify_chain().ok
