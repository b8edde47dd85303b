"""Writes to stability protocols: a draft, its author's and its approver's e-signatures.

The same signing rules as a specification (qc.services): QA or a QP signs, the password is
re-entered, whoever authored a version does not approve it, and an approved version is
immutable (the previous approved protocol of the same product and specification retires)."""

from collections.abc import Collection, Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from qc.audit import audit_record
from qc.errors import RuleViolation
from qc.formatting import format_duration
from qc.models import Product, Signature, Specification, SpecificationStatus
from qc.roles import Role, has_role
from qc.signatures import check_signer, record_hash, signature_apply
from qc.stability.models import (
    Orientation,
    ProtocolStatus,
    StabilityCriterion,
    StabilityPlannedTest,
    StabilityProtocol,
    StabilityTimePoint,
)
from qc.text import require_printable, text_errors

PROTOCOL_TYPE = "qc.stabilityprotocol"


def _hours(delta: timedelta) -> str:
    return format_duration(delta.total_seconds(), trim=True)


def protocol_record(protocol: StabilityProtocol) -> dict[str, Any]:
    """The canonical content of a protocol version, as signed."""
    return {
        "product": protocol.product.code,
        "specification_version": protocol.specification.version,
        "version": protocol.version,
        "storage_temperature_c": protocol.storage_temperature_c,
        "container": protocol.container,
        "orientation": protocol.orientation,
        "concentration_bq_per_ml": protocol.concentration_bq_per_ml,
        "batches_required": protocol.batches_required,
        "extrapolation_factor": protocol.extrapolation_factor,
        "time_points": [{"after_eos_s": tp.after_eos.total_seconds(),
                         "tolerance_s": tp.tolerance.total_seconds()}
                        for tp in protocol.time_points.order_by("position")],
        "criteria": [{"test_code": sc.criterion.test_code, "note": sc.note,
                      "tested_at_s": [pt.time_point.after_eos.total_seconds() for pt in
                                      sc.planned_tests.select_related("time_point")
                                      .order_by("time_point__position")]}
                     for sc in protocol.criteria.select_related("criterion")
                     .order_by("position")],
    }


def _require_qa(actor, doing: str) -> None:
    if not (has_role(actor, Role.QP) or has_role(actor, Role.REVIEWER)):
        raise RuleViolation(f"Only QA or a Qualified Person {doing} a stability protocol.",
                            code="forbidden")


def _time_point_errors(time_points: Sequence[tuple[timedelta, timedelta]]) -> list[str]:
    if len(time_points) < 2:
        return ["Give at least two time points after EOS (e.g. 0 h and the intended shelf "
                "life): a trend needs two."]
    errors = []
    for i, (after_eos, tolerance) in enumerate(time_points, start=1):
        if after_eos < timedelta(0):
            errors.append(f"Time point {i} ({_hours(-after_eos)} before EOS) is negative; "
                          "time points count from EOS.")
        if tolerance < timedelta(0):
            errors.append(f"The tolerance of time point {i} is negative; give it as a "
                          "duration >= 0.")
    for i in range(1, len(time_points)):
        if time_points[i][0] <= time_points[i - 1][0]:
            errors.append(f"Time points must be in increasing order: time point {i + 1} "
                          f"({_hours(time_points[i][0])}) is not after time point {i} "
                          f"({_hours(time_points[i - 1][0])}).")
    return errors


def _criteria_rows(specification: Specification, criteria: Sequence[str | tuple[str, str]]
                   ) -> tuple[list[tuple[Any, str]], list[str]]:
    if not criteria:
        return [], ["A protocol without criteria tests nothing; name the criteria of "
                    f"{specification.product.code} v{specification.version} it tests."]
    by_code = {c.test_code: c for c in specification.criteria.all()}
    rows, errors, seen = [], [], set()
    for item in criteria:
        code, note = (item, "") if isinstance(item, str) else item
        if code not in by_code:
            errors.append(f"Test {code} is not in {specification.product.code} "
                          f"v{specification.version}; its tests are "
                          f"{', '.join(sorted(by_code))}.")
        elif code in seen:
            errors.append(f"Test {code} is named twice.")
        elif by_code[code].quantity != "plain" or by_code[code].judged_at != "measured":
            errors.append(f"Test {code} is judged by decay physics "
                          f"({by_code[code].get_quantity_display().lower()}, "
                          f"{by_code[code].get_judged_at_display().lower()}), not by stability; "
                          "a protocol tests criteria judged as measured.")
        else:
            seen.add(code)
            rows.append((by_code[code], note))
    return rows, errors


