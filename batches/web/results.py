"""Record a result, correct one (a superseding result with a reason), invalidate one (QA,
signed). The forms keep what was typed whenever a service refuses it."""

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from qc.errors import RuleViolation
from qc.roles import Role

from .. import texts
from ..disposition import services as disposition
from ..forms import RESULT_FIELDS, InvalidateForm, ResultForm
from ..models import Batch, Result
from ..records import results as records
from . import formatting
from .common import add_service_errors, role_required


def _batch(lot_number: str) -> Batch:
    batch = (Batch.objects.select_related("product", "specification")
             .filter(lot_number=lot_number).first())
    if batch is None:
        raise Http404(f"No batch has lot number {lot_number}.")
    return batch


def _outcome_message(request, result: Result) -> None:
    """Say at once what the evaluation found, if it has run already (in process it has)."""
    evaluation = getattr(Result.objects.select_related("evaluation").get(pk=result.pk),
                         "evaluation", None)
    name = result.criterion.name
    if evaluation is None:
        messages.success(request, f"{name}: result recorded; it is being evaluated.")
    elif evaluation.verdict == "pass":
        messages.success(request, f"{name}: result recorded and passed. "
                         f"{texts.message(evaluation.message)}")
    elif evaluation.verdict == "invalid" and evaluation.valid_from:
        wait = evaluation.valid_from - timezone.now()
        messages.warning(
            request, f"{name}: result recorded but INVALID — {texts.message(evaluation.message)} "
            f"Counting is valid from {formatting.when(evaluation.valid_from, seconds=True)}"
            + (f" (in {formatting.duration(wait, seconds=True)})." if wait.total_seconds() > 0
               else "."))
    else:
        messages.error(request, f"{name}: result recorded: {evaluation.get_verdict_display()}. "
                       f"{texts.message(evaluation.message)}")


def _initial_from(result: Result) -> dict:
    initial = {"measured_at": timezone.localtime(result.measured_at),
               "instrument": result.instrument_id, "value_text": result.value_text}
    entered = result.as_entered  # '< 2.5 EU/mL': the number (with its censor) and the unit
    number, _, unit = entered.rpartition(" ") if " " in entered else (entered, "", "")
    if number and not result.value_text:
        initial.update(value=number, unit=unit or result.unit)
    if result.counting_window:
        initial["counting_window"] = result.counting_window
    developed = (result.method_times or {}).get("developed_at")
    if developed:
        initial["developed_at"] = timezone.localtime(datetime.fromisoformat(developed))
    return initial


@require_http_methods(["GET", "POST"])
@role_required(Role.ANALYST, what="record QC results")
def result_record(request, lot_number: str, test_code: str):
    batch = _batch(lot_number)
    criterion = batch.specification.criteria.filter(test_code=test_code).first()
    if criterion is None:
        raise Http404(f"Specification v{batch.specification.version} of {batch.product.code} "
                      f"has no test {test_code}.")
    form = ResultForm(request.POST or None, criterion=criterion,
                      initial={"measured_at": timezone.localtime().replace(microsecond=0)})
    if request.method == "POST" and form.is_valid():
        try:
            result = records.result_record(actor=request.user, batch=batch,
                                            criterion=criterion, **form.service_arguments())
        except ValidationError as exc:
            add_service_errors(form, exc, RESULT_FIELDS)
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        else:
            _outcome_message(request, result)
            return redirect("batch-detail", batch.lot_number)
    return render(request, "batches/result_form.html",
                  {"batch": batch, "criterion": criterion, "form": form, "correcting": None})


@require_http_methods(["GET", "POST"])
@role_required(Role.ANALYST, Role.REVIEWER, what="correct QC results")
def result_correct(request, lot_number: str, result_id: int):
    batch = _batch(lot_number)
    original = get_object_or_404(
        Result.objects.select_related("criterion", "evaluation", "instrument"),
        pk=result_id, batch=batch)
    criterion = original.criterion
    form = ResultForm(request.POST or None, criterion=criterion, correction=True,
                      initial=_initial_from(original))
    superseded = not original.is_current
    if request.method == "POST" and form.is_valid():
        arguments = form.service_arguments()
        try:
            result = records.result_correct(actor=request.user, result=original,
                                                reason=form.cleaned_data["reason"], **arguments)
        except ValidationError as exc:
            add_service_errors(form, exc, RESULT_FIELDS)
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        else:
            _outcome_message(request, result)
            return redirect("batch-detail", batch.lot_number)
    return render(request, "batches/result_form.html",
                  {"batch": batch, "criterion": criterion, "form": form, "correcting": original,
                   "superseded": superseded,
                   # say it before the analyst types, not only on submit
                   "refusals": records.correction_blockers(original)})


@require_http_methods(["GET", "POST"])
@role_required(Role.REVIEWER, what="invalidate a QC result")
def result_invalidate(request, lot_number: str, result_id: int):
    batch = _batch(lot_number)
    result = get_object_or_404(
        Result.objects.select_related("criterion", "evaluation", "recorded_by", "instrument"),
        pk=result_id, batch=batch)
    form = InvalidateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            disposition.result_invalidate(actor=request.user,
                                          password=form.cleaned_data["password"],
                                          result=result, cause=form.cleaned_data["cause"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except RuleViolation as exc:
            _refusal(form, exc)
        else:
            messages.success(request, f"{result.criterion.name}: result #{result.pk} "
                             "invalidated and signed. Record a new result.")
            return redirect("batch-detail", batch.lot_number)
    return render(request, "batches/result_invalidate.html",
                  {"batch": batch, "result": result, "form": form,
                   "evaluation": getattr(result, "evaluation", None)})


def _refusal(form, exc: RuleViolation) -> None:
    """A wrong password belongs next to the password field; other refusals above the form."""
    if exc.code in ("wrong_password", "signing_locked") and "password" in form.fields:
        form.add_error("password", exc.message)
    else:
        form.add_error(None, exc.message)
