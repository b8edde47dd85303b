"""Where media (raw instrument data, certificates, source-lot certificates) live: the local
disk of one host, or S3-compatible object storage that every web and worker host shares."""

import re
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from .env import env_choice, env_str

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Collected static files are public (nginx serves them as www-data): 0644 files, 0755
# folders whatever the umask of the one collecting them (the units' UMask=0027 would make
# them unreadable), not the media's FILE_UPLOAD_PERMISSIONS (0640) they would fall back to.
STATIC = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
          "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755}}


def media_storages() -> dict:
    kind = env_choice("MEDIA_STORAGE", "filesystem", ("filesystem", "s3"))
    if kind == "filesystem":
        # Under MEDIA_ROOT, with FILE_UPLOAD_PERMISSIONS (settings.py).
        return {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": STATIC}
    bucket = env_str("MEDIA_S3_BUCKET")
    if not _BUCKET.match(bucket):
        raise ImproperlyConfigured(
            f"MEDIA_S3_BUCKET={bucket!r} is not a bucket name (3-63 lower-case letters, digits, "
            "dots and hyphens); MEDIA_STORAGE=s3 needs it.")
    endpoint = env_str("MEDIA_S3_ENDPOINT_URL")
    if endpoint and (urlparse(endpoint).scheme not in ("http", "https")
                     or not urlparse(endpoint).netloc):
        raise ImproperlyConfigured(
            f"MEDIA_S3_ENDPOINT_URL={endpoint!r} is not an http(s) URL; e.g. "
            "https://s3.eu-central-1.amazonaws.com or http://127.0.0.1:9000 (MinIO).")
    key, secret = env_str("MEDIA_S3_ACCESS_KEY_ID"), env_str("MEDIA_S3_SECRET_ACCESS_KEY")
    if bool(key) != bool(secret):
        raise ImproperlyConfigured(
            "MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY go together: set both, or "
            "neither to use the host's role or ~/.aws credentials.")
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint or None,
        "region_name": env_str("MEDIA_S3_REGION") or None,
        "access_key": key or None,
        "secret_key": secret or None,
        "location": env_str("MEDIA_S3_PREFIX").strip("/"),
        # Records are never overwritten: a second file of the same name gets a new name.
        "file_overwrite": False,
        "default_acl": None,  # the bucket's own policy: private
        "querystring_auth": True,
        "addressing_style": env_choice("MEDIA_S3_ADDRESSING_STYLE", "auto",
                                       ("auto", "path", "virtual")),
    }
    return {"default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
            "staticfiles": STATIC}
