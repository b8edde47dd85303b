"""Accounts, roles and master data change only through audited services, from the Django
admin as from code: every change leaves an audit event with what was before and after."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.urls import reverse

from qc.accounts import user_create, user_deactivate, user_set_roles
from qc.errors import RuleViolation
from qc.models import AuditEvent, Criterion, Instrument, Product, Specification
from qc.roles import Role
from tests.factories import make_instrument

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def only_event(action):
    [event] = AuditEvent.objects.filter(action=action)
    return event


def user_form(user, **changes):
    form = {"username": user.username, "first_name": user.first_name,
            "last_name": user.last_name, "email": user.email, "is_active": "on",
            "groups": list(user.groups.values_list("pk", flat=True)),
            "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


# --------------------------------------------------------------------------- accounts


def test_a_user_created_in_the_admin_is_audited(admin_client, admin_user):
    response = admin_client.post(reverse("admin:auth_user_add"), {
        "username": "nina", "usable_password": "true", "password1": "Quiet-Lab-Coat-42",
        "password2": "Quiet-Lab-Coat-42"})
    assert response.status_code == 302, response.content[:2000]
    nina = User.objects.get(username="nina")
    event = only_event("user.create")
    assert (event.actor, event.object_id, event.before) == (admin_user, str(nina.pk), None)
    assert event.after == {"username": "nina", "first_name": "", "last_name": "", "email": "",
                           "is_staff": False, "is_superuser": False, "is_active": True,
                           "roles": [], "permissions": []}
    assert "password" not in str(event.after).replace("permissions", "")


def test_adding_a_user_to_the_qp_group_in_the_admin_is_audited_as_a_role_change(
        admin_client, analyst, admin_user):
    qp_group = Group.objects.get(name=Role.QP.value)
    groups = [*analyst.groups.values_list("pk", flat=True), qp_group.pk]
    response = admin_client.post(reverse("admin:auth_user_change", args=[analyst.pk]),
                                 user_form(analyst, groups=groups))
    assert response.status_code == 302, response.content[:2000]
    event = only_event("user.roles")
    assert event.actor == admin_user and event.object_id == str(analyst.pk)
    assert event.before == {"roles": ["QC analyst"]}
    assert event.after == {"roles": ["QC analyst", "Qualified Person"]}
    assert not AuditEvent.objects.filter(action="user.change").exists()  # nothing else changed


def test_deactivating_a_user_in_the_admin_is_audited(admin_client, reviewer):
    response = admin_client.post(reverse("admin:auth_user_change", args=[reviewer.pk]),
                                 user_form(reviewer, is_active=None))
    assert response.status_code == 302, response.content[:2000]
    assert not User.objects.get(pk=reviewer.pk).is_active
    event = only_event("user.deactivate")
    assert (event.before, event.after) == ({"is_active": True}, {"is_active": False})


def test_granting_superuser_and_a_permission_in_the_admin_is_audited(admin_client, analyst):
    permission = Permission.objects.get(codename="change_instrument")
    response = admin_client.post(reverse("admin:auth_user_change", args=[analyst.pk]),
                                 user_form(analyst, is_superuser="on", is_staff="on",
                                           user_permissions=[permission.pk]))
    assert response.status_code == 302, response.content[:2000]
    change = only_event("user.change")
    assert change.before == {"is_staff": False, "is_superuser": False}
    assert change.after == {"is_staff": True, "is_superuser": True}
    assert only_event("user.permissions").after == {"permissions": ["qc.change_instrument"]}


def test_a_password_set_in_the_admin_is_audited_without_the_password(admin_client, analyst):
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[analyst.pk]),
        {"password1": "Another-Strong-Pass-7", "password2": "Another-Strong-Pass-7",
         "usable_password": "true"})
    assert response.status_code == 302, response.content[:2000]
    event = only_event("user.password_set")
    assert event.after == {"password_set": True}
    assert "Another" not in str(event.after) + event.reason


def test_the_admin_never_deletes_a_user(admin_client, analyst):
    response = admin_client.post(reverse("admin:auth_user_delete", args=[analyst.pk]),
                                 {"post": "yes"})
    assert response.status_code == 403
    assert User.objects.filter(pk=analyst.pk).exists()


def test_the_services_record_deactivation_and_role_changes_with_a_reason(admin_user, analyst):
    user_set_roles(actor=admin_user, user=analyst, roles=[Role.ANALYST, Role.REVIEWER],
                   reason="trained as reviewer")
    user_deactivate(actor=admin_user, user=analyst, reason="left the company")
    roles, off = only_event("user.roles"), only_event("user.deactivate")
    assert roles.after == {"roles": ["QA reviewer", "QC analyst"]}
    assert roles.reason == "trained as reviewer" and off.reason == "left the company"
    with pytest.raises(RuleViolation, match="already deactivated"):
        user_deactivate(actor=admin_user, user=analyst, reason="again")


def test_only_an_administrator_manages_accounts(analyst, qp):
    with pytest.raises(RuleViolation, match="Only an administrator"):
        user_set_roles(actor=analyst, user=analyst, roles=[Role.QP])
    with pytest.raises(RuleViolation, match="Only an administrator"):
        user_create(actor=qp, username="x", password=None)
    assert not AuditEvent.objects.filter(action__startswith="user.").exists()


# ---------------------------------------------------------------- create_admin, createsuperuser


def test_create_admin_makes_the_first_administrator_with_an_audit_event(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Hot-Cell-Keeper-91\n"))
    out = io.StringIO()
    call_command("create_admin", "root", "--email", "root@example.org", "--password-stdin",
                 stdout=out)
    root = User.objects.get(username="root")
    assert root.is_superuser and root.is_staff and root.check_password("Hot-Cell-Keeper-91")
    event = only_event("user.create")
    assert event.actor is None and event.actor_name == "command line (manage.py create_admin)"
    assert event.after["roles"] == ["Administrator"] and event.after["is_superuser"] is True
    assert event.reason == "first administrator"
    assert "recorded in the audit trail" in out.getvalue()


def test_a_second_administrator_needs_an_administrator_on_whose_behalf(admin_user,
                                                                     monkeypatch):
    with pytest.raises(CommandError, match="An administrator exists already"):
        call_command("create_admin", "root2", "--email", "r@example.org", "--password-stdin")
    monkeypatch.setattr("sys.stdin", io.StringIO("Hot-Cell-Keeper-91\n"))
    call_command("create_admin", "root2", "--email", "r@example.org", "--password-stdin",
                 "--by", admin_user.username)
    assert only_event("user.create").actor == admin_user


def test_create_admin_refuses_a_weak_password(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("password\n"))
    with pytest.raises(CommandError, match="too common"):
        call_command("create_admin", "root", "--email", "root@example.org", "--password-stdin")
    assert not User.objects.exists() and not AuditEvent.objects.exists()


def test_createsuperuser_is_refused_pointing_to_create_admin():
    assert get_commands()["createsuperuser"] == "qc"
    with pytest.raises(CommandError, match="use `python manage.py create_admin"):
        call_command("createsuperuser", "--username", "x", "--email", "x@example.org",
                     "--noinput")
    assert not User.objects.filter(username="x").exists()


# --------------------------------------------------------------------------- master data


def test_an_instrument_taken_out_of_service_in_the_admin_is_audited(admin_client, admin_user):
    instrument = make_instrument(serial="DC-7")
    form = {"serial": "DC-7", "name": instrument.name, "kind": instrument.kind,
            "calibration_due": instrument.calibration_due.isoformat()}  # in_service unticked
    response = admin_client.post(reverse("admin:qc_instrument_change", args=[instrument.pk]),
                                 form)
    assert response.status_code == 302, response.content[:2000]
    assert not Instrument.objects.get(pk=instrument.pk).in_service
    event = only_event("instrument.take_out_of_service")
    assert event.actor == admin_user and event.object_type == "qc.instrument"
    assert (event.before, event.after) == ({"in_service": True}, {"in_service": False})


def test_a_new_calibration_due_date_is_audited_as_qualification(admin_client):
    instrument = make_instrument(serial="DC-8")
    due = instrument.calibration_due + timedelta(days=365)
    response = admin_client.post(reverse("admin:qc_instrument_change", args=[instrument.pk]), {
        "serial": "DC-8", "name": instrument.name, "kind": instrument.kind,
        "calibration_due": due.isoformat(), "in_service": "on"})
    assert response.status_code == 302, response.content[:2000]
    event = only_event("instrument.qualification")
    assert event.before == {"calibration_due": instrument.calibration_due.isoformat()}
    assert event.after == {"calibration_due": due.isoformat()}


def test_an_instrument_added_and_deleted_in_the_admin_is_audited(admin_client):
    response = admin_client.post(reverse("admin:qc_instrument_add"), {
        "serial": "PH-1", "name": "pH meter", "kind": "ph_meter",
        "calibration_due": "2027-01-01", "in_service": "on"})
    assert response.status_code == 302, response.content[:2000]
    instrument = Instrument.objects.get(serial="PH-1")
    assert only_event("instrument.create").after["serial"] == "PH-1"
    response = admin_client.post(reverse("admin:qc_instrument_delete", args=[instrument.pk]),
                                 {"post": "yes"})
    assert response.status_code == 302
    event = only_event("instrument.delete")
    assert event.before["serial"] == "PH-1" and event.object_id == str(instrument.pk)


def test_a_product_changed_in_the_admin_is_audited_and_its_shelf_life_is_not_editable_there(
        admin_client, products):
    product = products["ac225-psma-it"]
    response = admin_client.post(reverse("admin:qc_product_change", args=[product.pk]), {
        "code": product.code, "name": "Ac-225 PSMA I&T injection", "family": product.family,
        "nuclide": product.nuclide, "vector": product.vector,
        "dosage_form": product.dosage_form, "shelf_life": "30 00:00:00"})
    assert response.status_code == 302, response.content[:2000]
    event = only_event("product.change")
    assert event.before == {"name": product.name}
    assert event.after == {"name": "Ac-225 PSMA I&T injection"}
    # only QA's e-signed approval, checked against the stability data, changes it
    assert Product.objects.get(pk=product.pk).shelf_life == product.shelf_life


def admin_ph_specification(product, *, change_reason: str, lower_limit: str,
                           upper_limit: str) -> dict:
    """The admin's add-specification form: version 99 of `product` with one pH criterion."""
    prefix = "criteria"
    return {
        "product": product.pk, "version": 99, "change_reason": change_reason,
        f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-position": "1", f"{prefix}-0-test_code": "ph", f"{prefix}-0-name": "pH",
        f"{prefix}-0-unit": "pH", f"{prefix}-0-lower_limit": lower_limit,
        f"{prefix}-0-lower_inclusive": "on", f"{prefix}-0-upper_limit": upper_limit,
        f"{prefix}-0-upper_inclusive": "on", f"{prefix}-0-judged_at": "measured",
        f"{prefix}-0-quantity": "plain", f"{prefix}-0-validity": "none",
    }