Schedule = Mapping[str, Collection[timedelta]]


def _schedule_cells(schedule: Schedule | None, codes: list[str],
                    times: list[timedelta]) -> tuple[dict[str, list[timedelta]], list[str]]:
    """The time points at which each criterion is tested: every one when no schedule is
    given; otherwise each criterion at least once, each time point testing something."""
    if schedule is None:
        return {code: list(times) for code in codes}, []
    errors = [f"The plan names test {code}, which the protocol does not test; add it to the "
              "criteria or leave it out of the plan." for code in schedule if code not in codes]
    known = set(times)
    cells: dict[str, list[timedelta]] = {}
    for code in codes:
        at = sorted(set(schedule.get(code) or ()))
        strangers = [t for t in at if t not in known]
        if strangers:
            errors.append(f"Test {code} is planned at {', '.join(_hours(t) for t in strangers)}"
                          f", which is not a time point of the protocol ("
                          f"{', '.join(_hours(t) for t in times)}).")
        elif not at:
            errors.append(f"Test {code} is planned at no time point; tick at least one time "
                          "point for it, or leave it out of the criteria.")
        cells[code] = at
    for t in times:
        if not any(t in at for at in cells.values()):
            errors.append(f"Nothing is tested at {_hours(t)}; plan a test there or remove "
                          "the time point.")
    return cells, errors


def stability_protocol_create_draft(
    *, actor, product: Product, specification: Specification, storage_temperature_c: float,
    container: str, concentration_bq_per_ml: float,
    time_points: Sequence[tuple[timedelta, timedelta]],
    criteria: Sequence[str | tuple[str, str]], orientation: str = Orientation.INVERTED,
    batches_required: int = 3, extrapolation_factor: float = 2.0, change_reason: str = "",
    schedule: Schedule | None = None,
) -> StabilityProtocol:
    """A new draft version. `time_points` are (after EOS, tolerance) in increasing order;
    `criteria` test codes of the specification (or (code, note) pairs); `schedule` maps a
    test code to the times after EOS at which it is tested (None: every test at every
    time point)."""
    _require_qa(actor, "drafts")
    errors: dict[str, list[str]] = {}
    if specification.product_id != product.pk:
        errors["specification"] = [f"Version {specification.version} is a specification of "
                                   f"{specification.product.code}, not of {product.code}."]
    tp_errors = _time_point_errors(list(time_points))
    if tp_errors:
        errors["time_points"] = tp_errors
    rows, criteria_errors = _criteria_rows(specification, criteria)
    if criteria_errors:
        errors["criteria"] = criteria_errors
    cells, schedule_errors = _schedule_cells(
        schedule, [c.test_code for c, _ in rows], [after for after, _ in time_points])
    if schedule_errors and not (tp_errors or criteria_errors):
        errors["schedule"] = schedule_errors
    if not (concentration_bq_per_ml and concentration_bq_per_ml > 0):
        errors["concentration_bq_per_ml"] = ["Give the worst-case activity concentration "
                                             "the study covers, in Bq/mL (> 0)."]
    if int(batches_required) < 1:
        errors["batches_required"] = ["At least one batch (ICH Q1A(R2) asks for three)."]
    if not extrapolation_factor or extrapolation_factor < 1:
        errors["extrapolation_factor"] = ["At least 1 (no extrapolation); ICH Q1E allows up "
                                          "to 2 at room temperature, 1.5 refrigerated."]
    if not str(container).strip():
        errors["container"] = ["Name the container closure system of the study samples."]
    if orientation not in Orientation.values:
        errors["orientation"] = [f"One of {', '.join(Orientation.values)}."]
    # A note's error is keyed note_<test code>, the field it is typed in on the draft form.
    errors.update(text_errors(
        lines={"container": str(container), **{f"note_{c.test_code}": note for c, note in rows}},
        areas={"change_reason": change_reason},
        labels={"container": "container closure system", "change_reason": "reason",
                **{f"note_{c.test_code}": f"note of test {c.test_code}" for c, _ in rows}}))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        last = (StabilityProtocol.objects.select_for_update().filter(product=product)
                .order_by("-version").first())
        protocol = StabilityProtocol.objects.create(
            product=product, specification=specification,
            version=(last.version + 1) if last else 1,
            storage_temperature_c=float(storage_temperature_c), container=container.strip(),
            orientation=orientation, concentration_bq_per_ml=float(concentration_bq_per_ml),
            batches_required=int(batches_required),
            extrapolation_factor=float(extrapolation_factor), change_reason=change_reason)
        points = StabilityTimePoint.objects.bulk_create(
            StabilityTimePoint(protocol=protocol, position=i, after_eos=after, tolerance=tol)
            for i, (after, tol) in enumerate(time_points, start=1))
        tested = StabilityCriterion.objects.bulk_create(
            StabilityCriterion(protocol=protocol, criterion=c, position=i, note=note)
            for i, (c, note) in enumerate(rows, start=1))
        StabilityPlannedTest.objects.bulk_create(
            StabilityPlannedTest(protocol=protocol, time_point=point, criterion=sc)
            for point in points for sc in tested
            if point.after_eos in cells[sc.criterion.test_code])
        audit_record(actor=actor, action="stability_protocol.draft", obj=protocol,
                     after=protocol_record(protocol), reason=change_reason)
    return protocol


