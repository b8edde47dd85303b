"""Stability protocols: what a shelf-life study of a product and specification version
tests, when and how many batches (ICH Q1A(R2), Q1E). Approved by e-signature like a
specification; an approved protocol is immutable and a change makes a new version."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from qc.append_only import AppendOnlyModel


class ProtocolStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    RETIRED = "retired", "Retired"


class Orientation(models.TextChoices):
    UPRIGHT = "upright", "Upright"
    INVERTED = "inverted", "Inverted (solution in contact with the closure)"
    HORIZONTAL = "horizontal", "Horizontal"


class StabilityProtocol(models.Model):
    product = models.ForeignKey("qc.Product", on_delete=models.PROTECT,
                                related_name="stability_protocols")
    specification = models.ForeignKey(
        "qc.Specification", on_delete=models.PROTECT, related_name="stability_protocols",
        help_text="The specification version whose criteria and limits the study tests.")
    version = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=ProtocolStatus.choices, default=ProtocolStatus.DRAFT,
        help_text="Only an approved protocol takes results; an approved version is immutable.")
    storage_temperature_c = models.FloatField(
        help_text="Storage temperature of the study samples (°C), as on the label.")
    container = models.CharField(
        max_length=200, help_text="Container closure system, as marketed (e.g. 10 mL type I "
        "glass vial, bromobutyl stopper).")
    orientation = models.CharField(max_length=12, choices=Orientation.choices,
                                   default=Orientation.INVERTED)
    concentration_bq_per_ml = models.FloatField(
        help_text="Worst-case (highest) activity concentration at EOS that the study covers "
        "(Bq/mL): radiolysis grows with it, so the study supports batches up to it.")
    batches_required = models.PositiveSmallIntegerField(
        default=3, help_text="Batches the shelf-life estimate needs (ICH Q1A(R2): three "
        "primary batches).")
    extrapolation_factor = models.FloatField(
        default=2.0, help_text="ICH Q1E: the shelf life may reach at most this many times the "
        "period covered by data (2 at room temperature, 1.5 refrigerated, 1 for none).")
    change_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["product", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["product", "version"],
                                    name="stability_protocol_version_unique"),
            models.CheckConstraint(condition=Q(concentration_bq_per_ml__gt=0),
                                   name="stability_protocol_concentration_positive"),
            models.CheckConstraint(condition=Q(batches_required__gte=1),
                                   name="stability_protocol_batches_positive"),
            models.CheckConstraint(condition=Q(extrapolation_factor__gte=1),
                                   name="stability_protocol_extrapolation_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} stability protocol v{self.version} ({self.status})"


class StabilityTimePoint(models.Model):
    protocol = models.ForeignKey(StabilityProtocol, on_delete=models.CASCADE,
                                 related_name="time_points")
    position = models.PositiveSmallIntegerField()
    after_eos = models.DurationField(help_text="Nominal pull time, counted from EOS.")
    tolerance = models.DurationField(
        help_text="A pull within this of the nominal time is on time; further out (up to a "
        "multiple of it) it is recorded as a deviation with the difference; beyond, refused.")

    class Meta:
        ordering = ["protocol", "position"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "position"],
                                    name="stability_time_point_position_unique"),
            models.UniqueConstraint(fields=["protocol", "after_eos"],
                                    name="stability_time_point_time_unique"),
        ]

    def __str__(self) -> str:
        return f"T+{self.after_eos}"


class StabilityCriterion(models.Model):
    """A criterion of the protocol's specification that the study tests, at the time points
    its planned tests (StabilityPlannedTest) name."""

    protocol = models.ForeignKey(StabilityProtocol, on_delete=models.CASCADE,
                                 related_name="criteria")
    criterion = models.ForeignKey("qc.Criterion", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=200, blank=True,
                            help_text="How it is tested in the study, e.g. 'after "
                            "re-equilibration' or 'free daughters, before re-equilibration'.")

    class Meta:
        ordering = ["protocol", "position"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "criterion"],
                                    name="stability_criterion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.protocol_id}: {self.criterion_id}"


class StabilityPlannedTest(AppendOnlyModel):
    """One cell of the protocol's plan: this criterion is tested at this time point (e.g. free
    daughters counted before re-equilibration at a few points only, RCP after it at every
    point). Written with its protocol version and never changed: a new plan is a new version."""

    protocol = models.ForeignKey(StabilityProtocol, on_delete=models.PROTECT,
                                 related_name="planned_tests")
    time_point = models.ForeignKey(StabilityTimePoint, on_delete=models.PROTECT,
                                   related_name="planned_tests")
    criterion = models.ForeignKey(StabilityCriterion, on_delete=models.PROTECT,
                                  related_name="planned_tests")

    class Meta:
        ordering = ["protocol", "time_point__position", "criterion__position"]
        constraints = [
            models.UniqueConstraint(fields=["time_point", "criterion"],
                                    name="stability_planned_test_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.protocol_id}: T{self.time_point_id} x {self.criterion_id}"
