"""The records: sources, batches, results, evaluations, certificates. Built on qc."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from qc.append_only import AppendOnlyModel
from qc.entered import derived_text, number_of_entered_text, significant_figures
from qc.formatting import measured_text
from qc.models import Criterion, Instrument, Product, Specification

from .records.lots import validate_lot_number


class GeneratorKind(models.TextChoices):
    RA224_PB212 = "ra224_pb212", "224Ra/212Pb generator"
    AC225_BI213 = "ac225_bi213", "225Ac/213Bi generator"


class Generator(models.Model):
    kind = models.CharField(max_length=12, choices=GeneratorKind.choices)
    serial = models.CharField(max_length=60, unique=True)
    parent_nuclide = models.CharField(max_length=12, help_text="Nuclide loaded on the column.")
    loaded_activity_bq = models.FloatField(help_text="Parent activity at the reference time.")
    loaded_at = models.DateTimeField(help_text="Reference time of the loaded activity.")
    supplier = models.CharField(max_length=200)
    expires_on = models.DateField()

    class Meta:
        ordering = ["serial"]
        constraints = [
            models.CheckConstraint(condition=Q(loaded_activity_bq__gt=0),
                                   name="generator_activity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial}"

    @property
    def product_nuclide(self) -> str:
        return "Pb-212" if self.kind == GeneratorKind.RA224_PB212 else "Bi-213"


class Elution(models.Model):
    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="elutions")
    eluted_at = models.DateTimeField()
    activity_bq = models.FloatField(help_text="Eluate (product nuclide) activity at elution.")
    volume_ml = models.FloatField(null=True, blank=True,
                                  help_text="Eluate volume, in mL (empty on elutions recorded "
                                  "before it was asked).")
    entered_activity = models.CharField(
        max_length=60, blank=True, help_text="The activity and unit as the operator typed it.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-eluted_at"]
        constraints = [
            models.CheckConstraint(condition=Q(activity_bq__gt=0),
                                   name="elution_activity_positive"),
            models.CheckConstraint(condition=Q(volume_ml__isnull=True) | Q(volume_ml__gt=0),
                                   name="elution_volume_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.generator.serial} eluted {self.eluted_at:%Y-%m-%d %H:%M} UTC"


class ProductionRoute(models.TextChoices):
    TH229 = "th229", "Th-229 derived"
    TH232_SPALLATION = "th232_spallation", "Th-232 spallation (accelerator)"
    RA226_IRRADIATION = "ra226_irradiation", "Ra-226 irradiation"


class SourceLot(models.Model):
    """A central 225Ac lot as delivered, with the values of its supplier's certificate."""

    lot_number = models.CharField(max_length=60, unique=True, validators=[validate_lot_number],
                                  help_text="The supplier's lot number, as on its certificate.")
    supplier = models.CharField(max_length=200)
    route = models.CharField(max_length=20, choices=ProductionRoute.choices)
    activity_bq = models.FloatField(help_text="Ac-225 activity at the reference time.")
    reference_time = models.DateTimeField()
    ac227_ratio_percent = models.FloatField(
        help_text="Ac-227/Ac-225 activity ratio (%) at the reference time, from the supplier "
        "certificate; projected to each batch's expiry.",
    )
    certificate = models.FileField(upload_to="source-lots/", blank=True)

    class Meta:
        ordering = ["-reference_time"]
        constraints = [
            models.CheckConstraint(condition=Q(activity_bq__gt=0), name="lot_activity_positive"),
            models.CheckConstraint(condition=Q(ac227_ratio_percent__gte=0),
                                   name="lot_ac227_not_negative"),
        ]

    def __str__(self) -> str:
        return f"225Ac lot {self.lot_number} ({self.supplier})"


class BatchStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    IN_QC = "in_qc", "In QC"
    REVIEWED = "reviewed", "Reviewed"
    CONDITIONALLY_RELEASED = "conditionally_released", "Conditionally released"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"
    POST_RELEASE_OOS = "post_release_oos", "Post-release OOS (recall)"


