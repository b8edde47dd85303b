from django.contrib import admin

from .models import AuditEvent, Criterion, Instrument, Product, Signature, Specification, TestMethod


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "family", "nuclide", "shelf_life")


@admin.register(TestMethod)
class TestMethodAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ("serial", "name", "kind", "calibration_due", "in_service")
    list_filter = ("kind", "in_service")


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0
    fields = ("position", "test_code", "name", "method", "unit", "lower_limit", "lower_inclusive",
              "upper_limit", "upper_inclusive", "text_requirement", "judged_at", "quantity",
              "impurity_nuclide", "release_before_result", "validity", "validity_nuclide",
              "validity_value")

    def _editable(self, obj) -> bool:
        return obj is None or not obj.is_locked

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Specification)
class SpecificationAdmin(admin.ModelAdmin):
    """Drafts are edited here; approval is an e-signature in the application, and an approved
    version is read-only (a change makes a new version)."""

    list_display = ("product", "version", "status", "effective_from", "approved_by")
    list_filter = ("product", "status")
    inlines = [CriterionInline]
    readonly_fields = ("status", "effective_from", "approved_at", "approved_by")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_delete_permission(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Append-only records: visible, never editable or deletable."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "actor_name", "action", "object_type", "object_id", "batch_lot")
    list_filter = ("action", "object_type")
    search_fields = ("batch_lot", "actor_name", "object_id")


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("signed_at", "printed_name", "meaning", "object_type", "object_id")
