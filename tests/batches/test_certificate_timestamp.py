"""With SIGNING_TSA_URL set, the certificate's signature carries an RFC 3161 timestamp.

The time-stamping authority is a real HTTP server on loopback that answers with pyHanko's
test TSA, so the request, the network round trip and the embedding are all exercised."""

import io
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asn1crypto import keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from batches.pdf.signing import load_signer, sign_pdf, verify_pdf
from tests.batches.test_certificate_signing import (  # noqa: F401 - fixtures
    PASSPHRASE,
    STAMP_LINES,
    site,
    site_cert,
    unsigned_pdf,
)


def _tsa_identity() -> tuple[asn1_x509.Certificate, keys.PrivateKeyInfo]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loopback test TSA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return (asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
            keys.PrivateKeyInfo.load(key_der))


@pytest.fixture(scope="module")
def tsa():
    """An RFC 3161 time-stamping authority on 127.0.0.1; yields (url, its certificate, log)."""
    cert, key = _tsa_identity()
    stamper = DummyTimeStamper(tsa_cert=cert, tsa_key=key)
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append(self.headers.get("Content-Type", ""))
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/tsa", cert, requests
    server.shutdown()


@pytest.fixture(scope="module")
def timestamped_pdf(site, unsigned_pdf, tsa):  # noqa: F811 - fixtures imported above
    url, _, _ = tsa
    return sign_pdf(unsigned_pdf, signer=load_signer(site[0], PASSPHRASE), reason="QP release",
                    location="Amsterdam, NL", stamp_text_lines=STAMP_LINES, tsa_url=url)


def test_the_signer_asks_the_configured_tsa_for_a_timestamp(timestamped_pdf, tsa):
    _, _, requests = tsa
    assert requests and requests[0] == "application/timestamp-query"


def test_the_signature_carries_a_timestamp_token_that_validates_against_the_tsa(
        timestamped_pdf, site, tsa):  # noqa: F811
    _, tsa_cert, _ = tsa
    site_der = x509.load_pem_x509_certificate(site[1].read_bytes()).public_bytes(
        serialization.Encoding.DER)
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(site_der), tsa_cert],
                                allow_fetching=False)
    signature = PdfFileReader(io.BytesIO(timestamped_pdf)).embedded_signatures[0]
    status = validate_pdf_signature(signature, context)
    stamp = status.timestamp_validity
    assert stamp is not None, "no signature timestamp was embedded"
    assert stamp.intact and stamp.valid and stamp.trusted
    assert abs(stamp.timestamp - datetime.now(UTC)) < timedelta(minutes=5)


def test_a_timestamped_certificate_still_verifies_against_the_site_certificate(
        timestamped_pdf, site):  # noqa: F811
    report = verify_pdf(timestamped_pdf, site_cert(site))
    assert report.ok, report.summary