class QcStatus(models.TextChoices):
    PENDING = "pending", "Results pending"
    PASSING = "passing", "All criteria passed"
    FAILING = "failing", "A criterion failed"
    INVALID = "invalid", "A result is invalid"


class Batch(models.Model):
    lot_number = models.CharField(
        max_length=40, unique=True, validators=[validate_lot_number],
        help_text="Unique per site, as on the label; the alphabet is in records/lots.py.")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="batches")
    specification = models.ForeignKey(
        Specification, on_delete=models.PROTECT, related_name="batches",
        help_text="The approved specification version in force at EOS.",
    )
    elution = models.ForeignKey(
        Elution, null=True, blank=True, on_delete=models.PROTECT, related_name="batches"
    )
    source_lot = models.ForeignKey(
        SourceLot, null=True, blank=True, on_delete=models.PROTECT, related_name="batches"
    )
    eos = models.DateTimeField(help_text="End of synthesis; shelf life counts from here.")
    calibration_time = models.DateTimeField(
        help_text="Reference time at which the labelled activity is stated."
    )
    activity_bq = models.FloatField(help_text="Activity at the calibration time, in Bq.")
    volume_ml = models.FloatField(help_text="Volume of the batch, in mL.")
    daughters_separated_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the product's daughters were last separated from it (for a generator "
        "product: the elution/purification, by default EOS). Every projection, decay table "
        "and recount wait starts from this state. Empty when they were not separated.",
    )
    daughters_not_separated = models.BooleanField(
        default=False,
        help_text="The daughters were not separated: they are in equilibrium with the product "
        "at EOS.",
    )
    expiry = models.DateTimeField(
        null=True, blank=True,
        help_text="Earliest of EOS + shelf life and any decay-projected failure.",
    )
    expiry_reason = models.CharField(max_length=200, blank=True)
    decay_table = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=24, choices=BatchStatus.choices,
                              default=BatchStatus.REGISTERED, db_index=True)
    qc_status = models.CharField(max_length=10, choices=QcStatus.choices,
                                 default=QcStatus.PENDING)
    criteria_total = models.PositiveSmallIntegerField(default=0)
    criteria_passed = models.PositiveSmallIntegerField(default=0)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-eos"]
        verbose_name_plural = "batches"
        # (status, -eos) for the dashboard's status queries; -eos alone for the batch list,
        # which pages through every batch newest first. Both carry the id, so a deep page
        # finds its batches in the index alone (selectors.IndexPaginator; PostgreSQL).
        indexes = [models.Index(fields=["status", "-eos"], include=["id"],
                                name="batch_status_eos_id_idx"),
                   models.Index(fields=["-eos"], include=["id"], name="batch_eos_id_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(activity_bq__gt=0), name="batch_activity_positive"),
            models.CheckConstraint(condition=Q(volume_ml__gt=0), name="batch_volume_positive"),
            models.CheckConstraint(condition=Q(calibration_time__gte=F("eos")),
                                   name="batch_calibration_not_before_eos"),
            models.CheckConstraint(
                condition=Q(elution__isnull=False, source_lot__isnull=True)
                | Q(elution__isnull=True, source_lot__isnull=False),
                name="batch_has_one_source",
            ),
        ]

    def __str__(self) -> str:
        return self.lot_number

    @property
    def activity_concentration_bq_per_ml(self) -> float:
        return self.activity_bq / self.volume_ml


class Channel(models.TextChoices):
    WEB = "web", "Web form"
    API = "api", "Instrument API"


class RawDataFile(models.Model):
    """Raw instrument data, stored once per content (SHA-256)."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    file = models.FileField(upload_to="raw-data/")
    original_name = models.CharField(max_length=255, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.original_name or 'raw data'} ({self.sha256[:12]})"


class CountingWindow(models.TextChoices):
    PRODUCT_LINE = "product_line", "The product's own gamma line (e.g. Pb-212 238.6 keV)"
    WIDE = "wide", "A wide window (the product with its daughters)"


class Result(AppendOnlyModel):
    """A measured result. Never updated or deleted: a correction supersedes it."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="results")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="results")
    value = models.FloatField(null=True, blank=True,
                              help_text="Numeric value in the canonical unit of the criterion.")
    entered_value = models.CharField(max_length=60, blank=True,
                                     help_text="The value and unit as entered or posted.")
    entered_number = models.CharField(
        max_length=40, blank=True,
        help_text="The number as entered or posted, with a decimal point (e.g. '1.20'): its "
        "digits are the precision the value is shown with (qc.entered). Empty for a text "
        "result, and for a result recorded before the digits were kept.")
    censor = models.CharField(
        max_length=1, blank=True, choices=[("", "exact"), ("<", "below"), (">", "above")],
        help_text="'<' or '>': the result is only known to lie below or above `value` (e.g. "
        "'< 2.5 EU/mL' under the method's quantitation limit); empty for a measured value.")
    unit = models.CharField(max_length=20, blank=True)
    value_text = models.CharField(max_length=200, blank=True)
    measured_at = models.DateTimeField()
    method_times = models.JSONField(default=dict, blank=True,
                                    help_text="Method-specific times, e.g. developed_at of a TLC.")
    counting_window = models.CharField(
        max_length=12, blank=True, choices=CountingWindow.choices,
        help_text="The window a strip was counted in, where its criterion needs it: the "
        "product's own gamma line (e.g. Pb-212 238.6 keV) or a wide window.")
    instrument = models.ForeignKey(Instrument, null=True, blank=True, on_delete=models.PROTECT)
    raw_data = models.ForeignKey(RawDataFile, null=True, blank=True, on_delete=models.PROTECT)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    channel = models.CharField(max_length=3, choices=Channel.choices)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by",
    )
    reason = models.TextField(blank=True, help_text="Why a superseding result was recorded.")

    class Meta:
        ordering = ["batch", "criterion", "recorded_at", "id"]
        indexes = [models.Index(fields=["batch", "criterion"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(supersedes__isnull=True) | ~Q(reason=""),
                name="result_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        shown = self.value_text or self.entered_value or self.value
        return f"{self.batch_id}/{self.criterion.test_code}: {shown}"

    # The reverse one-to-one relations below are read from what select_related loaded (or one
    # query each otherwise); a missing row raises, so hasattr says whether it exists.

    @property
    def is_invalidated(self) -> bool:
        """QA invalidated it with an assignable cause (e-signed)."""
        return hasattr(self, "invalidation")

    @property
    def is_current(self) -> bool:
        """It counts: no correction superseded it and QA did not invalidate it."""
        return not hasattr(self, "superseded_by") and not self.is_invalidated

    @property
    def verdict(self) -> str | None:
        """Its evaluation's verdict, or None while it is being evaluated."""
        evaluation = getattr(self, "evaluation", None)
        return evaluation.verdict if evaluation is not None else None

    @property
    def number_as_entered(self) -> str:
        """The number as entered; for a row recorded before the entered digits were kept, read
        from its entered text to a sensible precision (the row is append-only: never
        rewritten)."""
        if self.entered_number:
            return self.entered_number
        if self.value is None:
            return ""
        return number_of_entered_text(self.entered_value) or derived_text(self.value)

    @property
    def figures(self) -> int:
        """The significant figures it was entered with."""
        number = self.number_as_entered
        return significant_figures(number) if number else 1

    @property
    def as_entered(self) -> str:
        """The value and unit as entered: '< 2.5 EU/mL', '1.20 GBq' (a text result: its text)."""
        if self.value_text or self.value is None:
            return self.value_text
        number = self.number_as_entered
        unit = self.entered_value.rpartition(" ")[2] if " " in self.entered_value else self.unit
        return " ".join(part for part in (self.censor, number, unit) if part)

    @property
    def measured_shown(self) -> str:
        """The measured value in its canonical unit, to the figures it was entered with:
        '1424 MBq' typed reads '1.424 GBq'."""
        if self.value is None:
            return self.value_text
        shown = measured_text(self.value, self.unit, self.figures)
        return f"{self.censor} {shown}" if self.censor else shown

    @property
    def shown(self) -> str:
        """The result as it was entered, for messages."""
        if self.value_text:
            return f"'{self.value_text}'"
        return self.as_entered


class Verdict(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    INVALID = "invalid", "Invalid (measured too early)"
    # The evaluation could not run (e.g. a value the physics cannot project): a verdict a
    # person sees and QA resolves, never a silent retry.
    ERROR = "error", "Could not be evaluated"


class Evaluation(AppendOnlyModel):
    """The judgement of one result against its criterion at the time that matters."""

    result = models.OneToOneField(Result, on_delete=models.PROTECT, related_name="evaluation")
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    measured_value = models.FloatField(null=True, blank=True)
    projected_value = models.FloatField(null=True, blank=True)
    judged_at_time = models.DateTimeField()
    message = models.TextField(blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    data_source = models.CharField(max_length=200, blank=True)
    evaluated_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.result_id}: {self.verdict}"


class ResultInvalidation(AppendOnlyModel):
    """QA's signed invalidation of a result with an assignable cause."""

    result = models.OneToOneField(Result, on_delete=models.PROTECT, related_name="invalidation")
    cause = models.TextField()
    signature = models.ForeignKey("qc.Signature", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class IdempotencyRecord(models.Model):
    """The first response to a POST with an Idempotency-Key, replayed on a retry."""

    principal = models.CharField(max_length=80, help_text="User or API key that sent it.")
    key = models.CharField(max_length=200)
    request_sha256 = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.principal}: {self.key}"


class CertificateStatus(models.TextChoices):
    PENDING = "pending", "Being issued"
    ISSUED = "issued", "Issued (current)"
    SUPERSEDED = "superseded", "Superseded"
    FAILED = "failed", "Issuing failed"


class Certificate(models.Model):
    """One version of a batch's signed release certificate. Files are never overwritten:
    a re-issue is a new version and the earlier one is marked superseded."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="certificates")
    version = models.PositiveSmallIntegerField()
    document_id = models.CharField(max_length=60, unique=True)
    disposition = models.CharField(max_length=24, choices=BatchStatus.choices)
    signature = models.ForeignKey("qc.Signature", on_delete=models.PROTECT, related_name="+",
                                  help_text="The QP signature that triggered this version.")
    status = models.CharField(max_length=12, choices=CertificateStatus.choices,
                              default=CertificateStatus.PENDING)
    pdf = models.FileField(upload_to="certificates/", blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True,
                                      help_text="SHA-256 of the unsigned PDF content.")
    signed_sha256 = models.CharField(max_length=64, blank=True, db_index=True,
                                     help_text="SHA-256 of the signed file as issued.")
    error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker claimed the rendering (stale claims "
        "are taken over, so a lost worker cannot block the certificate).")
    requested_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "version"], name="certificate_version_unique"),
            models.UniqueConstraint(fields=["signature"], name="one_certificate_per_signature"),
            models.UniqueConstraint(fields=["batch"], condition=Q(status="issued"),
                                    name="one_current_certificate_per_batch"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.version} ({self.status})"

    @property
    def is_stuck(self) -> bool:
        """Pending for longer than CERTIFICATE_REQUEUE_AFTER_S: its message was lost or its
        worker died (the certificate sweep queues it again; QA or the QP may re-issue it)."""
        return self.status == CertificateStatus.PENDING and timezone.now() - self.requested_at > (
            timedelta(seconds=settings.CERTIFICATE_REQUEUE_AFTER_S))


# Stability results live with the rest of the study; importing them here registers them.
from batches.stability.models import StabilityAlert, StabilityResult  # noqa: E402, F401
