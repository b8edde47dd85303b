"""The rules and the science: products, versioned specifications, instruments, audit trail,
electronic signatures. Knows nothing of batches."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from .append_only import AppendOnlyModel


class Family(models.TextChoices):
    GENERATOR_PB212 = "generator_pb212", "Generator 212Pb (on site)"
    GENERATOR_BI213 = "generator_bi213", "Generator 213Bi (on site)"
    CENTRAL_AC225 = "central_ac225", "Central 225Ac (shipped)"


class Product(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200, help_text="Name as on the label and certificate.")
    family = models.CharField(max_length=20, choices=Family.choices)
    nuclide = models.CharField(
        max_length=12, help_text="Product (therapeutic) nuclide, e.g. Ac-225; its decay chain "
        "drives every decay correction."
    )
    vector = models.CharField(max_length=100, help_text="Targeting molecule, e.g. PSMA-I&T.")
    dosage_form = models.CharField(max_length=100, default="solution for injection")
    shelf_life = models.DurationField(
        help_text="Approved shelf life counted from end of synthesis (EOS)."
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TestMethod(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SpecificationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    RETIRED = "retired", "Retired"


class Specification(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="specifications")
    version = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=SpecificationStatus.choices, default=SpecificationStatus.DRAFT,
        help_text="Only an approved version judges batches; an approved version is immutable "
        "and a change makes a new version.",
    )
    effective_from = models.DateTimeField(
        null=True, blank=True, help_text="Batches whose EOS is at or after this time use it."
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    change_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["product", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="spec_version_unique"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(effective_from__isnull=False),
                name="spec_approved_has_effective_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} v{self.version} ({self.status})"

    @property
    def is_locked(self) -> bool:
        return self.status != SpecificationStatus.DRAFT


class JudgedAt(models.TextChoices):
    MEASURED = "measured", "As measured"
    CALIBRATION = "calibration", "Decay-corrected to calibration time"
    EXPIRY = "expiry", "Projected to expiry"


class Quantity(models.TextChoices):
    PLAIN = "plain", "Plain value (no decay physics)"
    ACTIVITY = "activity", "Activity, as % of nominal at calibration"
    ACTIVITY_CONCENTRATION = "activity_concentration", "Activity concentration"
    BREAKTHROUGH = "breakthrough", "Breakthrough (recount), % of product at calibration"
    IMPURITY_RATIO = "impurity_ratio", "Long-lived impurity activity ratio"


class Validity(models.TextChoices):
    NONE = "none", "Always valid"
    DAUGHTER_EQUILIBRIUM = "daughter_equilibrium", "Daughter at a fraction of equilibrium"
    PRODUCT_HALF_LIVES = "product_half_lives", "After N half-lives of the product nuclide"
    RECOUNT_LINE = "recount_line", (
        "Recount once the product's own activity on the counted line is below a fraction of "
        "what the impurity at its limit supports")
    DAUGHTER_RATIO = "daughter_ratio", (
        "Equilibrium calibrator setting: valid once the daughter is within a tolerance of "
        "equilibrium")
    DAUGHTER_CORRECTION = "daughter_correction", (
        "Equilibrium calibrator setting: the reading corrected to the product with the "
        "daughter's state at the reading")
    COUNTING_WINDOW = "counting_window", (
        "Strip count: valid at once on the product's line, in a wide window once the "
        "daughter on the strip has renewed")


class Criterion(models.Model):
    specification = models.ForeignKey(
        Specification, on_delete=models.CASCADE, related_name="criteria"
    )
    position = models.PositiveSmallIntegerField(default=0)
    test_code = models.SlugField(max_length=40, help_text="Stable code instruments report under.")
    name = models.CharField(max_length=200)
    method = models.ForeignKey(TestMethod, null=True, blank=True, on_delete=models.PROTECT)
    unit = models.CharField(
        max_length=20, blank=True,
        help_text="Unit of the limits: %, Bq/mL, EU/mL, pH; empty for a text requirement.",
    )
    lower_limit = models.FloatField(null=True, blank=True)
    lower_inclusive = models.BooleanField(default=True)
    upper_limit = models.FloatField(null=True, blank=True)
    upper_inclusive = models.BooleanField(default=True)
    text_requirement = models.CharField(
        max_length=200, blank=True,
        help_text="Accepted text results separated by |, e.g. 'pass|conforms'. "
        "Empty for a numeric criterion.",
    )
    judged_at = models.CharField(
        max_length=12, choices=JudgedAt.choices, default=JudgedAt.MEASURED,
        help_text="The time the result is judged at: as measured, decay-corrected to the "
        "calibration time, or projected to expiry.",
    )
    quantity = models.CharField(max_length=24, choices=Quantity.choices, default=Quantity.PLAIN)
    impurity_nuclide = models.CharField(max_length=12, blank=True)
    impurity_with_progeny = models.BooleanField(
        default=False,
        help_text="Judge a long-lived impurity's share with its progeny grown in since the "
        "reference time (Ac-227 with Th-227 and Ra-223 and their daughters), not the parent "
        "alone.",
    )
    release_before_result = models.BooleanField(
        default=False,
        help_text="May release before result (e.g. sterility): allows a conditional release; "
        "the certificate lists the test as pending.",
    )
    validity = models.CharField(max_length=24, choices=Validity.choices, default=Validity.NONE)
    validity_nuclide = models.CharField(
        max_length=12, blank=True, help_text="Daughter whose equilibrium makes a count valid "
        "(or corrects a calibrator reading); for a breakthrough recount, the nuclide whose "
        "gamma line is counted (e.g. Pb-212 for 238.6 keV)."
    )
    validity_value = models.FloatField(
        null=True, blank=True,
        help_text="Equilibrium fraction (e.g. 0.99), number of product half-lives, or for a "
        "recount the largest share (e.g. 0.1) the product's own activity on the counted line "
        "may have of what the impurity at its limit supports; for an equilibrium calibrator "
        "setting the tolerance (e.g. 0.02) or, when corrected, the product's own share of the "
        "equilibrium reading (e.g. 0.1); for a strip count in a wide window the share (e.g. "
        "0.1) of the impurity at the limit the daughter may move.",
    )
    earliest_after = models.DurationField(
        null=True, blank=True,
        help_text="The earliest a result can exist, counted from EOS: the method's incubation "
        "or wait, e.g. 14 days for sterility (Ph. Eur. 2.6.1 incubates 14 days). A result "
        "measured earlier is refused. Empty: from EOS.",
    )

    class Meta:
        ordering = ["specification", "position", "id"]
        verbose_name_plural = "criteria"
        constraints = [
            models.UniqueConstraint(
                fields=["specification", "test_code"], name="criterion_code_unique_per_spec"
            ),
            models.CheckConstraint(
                condition=Q(lower_limit__isnull=True)
                | Q(upper_limit__isnull=True)
                | Q(lower_limit__lte=models.F("upper_limit")),
                name="criterion_limits_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.test_code}: {self.name}"

    @property
    def is_text(self) -> bool:
        return bool(self.text_requirement)


class InstrumentKind(models.TextChoices):
    DOSE_CALIBRATOR = "dose_calibrator", "Dose calibrator"
    HPGE = "hpge", "HPGe gamma spectrometer"
    NAI = "nai", "NaI gamma counter"
    RADIO_TLC = "radio_tlc", "Radio-TLC scanner"
    HPLC = "hplc", "Radio-HPLC"
    ENDOTOXIN_READER = "endotoxin_reader", "Endotoxin reader"
    PH_METER = "ph_meter", "pH meter"
    SYNTHESIS_MODULE = "synthesis_module", "Synthesis module"
    OTHER = "other", "Other"


class Instrument(models.Model):
    serial = models.CharField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=InstrumentKind.choices)
    calibration_due = models.DateField(
        help_text="Results measured after this date are refused until the instrument is "
        "recalibrated."
    )
    in_service = models.BooleanField(default=True)
    qualified_test_codes = models.JSONField(
        default=list, blank=True,
        help_text="Test codes the instrument is qualified to report (installation, operational "
        "and performance qualification for the method; EU GMP Annex 15). Results and API keys "
        "for other tests are refused. Changed only through instrument_qualify (audited).",
    )

    class Meta:
        ordering = ["serial"]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial})"


class AuditEvent(AppendOnlyModel):
    """One entry of the hash-chained audit trail (21 CFR 11.10(e))."""

    at = models.DateTimeField(help_text="Server time (UTC) of the change.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, help_text="Username or instrument key.")
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60)
    batch_lot = models.CharField(
        max_length=40, blank=True, db_index=True,
        help_text="Lot number the event concerns, for the per-batch trail.",
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """A single row locked by every audit write so that the chain stays linear."""

    last_hash = models.CharField(max_length=64)
    count = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.count} events, last {self.last_hash[:12]}"


class Meaning(models.TextChoices):
    AUTHORED = "authored", "Authored"
    REVIEWED = "reviewed", "Reviewed"
    APPROVED = "approved", "Approved"
    RELEASED = "released", "Released"
    CONDITIONALLY_RELEASED = "conditionally_released", "Conditionally released"
    REJECTED = "rejected", "Rejected"
    INVALIDATED = "invalidated", "Invalidated"


class Signature(AppendOnlyModel):
    """An electronic signature (21 CFR 11.50, 11.70): who, when, what it means, and a hash
    of exactly what was signed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=150)
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=24, choices=Meaning.choices)
    comment = models.TextField(blank=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60)
    record_sha256 = models.CharField(
        max_length=64, help_text="SHA-256 of the canonical record as signed."
    )

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.printed_name}: {self.get_meaning_display()} {self.signed_at:%Y-%m-%d %H:%M}"


