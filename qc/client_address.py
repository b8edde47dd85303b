"""The client's address as the audit trail records it.

Behind a reverse proxy REMOTE_ADDR is the proxy. Each proxy appends the address it was
connected from to X-Forwarded-For, so only the last TRUSTED_PROXY_COUNT entries were written
by proxies of this site; everything to their left is whatever the client sent and is never
believed. With TRUSTED_PROXY_COUNT = 0 (the default) the header is ignored."""

import ipaddress

from django.conf import settings


def _address(text: str) -> str | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1:text.index("]")]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The address the nearest untrusted hop connected from: REMOTE_ADDR when no proxy is
    trusted, else the X-Forwarded-For entry the outermost trusted proxy wrote. A header
    with fewer entries than trusted proxies (the request did not come through them all) or
    an entry that is no address falls back to REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if part.strip()]
    if len(forwarded) < count:
        return remote
    return _address(forwarded[-count]) or remote
