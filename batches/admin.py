"""The admin shows the records but never changes them: elutions, batches, results,
evaluations, invalidations and certificates are written only by the services, which audit
every write (an elution through the operators' form). Generators and 225Ac lots are
master data an administrator keeps here."""

from django.contrib import admin

from qc.admin import PrintableTextForm, ReadOnlyAdmin

from .models import (
    Batch,
    Certificate,
    Elution,
    Evaluation,
    Generator,
    Result,
    ResultInvalidation,
    SourceLot,
)


class ElutionInline(admin.TabularInline):
    """Read-only: record an elution on Sources > Record an elution (audited)."""

    model = Elution
    extra = 0
    fields = ("eluted_at", "activity_bq", "volume_ml", "recorded_by")
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Generator)
class GeneratorAdmin(admin.ModelAdmin):
    list_display = ("serial", "kind", "parent_nuclide", "loaded_activity_bq", "loaded_at",
                    "expires_on")
    inlines = [ElutionInline]
    form = PrintableTextForm


@admin.register(SourceLot)
class SourceLotAdmin(admin.ModelAdmin):
    list_display = ("lot_number", "supplier", "route", "activity_bq", "reference_time",
                    "ac227_ratio_percent")
    form = PrintableTextForm


@admin.register(Elution)
class ElutionAdmin(ReadOnlyAdmin):
    list_display = ("generator", "eluted_at", "activity_bq", "volume_ml", "recorded_by")
    list_filter = ("generator",)


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


@admin.register(ResultInvalidation)
class ResultInvalidationAdmin(ReadOnlyAdmin):
    list_display = ("result", "cause", "created_at")


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ("document_id", "batch", "version", "status", "issued_at")
