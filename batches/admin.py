from django.contrib import admin

from qc.admin import ReadOnlyAdmin

from .models import Batch, Elution, Evaluation, Generator, Result, SourceLot


class ElutionInline(admin.TabularInline):
    model = Elution
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
