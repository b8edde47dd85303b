"""Stability results: one pull of a lot's study sample at a protocol time point, tested for
one criterion. Append-only like every result: a correction supersedes with a reason."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from qc.append_only import AppendOnlyModel


class StabilityVerdict(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"


class StabilityResult(AppendOnlyModel):
    batch = models.ForeignKey("batches.Batch", on_delete=models.PROTECT,
                              related_name="stability_results")
    protocol = models.ForeignKey("qc.StabilityProtocol", on_delete=models.PROTECT,
                                 related_name="results")
    time_point = models.ForeignKey("qc.StabilityTimePoint", on_delete=models.PROTECT,
                                   related_name="results")
    criterion = models.ForeignKey("qc.Criterion", on_delete=models.PROTECT, related_name="+")
    value = models.FloatField(null=True, blank=True,
                              help_text="Numeric value in the canonical unit of the criterion.")
    entered_value = models.CharField(max_length=60, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    value_text = models.CharField(max_length=200, blank=True)
    measured_at = models.DateTimeField(help_text="When the study sample was pulled and tested.")
    after_eos_s = models.FloatField(help_text="Actual pull time after EOS, in seconds: the "
                                    "shelf-life regression uses it.")
    deviation_s = models.FloatField(
        null=True, blank=True, help_text="Pull outside its tolerance: the difference from the "
        "nominal time (s, + late, - early). Empty for a pull on time.")
    verdict = models.CharField(max_length=4, choices=StabilityVerdict.choices,
                               help_text="Judged as measured against the criterion's limits.")
    dose_gy = models.FloatField(
        help_text="Radiolysis measure: dose absorbed in the solution since EOS at the batch's "
        "activity concentration, all alpha and beta energy deposited (Gy).")
    instrument = models.ForeignKey("qc.Instrument", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    channel = models.CharField(max_length=3)
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="superseded_by")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["batch", "time_point", "criterion", "recorded_at", "id"]
        indexes = [models.Index(fields=["protocol", "criterion"])]
        constraints = [
            models.CheckConstraint(condition=Q(supersedes__isnull=True) | ~Q(reason=""),
                                   name="stability_result_correction_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} T{self.time_point_id}/{self.criterion_id}: {self.verdict}"


class StabilityAlert(AppendOnlyModel):
    """A failing stability result: the study no longer supports the shelf life it covers, and
    a released lot whose retained sample failed goes the post-release OOS path."""

    result = models.OneToOneField(StabilityResult, on_delete=models.PROTECT,
                                  related_name="alert")
    batch = models.ForeignKey("batches.Batch", on_delete=models.PROTECT,
                              related_name="stability_alerts")
    message = models.TextField()
    raised_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.message[:60]}"