class SigningLock(models.Model):
    """Consecutive failed signature attempts; locked users cannot sign until unlocked."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signing_lock"
    )
    failures = models.PositiveSmallIntegerField(default=0, validators=[MinValueValidator(0)])
    locked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.user}: {self.failures} failures{' (locked)' if self.locked else ''}"


class InstrumentApiKey(models.Model):
    """An instrument's API key: shown once, stored as a SHA-256 hash, bound to one instrument
    and to the test codes it may report."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="api_keys")
    prefix = models.CharField(max_length=12, unique=True,
                              help_text="First characters of the key, to identify it in logs.")
    key_hash = models.CharField(max_length=64, unique=True)
    test_codes = models.JSONField(default=list, blank=True,
                                  help_text="Test codes the instrument may report; empty = none.")
    can_register_batches = models.BooleanField(default=False)
    read_scopes = models.JSONField(
        default=list, blank=True,
        help_text="What the key may read beyond the lots and criteria it reports on: "
        "read_certificates (release certificates), read_batch_records (a lot's whole record: "
        "every result, evaluation and raw data). Empty = neither.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["instrument", "-created_at"]
        verbose_name = "instrument API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.instrument.serial})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# Stability protocols live beside the statistics they feed; importing them here registers them.
from qc.stability.models import (  # noqa: E402, F401
    StabilityCriterion,
    StabilityProtocol,
    StabilityTimePoint,
)
