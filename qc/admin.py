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
    list_display = ("serial", "name", "kind", "calibration_due", "in_service",
                    "qualified_test_codes")
    list_filter = ("kind", "in_service")
    # Qualification changes are audited: qc.instruments.instrument_qualify, not this form.
    readonly_fields = ("qualified_test_codes",)


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


# --- users: signing unlock, and role changes in the audit trail --------------------------

from django.contrib import messages  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.admin import UserAdmin  # noqa: E402
from django.db import transaction  # noqa: E402

from .audit import audit_record  # noqa: E402
from .roles import role_names  # noqa: E402
from .signatures import signing_is_locked, signing_unlock  # noqa: E402

User = get_user_model()


def _account(user) -> dict:
    return {"username": user.get_username(), "name": user.get_full_name(),
            "email": user.email, "is_active": user.is_active, "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
            "roles": sorted(user.groups.values_list("name", flat=True)) if user.pk else []}


admin.site.unregister(User)


@admin.register(User)
class SiteUserAdmin(UserAdmin):
    """Django's user admin, plus: unlocking electronic signing, and every account or role
    change recorded in the audit trail (who may do what is GMP-relevant)."""

    actions = ["unlock_signing"]
    list_display = (*UserAdmin.list_display, "roles", "signing_locked")

    @admin.display(description="roles")
    def roles(self, obj) -> str:
        return ", ".join(role_names(obj))

    @admin.display(boolean=True, description="signing locked")
    def signing_locked(self, obj) -> bool:
        return signing_is_locked(obj)

    @admin.action(description="Unlock electronic signing for the selected users")
    def unlock_signing(self, request, queryset):
        unlocked = [user.get_username() for user in queryset
                    if signing_unlock(actor=request.user, user=user)]
        if unlocked:
            self.message_user(request, f"Signing unlocked for {', '.join(unlocked)}.",
                              messages.SUCCESS)
        else:
            self.message_user(request, "None of the selected users had signing locked.",
                              messages.INFO)

    def save_model(self, request, obj, form, change):
        request._account_before = _account(User.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        before, after = getattr(request, "_account_before", None), _account(user)
        if before == after:
            return
        with transaction.atomic():
            audit_record(actor=request.user, action="user.change" if change else "user.create",
                         obj=user, object_type="auth.user", before=before, after=after)
