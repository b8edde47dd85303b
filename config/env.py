"""Strict readers for environment variables.

A GMP system must not start half-configured: every reader names the variable and
says what it accepts when a value is wrong.
"""

import base64
import binascii
import os
import re
from pathlib import Path
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
    options = config.get("OPTIONS", {})
    if "prepare_threshold" in options:
        options["prepare_threshold"] = _prepare_threshold(name, options["prepare_threshold"])
    return config


def _prepare_threshold(name: str, raw: str) -> int | None:
    """`?prepare_threshold=off` behind a pooler that cannot keep prepared statements."""
    if str(raw).strip().lower() in {"off", "none"}:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ImproperlyConfigured(
            f"{name}: prepare_threshold={raw!r} must be a whole number of runs (0 or more) "
            "before a statement is prepared, or 'off' (e.g. behind PgBouncer in transaction "
            "pooling mode).")
    return value


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


def env_secret_value(name: str, default: str = "") -> str:
    """A secret given as NAME, or in the file that NAME_FILE names (how Docker and Kubernetes
    hand out secrets: the value stays out of the environment and the process list). One
    trailing line break of the file is dropped."""
    value = env_str(name)
    file_name = env_str(f"{name}_FILE")
    if value and file_name:
        raise ImproperlyConfigured(
            f"{name} and {name}_FILE are both set; set one of them (the value itself, or the "
            "path of a file that holds it).")
    if not file_name:
        return value or default
    try:
        text = Path(file_name).read_text(encoding="utf-8")
    except OSError as exc:
        raise ImproperlyConfigured(
            f"{name}_FILE={file_name} cannot be read ({exc.strerror}); it must name a file "
            f"this service's user can read, holding {name}.") from None
    except UnicodeDecodeError:
        raise ImproperlyConfigured(f"{name}_FILE={file_name} is not UTF-8 text.") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise ImproperlyConfigured(f"{name}_FILE={file_name} is empty.")
    return text


def _pkcs12_problem(data: bytes) -> str | None:
    """Why `data` is not a PKCS#12 file, or None (its structure only: the passphrase is
    checked when the key is loaded, and /readyz reports it)."""
    from asn1crypto import pkcs12

    try:
        pfx = pkcs12.Pfx.load(data, strict=True)
        if pfx["version"].native != "v3":
            return f"version {pfx['version'].native}, not 3"
        if pfx["auth_safe"]["content_type"].native not in ("data", "signed_data"):
            return "no authenticated safe"
        pfx["auth_safe"]["content"].native  # noqa: B018 (parses the safe contents)
    except (ValueError, TypeError, KeyError) as exc:
        return str(exc).splitlines()[0][:120] or type(exc).__name__
    return None


def env_pkcs12(path_name: str, secret_name: str, default_path: str) -> tuple[str, bytes | None]:
    """The site's PKCS#12 identity: a file (path_name), or the file's bytes in base64 from a
    secret setting (secret_name, or secret_name_FILE). Returns (path, None) or ("", bytes)."""
    encoded = env_secret_value(secret_name)
    path = env_str(path_name)
    if not encoded:
        return path or default_path, None
    if path:
        raise ImproperlyConfigured(
            f"{path_name} and {secret_name} are both set; the signing identity comes from one "
            f"place. Unset {path_name} to use the identity in {secret_name}, or unset "
            f"{secret_name} to use the file.")
    try:
        data = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(
            f"{secret_name} is not base64; set it to the PKCS#12 file encoded as one line: "
            "base64 -w0 site-signing.p12") from None
    problem = _pkcs12_problem(data)
    if problem:
        raise ImproperlyConfigured(
            f"{secret_name} decodes to {len(data)} bytes that are not a PKCS#12 file "
            f"({problem}); set it to base64 -w0 of the .p12 file.")
    return "", data
