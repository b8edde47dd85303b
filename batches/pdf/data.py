"""The plain values a release certificate is drawn from (built by batches.certificates)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

PaperSize = Literal["A4", "Letter"]
Verdict = Literal["pass", "fail", "pending"]
Disposition = Literal["released", "conditionally released"]

PENDING_CONSEQUENCE = (
    "If a pending test fails, the batch is flagged post-release out of specification "
    "(OOS), the Qualified Person and the receiving clinic are notified at once, and the "
    "batch is recalled."
)


@dataclass(frozen=True)
class GeneratorSource:
    serial: str
    parent_nuclide: str
    eluted_at: datetime
    eluate_activity_bq: float


@dataclass(frozen=True)
class AcSourceLot:
    """A 225Ac source lot; the Ac-227 share is stated at the supplier's reference time."""

    supplier: str
    lot: str
    production_route: str
    ac227_share_percent: float
    reference_time: datetime


@dataclass(frozen=True)
class CriterionRow:
    test: str
    method: str
    specification: str
    result: str  # as measured, with units, or a word ("clear, colourless")
    measured_at: datetime | None
    judged_at_label: str  # "measured", "calibration", "expiry"
    judged_at: datetime | None = None
    judged_value: str | None = None  # decay-corrected or projected value
    verdict: Verdict = "pass"


@dataclass(frozen=True)
class DecayTable:
    times: tuple[datetime, ...]
    activities_bq: Mapping[str, Sequence[float]]  # nuclide ("Ac-225") -> one per time


@dataclass(frozen=True)
class SignatureLine:
    printed_name: str
    role: str  # "Qualified Person"
    meaning: str  # "released", "reviewed"
    signed_at: datetime


@dataclass(frozen=True)
class CertificateData:
    site_name: str
    site_address: str
    product_name: str
    dosage_form: str
    product_nuclide: str  # "Ac-225"
    family_label: str
    lot_number: str
    document_id: str
    version: int
    source: GeneratorSource | AcSourceLot
    eos: datetime
    calibration_time: datetime
    expiry: datetime
    activity_at_calibration_bq: float
    volume_ml: float
    activity_concentration_bq_per_ml: float
    criteria: tuple[CriterionRow, ...]
    decay: DecayTable
    disposition: Disposition
    disposition_statement: str
    signatures: tuple[SignatureLine, ...]
    nuclear_data_source: str
    expiry_reason: str = "approved shelf life"
    # whether stability data support the shelf life (batches.stability.selectors)
    shelf_life_support: str = ""
    supersedes_version: int | None = None
    paper_size: PaperSize = "A4"
    time_zone: str = "UTC"
    pending_tests: tuple[str, ...] = ()
    pending_consequence: str = PENDING_CONSEQUENCE
    half_life_overrides: tuple[str, ...] = field(default_factory=tuple)
    verify_url: str = ""  # the verify page for this document; "" draws no QR code

    @property
    def document_label(self) -> str:
        """The document id, with its version unless the id already ends in it ("-v2")."""
        if self.document_id.endswith(f"-v{self.version}"):
            return self.document_id
        return f"{self.document_id} version {self.version}"