def _locked_draft(protocol: StabilityProtocol, doing: str) -> StabilityProtocol:
    locked = StabilityProtocol.objects.select_for_update().select_related(
        "product", "specification").get(pk=protocol.pk)
    if locked.status != ProtocolStatus.DRAFT:
        raise RuleViolation(f"Stability protocol v{locked.version} is {locked.status}; only a "
                            f"draft is {doing}.", code="invalid_state")
    if not locked.criteria.exists():
        raise RuleViolation("A protocol without criteria cannot be signed; draft a new version "
                            "with its criteria.", code="invalid_state")
    return locked


def stability_protocol_author(*, actor, password: str, protocol: StabilityProtocol,
                              comment: str = "") -> Signature:
    _require_qa(actor, "signs as author of")
    require_printable(areas={"comment": comment})
    check_signer(user=actor, password=password, meaning="authored", object_type=PROTOCOL_TYPE,
                 object_id=protocol.pk)
    with transaction.atomic():
        locked = _locked_draft(protocol, "signed by its author")
        return signature_apply(user=actor, meaning="authored", object_type=PROTOCOL_TYPE,
                               object_id=locked.pk, record=protocol_record(locked),
                               comment=comment)


def stability_protocol_approve(*, actor, password: str, protocol: StabilityProtocol,
                               comment: str = "") -> StabilityProtocol:
    """Approve a draft by e-signature; the approved protocol of the same product and
    specification before it retires."""
    _require_qa(actor, "approves")
    require_printable(areas={"comment": comment})
    check_signer(user=actor, password=password, meaning="approved", object_type=PROTOCOL_TYPE,
                 object_id=protocol.pk)
    with transaction.atomic():
        locked = _locked_draft(protocol, "approved")
        if locked.specification.status == SpecificationStatus.DRAFT:
            raise RuleViolation(f"{locked.product.code} v{locked.specification.version} is "
                                "still a draft; approve the specification first.",
                                code="invalid_state")
        authored = Signature.objects.filter(object_type=PROTOCOL_TYPE,
                                            object_id=str(locked.pk), meaning="authored")
        if authored.filter(user=actor).exists():
            raise RuleViolation(f"You signed stability protocol v{locked.version} as its "
                                "author; another QA reviewer or Qualified Person approves it.",
                                code="segregation_of_duties")
        record = protocol_record(locked)
        if authored.exists() and not authored.filter(record_sha256=record_hash(record)).exists():
            raise RuleViolation("The protocol changed after its author signed it.",
                                code="changed_since_authored")
        signature = signature_apply(user=actor, meaning="approved", object_type=PROTOCOL_TYPE,
                                    object_id=locked.pk, record=record, comment=comment)
        for old in StabilityProtocol.objects.select_for_update().filter(
                product=locked.product, specification=locked.specification,
                status=ProtocolStatus.APPROVED):
            old.status = ProtocolStatus.RETIRED
            old.save(update_fields=["status"])
            audit_record(actor=actor, action="stability_protocol.retire", obj=old,
                         before={"status": "approved"}, after={"status": "retired"},
                         reason=f"superseded by version {locked.version}")
        locked.status = ProtocolStatus.APPROVED
        locked.approved_at = signature.signed_at
        locked.approved_by = actor
        locked.save(update_fields=["status", "approved_at", "approved_by"])
        audit_record(actor=actor, action="stability_protocol.approve", obj=locked,
                     before={"status": "draft"},
                     after={"status": "approved", "signature_id": signature.pk,
                            "record_sha256": signature.record_sha256}, reason=comment)
    return locked
