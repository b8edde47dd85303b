from django.conf import settings
from django.db import models


class PlainResult(models.Model):
    """A result-shaped row with none of the record path's guarantees: no batch or criterion
    lookup, no unit conversion, no audit event, no idempotency, no evaluation queued."""

    lot_number = models.CharField(max_length=40)
    test_code = models.CharField(max_length=40)
    value = models.FloatField()
    unit = models.CharField(max_length=20)
    measured_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.lot_number} {self.test_code} {self.value} {self.unit}"
