"""Certificate render and PAdES sign timings: medians over 50 runs.

A conditionally released 225Ac certificate with 15 criteria and a decay chart, signed
with an RSA-3072 site identity loaded once (as a worker process would).

    python bench/bench_certificate.py
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from batches.pdf.render import render_certificate  # noqa: E402
from batches.pdf.signing import create_signing_identity, load_signer, sign_pdf  # noqa: E402
from tests.batches.test_certificate_pdf import make_certificate_data  # noqa: E402

RUNS = 50
PASSPHRASE = b"bench"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    data = make_certificate_data()
    assert len(data.criteria) == 15
    with tempfile.TemporaryDirectory() as directory:
        p12, _ = create_signing_identity(
            Path(directory) / "site.p12", PASSPHRASE, "Bench site seal", "Bench"
        )
        signer = load_signer(p12, PASSPHRASE)
        stamp = [
            "Conditionally released by Dr. Q. Person (Qualified Person)",
            "2025-03-30 09:52 UTC, lot AC-2025-0330-01",
        ]

        def sign(pdf: bytes) -> bytes:
            return sign_pdf(
                pdf,
                signer=load_signer(p12, PASSPHRASE),
                reason="QP release",
                location="Amsterdam",
                stamp_text_lines=stamp,
            )

        sign(render_certificate(data))  # warm up: font registration, imports
        render, signing, both = [], [], []
        for _ in range(RUNS):
            start = time.perf_counter()
            pdf = render_certificate(data)
            rendered = time.perf_counter()
            sign(pdf)
            done = time.perf_counter()
            render.append(rendered - start)
            signing.append(done - rendered)
            both.append(done - start)
        assert signer is load_signer(p12, PASSPHRASE)

    print(f"certificate_render_ms: {median_ms(render):.1f}")
    print(f"certificate_sign_ms: {median_ms(signing):.1f}")
    print(f"certificate_render_plus_sign_ms: {median_ms(both):.1f}")
    print(f"certificate_bytes: {len(pdf)}")


if __name__ == "__main__":
    main()