def test_a_draft_specification_and_its_criteria_edited_in_the_admin_are_audited(
        admin_client, products):
    product = products["ac225-psma-it"]
    response = admin_client.post(reverse("admin:qc_specification_add"), admin_ph_specification(
        product, change_reason="tighter pH", lower_limit="4.5", upper_limit="7.5"))
    assert response.status_code == 302, response.content[:3000]
    specification = Specification.objects.get(product=product, version=99)
    criterion = Criterion.objects.get(specification=specification)
    assert only_event("specification.create").after["change_reason"] == "tighter pH"
    event = only_event("criterion.create")
    assert event.object_id == str(criterion.pk)
    assert (event.after["lower_limit"], event.after["upper_limit"]) == (4.5, 7.5)


def test_a_role_group_changed_in_the_admin_is_audited(admin_client):
    group = Group.objects.get(name=Role.QP.value)
    permission = Permission.objects.get(codename="view_instrument")
    response = admin_client.post(reverse("admin:auth_group_change", args=[group.pk]),
                                 {"name": group.name, "permissions": [permission.pk]})
    assert response.status_code == 302, response.content[:2000]
    event = only_event("group.change")
    assert event.before == {"permissions": []}
    assert event.after == {"permissions": [str(permission)]}


def test_only_an_administrator_changes_master_data(analyst):
    from qc.master_data import master_data_save

    instrument = make_instrument()
    instrument.in_service = False
    with pytest.raises(RuleViolation, match="Only an administrator"):
        master_data_save(actor=analyst, obj=instrument)
    assert Instrument.objects.get(pk=instrument.pk).in_service

