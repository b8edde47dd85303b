"""Instrument API keys as a DRF authentication: the request acts as the instrument's system
account, and request.auth is the key (its scope and its name for the audit trail)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from qc.api_keys import api_key_verify
from qc.models import InstrumentApiKey


class InstrumentKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def _presented_key(self, request) -> str | None:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() == self.keyword.lower():
                return value.strip()
        value = request.headers.get("X-Api-Key")
        return value.strip() if value is not None else None

    def authenticate(self, request):
        presented = self._presented_key(request)
        if presented is None:
            return None
        verified = api_key_verify(presented)
        if verified is None:
            raise exceptions.AuthenticationFailed(
                "This API key is unknown or has been revoked; ask an administrator for a new "
                "key for the instrument.")
        return verified.account, verified.key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="alpharelease"'


def request_key(request) -> InstrumentApiKey | None:
    return request.auth if isinstance(request.auth, InstrumentApiKey) else None


class InstrumentKeyScheme(OpenApiAuthenticationExtension):
    target_class = InstrumentKeyAuthentication
    name = ["instrumentKey", "instrumentKeyHeader"]

    def get_security_requirement(self, auto_schema):
        # Either header carries the key (OR, not AND).
        return [{"instrumentKey": []}, {"instrumentKeyHeader": []}]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer",
             "description": "Instrument API key: `Authorization: Bearer ark_…`."},
            {"type": "apiKey", "in": "header", "name": "X-Api-Key",
             "description": "Instrument API key in the X-Api-Key header."},
        ]
