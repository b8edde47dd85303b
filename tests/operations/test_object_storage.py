"""Media in S3-compatible object storage (django-storages), against a local S3 endpoint
(moto's server) that the test starts: raw data posted by an instrument and a signed
certificate are stored in the bucket and read back through the API."""

import hashlib
import json
import uuid
from datetime import timedelta

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from batches.certificates.verify import certificate_verify
from batches.models import RawDataFile
from config.storage import media_storages
from qc.api_keys import api_key_create
from qc.models import InstrumentKind
from tests.batches.test_certificate_issue import issue
from tests.factories import make_instrument, record_release_required_results

pytestmark = pytest.mark.django_db
BUCKET = "alpharelease-media"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing-secret"}


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch, tmp_path):
    """The site configured as an operator would: MEDIA_STORAGE=s3 and its variables."""
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)
    name = f"{BUCKET}-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    for variable, value in {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": name,
                            "MEDIA_S3_ENDPOINT_URL": s3_endpoint, "MEDIA_S3_REGION": "us-east-1",
                            "MEDIA_S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
                            "MEDIA_S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
                            "MEDIA_S3_PREFIX": "site-a"}.items():
        monkeypatch.setenv(variable, value)
    settings.STORAGES = media_storages()
    settings.MEDIA_ROOT = tmp_path / "local-media-unused"
    return s3, name


def stored(s3, bucket: str, name: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=f"site-a/{name}")["Body"].read()


def test_raw_data_posted_by_an_instrument_lands_in_the_bucket_and_reads_back(
        bucket, ac225_batch, admin_user, now, settings):
    s3, name = bucket
    tlc = make_instrument(kind=InstrumentKind.RADIO_TLC, serial="TLC-S3")
    _, key = api_key_create(actor=admin_user, instrument=tlc, test_codes=["rcp"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    content = b"position_mm,counts\n10,120\n55,98000\n"
    response = client.post("/api/v1/results/", {
        "lot_number": ac225_batch.lot_number, "test_code": "rcp", "value": "97.5", "unit": "%",
        "measured_at": (now - timedelta(minutes=1)).isoformat(),
        "method_times": json.dumps({"developed_at": (now - timedelta(minutes=45)).isoformat()}),
        "raw_data": SimpleUploadedFile("scan.csv", content, content_type="text/csv"),
    }, format="multipart", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 201, response.content
    raw = RawDataFile.objects.get(sha256=hashlib.sha256(content).hexdigest())
    assert stored(s3, name, raw.file.name) == content
    assert raw.file.read() == content
    assert not settings.MEDIA_ROOT.exists()  # nothing on this host's disk


def test_a_signed_certificate_is_stored_in_the_bucket_and_downloads_intact(
        bucket, signing_identity, ac225_batch, analyst, qp, now, committed, client, settings):
    s3, name = bucket
    with committed():
        record_release_required_results(ac225_batch, analyst, now=now)
    certificate = issue(ac225_batch, qp, committed)
    in_bucket = stored(s3, name, certificate.pdf.name)
    assert hashlib.sha256(in_bucket).hexdigest() == certificate.signed_sha256
    client.force_login(qp)
    response = client.get(f"/api/v1/batches/{ac225_batch.lot_number}/certificate/")
    assert response.status_code == 200
    downloaded = b"".join(response.streaming_content)
    assert downloaded == in_bucket
    assert certificate_verify(downloaded).current
    assert not settings.MEDIA_ROOT.exists()


def test_a_stored_certificate_is_never_overwritten_by_a_file_of_the_same_name(bucket):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    s3, name = bucket
    first = default_storage.save("certificates/AC-1/CoR-AC-1-v1.pdf", ContentFile(b"first"))
    second = default_storage.save("certificates/AC-1/CoR-AC-1-v1.pdf", ContentFile(b"second"))
    assert first != second
    assert stored(s3, name, first) == b"first" and stored(s3, name, second) == b"second"


@pytest.mark.django_db(transaction=True)
def test_a_backup_takes_the_media_from_the_bucket(bucket, tmp_path, signing_identity):
    import tarfile

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from batches.operations.backup import backup_create

    default_storage.save("raw-data/ab/abc", ContentFile(b"counts"))
    report = backup_create(output_dir=tmp_path / "backups")
    with tarfile.open(report.path, "r:gz") as archive:
        assert archive.extractfile("media/raw-data/ab/abc").read() == b"counts"
