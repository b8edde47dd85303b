from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone

from qc.admin import ReadOnlyAdmin

from .models import Batch, Elution, Evaluation, Generator, Result, SourceLot
from .records.plausibility import elution_plausibility_errors


class ElutionForm(forms.ModelForm):
    """An elution is not in the future and holds no more than its generator's ingrowth
    (batches.records.plausibility), whoever types it in."""

    class Meta:
        model = Elution
        fields = ("eluted_at", "activity_bq")

    def clean(self):
        data = super().clean()
        # The inline of a generator being added has no generator yet: only the clock check.
        generator = self.instance.generator if self.instance.generator_id else None
        if data.get("eluted_at") and data.get("activity_bq") and generator is not None:
            errors = elution_plausibility_errors(
                generator=generator, eluted_at=data["eluted_at"],
                activity_bq=data["activity_bq"], now=timezone.now(),
                exclude_id=self.instance.pk)
            if errors:
                raise ValidationError(errors)
        elif data.get("eluted_at") and data["eluted_at"] > timezone.now() + timedelta(
                seconds=settings.MEASURED_AT_CLOCK_SKEW_S):
            raise ValidationError({"eluted_at": "The elution time is in the future."})
        return data


class ElutionInline(admin.TabularInline):
    model = Elution
    form = ElutionForm
    extra = 0


@admin.register(Generator)
class GeneratorAdmin(admin.ModelAdmin):
    list_display = ("serial", "kind", "parent_nuclide", "loaded_activity_bq", "loaded_at",
                    "expires_on")
    inlines = [ElutionInline]


@admin.register(SourceLot)
class SourceLotAdmin(admin.ModelAdmin):
    list_display = ("lot_number", "supplier", "route", "activity_bq", "reference_time",
                    "ac227_ratio_percent")


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    """Batches change only through the application's services (registration, disposition)."""

    list_display = ("lot_number", "product", "status", "qc_status", "eos", "expiry")
    list_filter = ("status", "product")
    search_fields = ("lot_number",)


@admin.register(Result)
class ResultAdmin(ReadOnlyAdmin):
    list_display = ("batch", "criterion", "value", "unit", "value_text", "measured_at",
                    "recorded_by", "channel")
    list_filter = ("channel",)


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ("result", "verdict", "measured_value", "projected_value", "judged_at_time")
