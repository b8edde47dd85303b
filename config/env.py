"""Strict readers for environment variables.

A GMP system must not start half-configured: every reader names the variable and
says what it accepts when a value is wrong.
"""

import os
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """An empty variable counts as unset (`DATABASE_URL= make demo` uses the default)."""
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of true/false, yes/no, on/off, 1/0."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of: {', '.join(choices)}.")
    return value


def env_time_zone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a known time zone; use an IANA name such as "
            "Europe/Amsterdam or UTC."
        ) from None
    return value


def env_database(name: str, default: str) -> dict:
    import dj_database_url

    raw = env_str(name, default)
    try:
        config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a database URL ({exc}); use e.g. "
            "postgres://user@127.0.0.1:5432/alpharelease or sqlite:///path/to/db.sqlite3."
        ) from None
    if not config.get("ENGINE") or not config.get("NAME"):
        raise ImproperlyConfigured(f"{name}={raw!r} names no database.")
    return config


_OVERRIDE = re.compile(r"^\s*[A-Za-z]{1,2}-?\d{1,3}m?\s*=\s*\d+(\.\d+)?\s*(s|min|h|d|y)\s*$")


def env_half_life_overrides(name: str) -> str:
    """Checked here so a typo stops startup; converted by the decay engine when first used."""
    raw = env_str(name)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        if not _OVERRIDE.match(item):
            raise ImproperlyConfigured(
                f"{name}: {item!r} must look like NUCLIDE=HALF-LIFE with a unit of s, min, h, "
                "d or y, e.g. Ac-225=9.920d; separate several with commas."
            )
    return raw


def env_float(name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={value:g} must be between {minimum:g} and "
                                   f"{maximum:g}.")
    return value


def env_networks(name: str) -> list:
    """Comma-separated addresses or networks, e.g. 127.0.0.1,10.0.0.0/8,::1."""
    import ipaddress

    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an IP address or network; use e.g. "
                "127.0.0.1,10.0.0.0/8 (comma-separated).") from None
    return networks


def env_secret(name: str, *, min_length: int) -> str:
    """An optional secret: unset is allowed, a short one is not."""
    value = env_str(name)
    if value and len(value) < min_length:
        raise ImproperlyConfigured(
            f"{name} is {len(value)} characters long; use at least {min_length} random "
            "characters (python -c 'import secrets; print(secrets.token_urlsafe(32))').")
    return value


def env_email_backend(name: str, default: str) -> str:
    """A dotted path to a Django e-mail backend that imports (a typo would otherwise only show
    when the first out-of-specification alert fails to go out)."""
    from django.utils.module_loading import import_string

    value = env_str(name, default)
    try:
        import_string(value)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"{name}={value!r} cannot be imported ({exc}); use e.g. "
            "django.core.mail.backends.smtp.EmailBackend.") from None
    return value


def env_url(name: str, default: str) -> str:
    """An absolute http(s) base URL without a trailing slash, or "" when unset."""
    from urllib.parse import urlsplit

    raw = env_str(name, default)
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a base URL; use the address people open the site at, "
            "e.g. https://release.example-radiopharmacy.nl (http or https, no query)."
        )
    return raw.rstrip("/")
