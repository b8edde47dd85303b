"""Run by test_plain_drf.py in a process of its own, with ALPHARELEASE_BENCH_PLAIN_DRF on (an
installed app can't be switched on inside a running test session): migrates a fresh SQLite
database, posts to the plain DRF create with and without a token, prints what it saw as JSON."""

import json

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from bench.plaindrf.models import PlainResult  # noqa: E402

call_command("migrate", "auth", verbosity=0)
call_command("migrate", "authtoken", verbosity=0)
call_command("migrate", "bench_plaindrf", verbosity=0)
user = get_user_model().objects.create_user("bench-instrument", password=None)
token = Token.objects.create(user=user)
body = {"lot_number": "BENCH-001", "test_code": "ph", "value": 7.2, "unit": "pH",
        "measured_at": "2026-01-05T09:30:00+01:00"}
client = Client()
url = "/bench/plain-drf/results/"
created = client.post(url, body, content_type="application/json",
                      headers={"Authorization": f"Token {token.key}"})
anonymous = client.post(url, body, content_type="application/json")
wrong = client.post(url, body, content_type="application/json",
                    headers={"Authorization": "Token not-a-token"})
bad = client.post(url, {**body, "value": "seven", "measured_at": "yesterday"},
                  content_type="application/json",
                  headers={"Authorization": f"Token {token.key}"})
rows = [{"lot_number": r.lot_number, "test_code": r.test_code, "value": r.value,
         "unit": r.unit, "measured_at": r.measured_at.isoformat(),
         "recorded_by": r.recorded_by.username} for r in PlainResult.objects.all()]
print(json.dumps({
    "created": created.status_code, "anonymous": anonymous.status_code,
    "anonymous_challenge": anonymous.headers.get("WWW-Authenticate"),
    "wrong": wrong.status_code, "bad": bad.status_code, "bad_fields": sorted(bad.json()),
    "rows": rows,
}))
