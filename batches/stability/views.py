"""The stability page of a product (each criterion against time, with its estimate) and the
form that records a stability result. Thin: read through the selectors, write through the
service."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from qc.errors import RuleViolation
from qc.formatting import format_activity
from qc.models import Instrument, Product
from qc.roles import Role
from qc.stability.models import StabilityProtocol
from qc.stability.plan import protocol_plan

from ..forms import LabForm, LocalDateTimeField, SignForm, duration_field
from ..models import Batch, CountingWindow
from ..web.common import add_service_errors, role_required, staff_required
from .chart import render_study
from .models import StabilityAlert
from .selectors import current_protocol, product_stability, protocol_doses
from .services import product_shelf_life_approve, stability_result_record


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.3g} h"


def _p(value: float | None) -> str:
    return "" if value is None else f"{value:.2g}"


@require_GET
@staff_required
def product_stability_page(request, code: str):
    product = get_object_or_404(Product, code=code)
    stability = product_stability(product)
    criteria = [{
        "study": s, "chart": render_study(s, unit=s.criterion.unit),
        "observed": _hours(s.observed_s), "statistical": _hours(s.statistical_s),
        "shelf_life": _hours(s.shelf_life_s), "p_slope": _p(s.p_slope),
        "p_intercept": _p(s.p_intercept),
    } for s in stability.criteria]
    return render(request, "stability/product.html", {
        "product": product, "stability": stability, "criteria": criteria,
        "approved": _hours(stability.approved_shelf_life_s),
        "concentration": format_activity(stability.protocol.concentration_bq_per_ml, "Bq/mL")
        if stability.protocol else "",
        "supported": _hours(stability.supported_shelf_life_s),
        "doses": [{**row, "after": _hours(row["after_eos_s"]),
                   "tolerance_min": f"{row['tolerance_s'] / 60:g}"}
                  for row in protocol_doses(stability.protocol)] if stability.protocol else [],
        "alerts": StabilityAlert.objects.filter(result__protocol__product=product)
        .select_related("batch").order_by("-raised_at")[:20],
        "exceeds": stability.completed
        and stability.approved_shelf_life_s > stability.supported_shelf_life_s,
        "protocols": StabilityProtocol.objects.filter(product=product)
        .select_related("specification").order_by("-version"),
    })


@require_GET
@staff_required
def product_stability_pdf(request, code: str):
    from django.http import HttpResponse
    from django.utils import timezone

    from .pdf import render_summary
    from .selectors import stability_summary

    product = get_object_or_404(Product, code=code)
    printed = timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")
    pdf = render_summary(stability_summary(product, printed_at=printed))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="stability-{product.code}.pdf"'
    return response


class StabilityResultForm(LabForm):
    lot = forms.ChoiceField(label="Lot")
    time_point = forms.ChoiceField(label="Time point")
    test_code = forms.ChoiceField(label="Test")
    value = forms.FloatField(label="Value (numeric tests)", required=False)
    unit = forms.CharField(label="Unit", max_length=20, required=False,
                           help_text="Default: the criterion's unit.")
    value_text = forms.CharField(label="Result (text tests)", max_length=200, required=False)
    measured_at = LocalDateTimeField(label="Measured at")
    developed_at = LocalDateTimeField(label="TLC developed at", required=False,
                                      help_text="For a radio-TLC count: when the strip was "
                                      "developed (the daughters regrow from then).")
    counting_window = forms.ChoiceField(
        label="Counting window", required=False,
        choices=[("", "Not stated"), *CountingWindow.choices],
        help_text="For a strip count whose test needs it (212Pb radio-TLC): the product's own "
        "line (valid at once) or a wide window (valid once the daughter on the strip has "
        "renewed after development).")
    instrument = forms.ModelChoiceField(queryset=Instrument.objects.filter(in_service=True),
                                        required=False, empty_label="No instrument (manual)")

    def __init__(self, *args, protocol, **kwargs):
        super().__init__(*args, **kwargs)
        lots = Batch.objects.filter(specification=protocol.specification).order_by("-eos")
        self.fields["lot"].choices = [(b.lot_number, b.lot_number) for b in lots[:200]]
        self.fields["time_point"].choices = [
            (str(tp.after_eos.total_seconds()), f"T+{_hours(tp.after_eos.total_seconds())} "
             f"(± {tp.tolerance.total_seconds() / 60:g} min)")
            for tp in protocol.time_points.order_by("position")]
        self.fields["test_code"].choices = [
            (sc.criterion.test_code, sc.criterion.name)
            for sc in protocol.criteria.select_related("criterion").order_by("position")]


@require_http_methods(["GET", "POST"])
@role_required(Role.ANALYST, what="record stability results")
def stability_result_new(request, code: str):
    product = get_object_or_404(Product, code=code)
    protocol = current_protocol(product)
    if protocol is None:
        messages.error(request, f"{product.code} has no approved stability protocol.")
        return redirect("product-stability", code=code)
    form = StabilityResultForm(request.POST or None, protocol=protocol)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        batch = Batch.objects.select_related("product", "specification").get(
            lot_number=data["lot"])
        try:
            result = stability_result_record(
                actor=request.user, batch=batch, protocol=protocol,
                time_point_after_eos=timedelta(seconds=float(data["time_point"])),
                test_code=data["test_code"], measured_at=data["measured_at"],
                value=data.get("value"), unit=data.get("unit") or "",
                value_text=data.get("value_text") or "",
                method_times={"developed_at": data["developed_at"]}
                if data.get("developed_at") else {},
                instrument=data.get("instrument"),
                counting_window=data.get("counting_window") or "")
        except ValidationError as exc:
            add_service_errors(form, exc, {"time_point_after_eos": "time_point"})
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        else:
            note = (f" Pulled {result.deviation_s / 60:+.0f} min from its time point: recorded "
                    "as a deviation." if result.deviation_s is not None else "")
            text = (f"{result.criterion.name} of lot {batch.lot_number} at "
                    f"T+{_hours(result.time_point.after_eos.total_seconds())}: "
                    f"{result.get_verdict_display().lower()}.{note}")
            (messages.success if result.verdict == "pass" else messages.error)(request, text)
            return redirect("product-stability", code=code)
    plan = protocol_plan(protocol)
    return render(request, "stability/result_form.html", {
        "product": product, "protocol": protocol, "form": form,
        "plan": [{"after": _hours(tp.after_eos.total_seconds()),
                  "tests": [c.name for c in plan.tests_at(tp)]} for tp in plan.time_points]})


class ShelfLifeForm(SignForm):
    hours = duration_field(label="Shelf life (hours after EOS)", min_value=0.01)
    field_order = ["hours", "comment", "password"]


@require_http_methods(["GET", "POST"])
@role_required(Role.REVIEWER, Role.QP, what="approve a shelf life")
def shelf_life_approve(request, code: str):
    product = get_object_or_404(Product, code=code)
    stability = product_stability(product)
    form = ShelfLifeForm(request.POST or None, initial={
        "hours": product.shelf_life.total_seconds() / 3600})
    if request.method == "POST" and form.is_valid():
        try:
            product_shelf_life_approve(
                actor=request.user, password=form.cleaned_data["password"], product=product,
                shelf_life=timedelta(hours=form.cleaned_data["hours"]),
                comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            add_service_errors(form, exc, {"shelf_life": "hours"})
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Shelf life of {product.code} approved: "
                             f"{form.cleaned_data['hours']:g} h.")
            return redirect("product-stability", code=code)
    return render(request, "stability/shelf_life.html", {
        "product": product, "form": form,
        "supported": _hours(stability.supported_shelf_life_s), "stability": stability})
