"""The Django admin: master data and accounts change only through the audited services
(qc.master_data, qc.accounts), so a change made here is in the audit trail like any other."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from .accounts import user_password_recorded, user_save
from .master_data import master_data_delete, master_data_save, stored_text_errors
from .models import AuditEvent, Criterion, Instrument, Product, Signature, Specification, TestMethod
from .roles import role_names
from .signatures import signing_is_locked, signing_unlock
from .specification_physics import criterion_bounds


def _m2m(form) -> dict:
    model = form._meta.model
    return {field.name: form.cleaned_data[field.name] for field in model._meta.many_to_many
            if field.name in form.cleaned_data}


class PrintableTextMixin:
    """Shows what the services refuse in free text (qc.text: control characters, bidi
    overrides) next to the admin's fields, instead of failing when the service saves."""

    def _post_clean(self):
        super()._post_clean()  # type: ignore[misc]
        for field, problems in stored_text_errors(self.instance).items():  # type: ignore[attr-defined]
            for problem in problems:
                self.add_error(field if field in self.fields else None, problem)  # type: ignore[attr-defined]


class PrintableTextForm(PrintableTextMixin, forms.ModelForm):
    pass


class AuditedModelAdmin(admin.ModelAdmin):
    """Saves and deletes through master_data_save / master_data_delete (audited); inlines
    too. Django's admin runs each of these in one transaction with its own log entry."""

    form = PrintableTextForm

    def save_model(self, request, obj, form, change):
        master_data_save(actor=request.user, obj=obj, m2m=_m2m(form))

    def save_related(self, request, form, formsets, change):
        # The many-to-many fields were set by the service in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            master_data_delete(actor=request.user, obj=obj)
        for obj in instances:
            master_data_save(actor=request.user, obj=obj)

    def delete_model(self, request, obj):
        master_data_delete(actor=request.user, obj=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            master_data_delete(actor=request.user, obj=obj)


@admin.register(Product)
class ProductAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "family", "nuclide", "shelf_life")

    def get_readonly_fields(self, request, obj=None):
        # An existing product's shelf life changes only by QA's e-signed approval, which is
        # refused above what its stability data support (products/<code>/shelf-life/).
        return ("shelf_life",) if obj is not None else ()


@admin.register(TestMethod)
class TestMethodAdmin(AuditedModelAdmin):
    list_display = ("code", "name")


@admin.register(Instrument)
class InstrumentAdmin(AuditedModelAdmin):
    list_display = ("serial", "name", "kind", "calibration_due", "in_service",
                    "qualified_test_codes")
    list_filter = ("kind", "in_service")
    # Qualification changes are audited: qc.instruments.instrument_qualify, not this form.
    readonly_fields = ("qualified_test_codes",)


class CriterionAdminForm(PrintableTextMixin, forms.ModelForm):
    """A criterion's numbers are held to the ranges the specification editing service holds
    them to (qc.specification_physics.criterion_bounds), and its text to qc.text, next to
    their fields."""

    def _post_clean(self):
        super()._post_clean()
        try:
            product = self.instance.specification.product
        except ObjectDoesNotExist:  # a criterion of a specification being added
            product = None
        for field, problems in criterion_bounds(self.instance, product).items():
            for problem in problems:
                self.add_error(field if field in self.fields else None, problem)


class CriterionInline(admin.TabularInline):
    model = Criterion
    form = CriterionAdminForm
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
class SpecificationAdmin(AuditedModelAdmin):
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


# --- users and role groups -------------------------------------------------------------

User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(AuditedModelAdmin, GroupAdmin):
    """Roles are groups: a change to one is a change to who may do what."""


@admin.register(User)
class SiteUserAdmin(UserAdmin):
    """Django's user admin, plus: unlocking electronic signing, and every account, role or
    password change made through qc.accounts (audited). Accounts are deactivated, never
    deleted: the audit trail and signatures name them."""

    actions = ["unlock_signing"]
    form = type("PrintableUserChangeForm", (PrintableTextMixin, UserChangeForm), {})
    add_form = type("PrintableUserCreationForm", (PrintableTextMixin, AdminUserCreationForm), {})
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

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        cleaned = form.cleaned_data
        user_save(actor=request.user, user=obj, roles=cleaned.get("groups"),
                  permissions=cleaned.get("user_permissions"))

    def save_related(self, request, form, formsets, change):
        # Roles and permissions were set by user_save in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if user is not None and request.method == "POST":
                user_password_recorded(actor=request.user, user=user)
        return response
