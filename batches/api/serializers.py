"""Edge validation (types, required fields, time zones, known lots and test codes) and the
representation of batches and results. The business rules stay in the services."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qc.entered import entered_text
from qc.instruments import is_qualified, not_qualified_message
from qc.models import Criterion, Instrument, Product
from qc.units import ACTIVITY_UNITS, UnitError, check_physical_range, to_canonical

from ..lifecycle import lock_batch_by_lot
from ..models import Batch, BatchStatus, Elution, QcStatus, Result, SourceLot
from ..records.lots import (
    LOT_NUMBER_EXAMPLE,
    LOT_NUMBER_FORMAT,
    LOT_NUMBER_MAX_LENGTH,
    lot_number_problem,
)
from .fields import (
    AwareDateTimeField,
    Censored,
    CensoredNumberField,
    FiniteNumberField,
    MethodTimesField,
    StrictCharField,
    StrictIntegerField,
)

MAX_BULK = 500


def lookup_keys(values, max_length: int) -> set[str]:
    """The raw values that could name a row: printable strings (PostgreSQL refuses NUL and
    lone surrogates) of a length a row can have. The rest are left to validation."""
    return {v for v in values if isinstance(v, str) and v.isprintable()
            and 0 < len(v) <= max_length}


# The criteria of approved specification versions, which never change: an approval is
# immutable and a change makes a new version. Keyed with the approval time as well as the id,
# so a reused id (a test database rolled back) can never return another version's criteria.
_APPROVED_CRITERIA: dict[tuple[int, object], list[Criterion]] = {}
_APPROVED_CRITERIA_MAX = 256


def _criteria_of(specifications) -> list[Criterion]:
    found, missing = [], {}
    for spec in specifications:
        cached = _APPROVED_CRITERIA.get((spec.pk, spec.approved_at))
        if cached is not None and spec.is_locked:
            found += cached
        else:
            missing[spec.pk] = spec
    if missing:
        loaded: dict[int, list[Criterion]] = {pk: [] for pk in missing}
        for criterion in Criterion.objects.filter(specification_id__in=missing).order_by(
                "position", "id"):
            loaded[criterion.specification_id].append(criterion)
        for pk, criteria in loaded.items():
            found += criteria
            spec = missing[pk]
            if spec.is_locked and spec.approved_at is not None:
                if len(_APPROVED_CRITERIA) >= _APPROVED_CRITERIA_MAX:
                    _APPROVED_CRITERIA.clear()
                _APPROVED_CRITERIA[(pk, spec.approved_at)] = criteria
    return found


class Catalogue:
    """The batches, criteria and instruments a request names, loaded in a few queries
    however many results it carries."""

    def __init__(self, *, lots, serials=(), lock: bool = False):
        """`lock`: lock the one batch named (lifecycle.lock_batch_by_lot), in the caller's
        transaction, in the query that loads it."""
        lots = lookup_keys(lots, 40)
        if lock:
            if len(lots) > 1:
                raise ValueError("Catalogue locks the batch of one lot only")
            found = [lock_batch_by_lot(lot) for lot in lots]
            self.batches = {b.lot_number: b for b in found if b is not None}
        else:
            self.batches = {b.lot_number: b for b in Batch.objects.select_related(
                "specification").filter(lot_number__in=lots)} if lots else {}
        specifications = {b.specification_id: b.specification for b in self.batches.values()}
        self.criteria: dict[tuple[int, str], Criterion] = {}
        self.codes: dict[int, list[str]] = {}
        for criterion in _criteria_of(specifications.values()):
            self.criteria[(criterion.specification_id, criterion.test_code)] = criterion
            self.codes.setdefault(criterion.specification_id, []).append(criterion.test_code)
        serials = lookup_keys(serials, 60)
        self.instruments = {i.serial: i for i in Instrument.objects.filter(
            serial__in=serials)} if serials else {}
        self._known_codes: set[str] | None = None

    def is_known_code(self, code: str) -> bool:
        if self._known_codes is None:
            self._known_codes = set(Criterion.objects.values_list("test_code", flat=True))
        return code in self._known_codes


class ResultInSerializer(serializers.Serializer):
    lot_number = StrictCharField(max_length=40, help_text="Lot number of the batch.")
    test_code = StrictCharField(
        max_length=40, help_text="Test code of the specification's criterion, e.g. rcp, ph.")
    value = CensoredNumberField(
        required=False, allow_null=True,
        help_text="Numeric result in `unit`; omit for a text result. Beyond a quantitation "
                  "limit, the limit with its sign as a string: \"< 2.5\" or \"> 99\".")
    unit = StrictCharField(
        required=False, allow_blank=True, max_length=20, default="",
        help_text="Unit of `value`: Bq, kBq, MBq, GBq, uCi, mCi, Ci, %, EU/mL, pH (activity "
                  "concentrations as e.g. MBq/mL). Defaults to the criterion's unit.")
    value_text = StrictCharField(required=False, allow_blank=True, max_length=200,
                                       default="", help_text="Text result, e.g. 'conforms'.")
    measured_at = AwareDateTimeField(help_text="When it was measured, with its UTC offset.")
    method_times = MethodTimesField(
        required=False, default=dict,
        help_text="Method-specific times with offsets, e.g. developed_at of a TLC strip.")
    counting_window = StrictCharField(
        required=False, allow_blank=True, max_length=20, default="",
        help_text="The window a strip was counted in, where the test needs it (e.g. 212Pb "
                  "radio-TLC): product_line (the product's own gamma line, e.g. Pb-212 "
                  "238.6 keV; valid at once) or wide (valid once the daughter on the strip "
                  "has renewed after developed_at).")
    instrument = StrictCharField(
        required=False, max_length=60,
        help_text="Serial of the instrument (staff only; a key always reports as its own "
                  "instrument).")

    def validate(self, attrs):
        catalogue: Catalogue = self.context["catalogue"]
        key = self.context.get("key")
        errors: dict[str, list[str]] = {}
        batch = catalogue.batches.get(attrs["lot_number"])
        criterion = None
        if batch is None:
            errors["lot_number"] = [f"No batch with lot number {attrs['lot_number']}; check "
                                    "the lot number on the vial label."]
        else:
            criterion = catalogue.criteria.get((batch.specification_id, attrs["test_code"]))
            if criterion is None:
                codes = ", ".join(catalogue.codes.get(batch.specification_id, []))
                known = catalogue.is_known_code(attrs["test_code"])
                errors["test_code"] = [
                    (f"Test {attrs['test_code']} is not in the specification of lot "
                     if known else f"Unknown test code {attrs['test_code']}; the specification"
                     " of lot ")
                    + f"{batch.lot_number} ({batch.product.code} v{batch.specification.version})"
                    + f"{'' if known else ' has'}; its tests are: {codes}."]
        instrument = None
        if key is not None:
            if attrs.get("instrument") not in (None, key.instrument.serial):
                errors["instrument"] = [f"This key belongs to instrument "
                                        f"{key.instrument.serial}; it cannot report for "
                                        f"{attrs['instrument']}."]
            instrument = key.instrument
        elif attrs.get("instrument"):
            instrument = catalogue.instruments.get(attrs["instrument"])
            if instrument is None:
                errors["instrument"] = [f"No instrument with serial {attrs['instrument']}."]
        if (instrument is not None and criterion is not None
                and not is_qualified(instrument, criterion.test_code)):
            errors["instrument"] = [not_qualified_message(instrument, [criterion.test_code])]
        if errors:
            raise serializers.ValidationError(errors)
        attrs.update(batch=batch, criterion=criterion, instrument_obj=instrument, censor="")
        if isinstance(attrs.get("value"), Censored):
            attrs["censor"], attrs["value"] = attrs["value"]
        return attrs


class ResultUploadSerializer(ResultInSerializer):
    raw_data = serializers.FileField(
        required=False, allow_empty_file=False,
        help_text="Raw instrument data (e.g. the TLC scan, the spectrum); stored once per "
                  "content with its SHA-256.")

    def validate_raw_data(self, upload):
        limit = settings.RAW_DATA_MAX_BYTES
        if upload.size > limit:
            raise serializers.ValidationError(
                f"The file is {upload.size} bytes; raw data files may be at most {limit} bytes.")
        return upload


class BulkResultsInSerializer(serializers.Serializer):
    """Documents the bulk body; items are validated one by one so each error has its index."""

    results = serializers.ListField(child=ResultInSerializer(), min_length=1,
                                    max_length=MAX_BULK)


class BatchInSerializer(serializers.Serializer):
    lot_number = StrictCharField(
        max_length=LOT_NUMBER_MAX_LENGTH,
        help_text=f"Unique per site: {LOT_NUMBER_FORMAT}; e.g. {LOT_NUMBER_EXAMPLE}.")
    product = StrictCharField(max_length=40, help_text="Product code, e.g. pb212-dotamtate.")
    eos = AwareDateTimeField(help_text="End of synthesis, with its UTC offset.")
    calibration_time = AwareDateTimeField(
        help_text="Reference time of the labelled activity, with its UTC offset.")
    activity = FiniteNumberField(help_text="Activity at the calibration time, in activity_unit.")
    activity_unit = StrictCharField(max_length=10, default="Bq",
                                          help_text=f"One of: {', '.join(ACTIVITY_UNITS)}.")
    volume_ml = FiniteNumberField(help_text="Volume in mL.")
    elution = StrictIntegerField(required=False, allow_null=True, min_value=1,
                                       max_value=2**53, help_text="Id of the generator elution.")
    source_lot = StrictCharField(required=False, allow_null=True, max_length=60,
                                       help_text="Lot number of the 225Ac source lot.")
    daughters_separated_at = AwareDateTimeField(
        required=False, allow_null=True,
        help_text="When the product's daughters were last separated, with its UTC offset; "
        "default EOS.")
    daughters_not_separated = serializers.BooleanField(
        required=False, default=False,
        help_text="True when the daughters were not separated (in equilibrium at EOS).")

    def validate_lot_number(self, value: str) -> str:
        problem = lot_number_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate(self, attrs):
        errors: dict[str, list[str]] = {}
        product = Product.objects.filter(code=attrs["product"]).first()
        if product is None:
            codes = ", ".join(Product.objects.values_list("code", flat=True))
            errors["product"] = [f"No product {attrs['product']}; products: {codes}."]
        elution = source_lot = None
        if attrs.get("elution") is not None:
            elution = Elution.objects.select_related("generator").filter(
                pk=attrs["elution"]).first()
            if elution is None:
                errors["elution"] = [f"No generator elution with id {attrs['elution']}."]
        if attrs.get("source_lot"):
            source_lot = SourceLot.objects.filter(lot_number=attrs["source_lot"]).first()
            if source_lot is None:
                errors["source_lot"] = [f"No 225Ac source lot {attrs['source_lot']}."]
        try:
            activity_bq = to_canonical(attrs["activity"], attrs["activity_unit"], "Bq")
        except UnitError as exc:
            errors["activity_unit"] = [str(exc)[0].upper() + str(exc)[1:] + "."]
            activity_bq = None
        else:
            try:
                entered = f"{entered_text(attrs['activity'])} {attrs['activity_unit']}"
                check_physical_range(activity_bq, "Bq", entered=entered)
            except UnitError as exc:
                errors["activity"] = [f"{exc}."]
        if errors:
            raise serializers.ValidationError(errors)
        return {**attrs, "product": product, "elution": elution, "source_lot": source_lot,
                "activity_bq": activity_bq}


# Representation ------------------------------------------------------------------------

class RawDataOutSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    original_name = serializers.CharField()


class EvaluationOutSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=["pass", "fail", "invalid"])
    message = serializers.CharField()
    judged_at_time = serializers.DateTimeField()
    measured_value = serializers.FloatField(allow_null=True)
    projected_value = serializers.FloatField(allow_null=True)
    valid_from = serializers.DateTimeField(allow_null=True)
    data_source = serializers.CharField()


class ResultOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lot_number = serializers.CharField(source="batch.lot_number")
    test_code = serializers.CharField(source="criterion.test_code")
    value = serializers.FloatField(allow_null=True,
                                   help_text="Value in the canonical unit (see `unit`).")
    unit = serializers.CharField(help_text="Canonical unit: Bq, Bq/mL, %, EU/mL or pH.")
    entered_value = serializers.CharField(help_text="Value and unit as posted.")
    entered_number = serializers.CharField(
        help_text="The number as posted or typed, e.g. \"1.20\" (a JSON number as sent, up to "
                  "15 significant figures): its digits are the precision the pages and the "
                  "certificate show `value` with. Empty for a text result.")
    censor = serializers.CharField(
        help_text="'<' or '>' when `value` is a quantitation limit the result lies below or "
                  "above; empty for a measured value.")
    value_text = serializers.CharField()
    measured_at = serializers.DateTimeField()
    method_times = serializers.DictField(child=serializers.CharField())
    counting_window = serializers.CharField(
        help_text="product_line or wide where the strip's counting window was recorded; "
                  "empty otherwise.")
    instrument = serializers.SerializerMethodField()
    raw_data = serializers.SerializerMethodField()
    recorded_by = serializers.CharField(source="recorded_by.username")
    recorded_at = serializers.DateTimeField()
    channel = serializers.CharField()
    supersedes = serializers.IntegerField(source="supersedes_id", allow_null=True)
    current = serializers.SerializerMethodField(
        help_text="False once superseded by a correction or invalidated by QA.")
    verdict = serializers.SerializerMethodField(
        help_text="evaluating until the result is judged, then pass, fail or invalid.")
    evaluation = serializers.SerializerMethodField()

    @extend_schema_field({"type": "string", "nullable": True})
    def get_instrument(self, result) -> str | None:
        return result.instrument.serial if result.instrument_id else None

    @extend_schema_field(RawDataOutSerializer(allow_null=True))
    def get_raw_data(self, result):
        if not result.raw_data_id:
            return None
        raw = self.context.get("raw_data", {}).get(result.raw_data_id) or result.raw_data
        return {"sha256": raw.sha256, "size": raw.size, "original_name": raw.original_name}

    def _evaluation(self, result):
        if self.context.get("fresh"):
            return None
        return getattr(result, "evaluation", None)

    def get_current(self, result) -> bool:
        return True if self.context.get("fresh") else result.is_current

    @extend_schema_field({"type": "string", "enum": ["evaluating", "pass", "fail", "invalid"]})
    def get_verdict(self, result) -> str:
        evaluation = self._evaluation(result)
        return evaluation.verdict if evaluation else "evaluating"

    @extend_schema_field(EvaluationOutSerializer(allow_null=True))
    def get_evaluation(self, result):
        evaluation = self._evaluation(result)
        return EvaluationOutSerializer(evaluation).data if evaluation else None


# Building a serializer's fields (a deep copy of every declared field) costs more than
# representing a result with them, and an instrument's POST answers with one result: the
# answer is drawn by one serializer built once per process. Representing reads only the
# result and the fields, so the threads of a process share it safely.
_FRESH_RESULT = ResultOutSerializer(context={"fresh": True})


def fresh_result_body(result) -> dict:
    """The representation of a result just recorded: current, and evaluating."""
    return _FRESH_RESULT.to_representation(result)


class BulkItemOutSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.IntegerField()
    lot_number = serializers.CharField()
    test_code = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    unit = serializers.CharField()


class BulkOutSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = BulkItemOutSerializer(many=True)


class BatchSummarySerializer(serializers.Serializer):
    lot_number = serializers.CharField()
    product = serializers.CharField(source="product.code")
    product_name = serializers.CharField(source="product.name")
    nuclide = serializers.CharField(source="product.nuclide")
    status = serializers.ChoiceField(choices=BatchStatus.choices)
    qc_status = serializers.ChoiceField(choices=QcStatus.choices)
    eos = serializers.DateTimeField()
    calibration_time = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    activity_bq = serializers.FloatField()
    volume_ml = serializers.FloatField()
    criteria_total = serializers.IntegerField()
    criteria_passed = serializers.IntegerField()
    registered_at = serializers.DateTimeField(source="created_at")


class SourceOutSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["elution", "source_lot"])
    generator = serializers.CharField(required=False)
    elution = StrictIntegerField(required=False)
    eluted_at = serializers.DateTimeField(required=False)
    lot_number = serializers.CharField(required=False)
    supplier = serializers.CharField(required=False)
    route = serializers.CharField(required=False)


class CriterionStatusOutSerializer(serializers.Serializer):
    test_code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    lower_limit = serializers.FloatField(allow_null=True)
    lower_inclusive = serializers.BooleanField()
    upper_limit = serializers.FloatField(allow_null=True)
    upper_inclusive = serializers.BooleanField()
    text_requirement = serializers.CharField()
    judged_at = serializers.CharField()
    release_before_result = serializers.BooleanField()
    verdict = serializers.ChoiceField(choices=["pending", "evaluating", "pass", "fail",
                                               "invalid"])
    current_result = serializers.IntegerField(allow_null=True,
                                              help_text="Id of the result that counts.")


class BatchDetailSerializer(BatchSummarySerializer):
    specification_version = serializers.IntegerField(source="specification.version")
    expiry_reason = serializers.CharField()
    source = SourceOutSerializer()
    criteria = CriterionStatusOutSerializer(many=True)
    pending = serializers.ListField(child=serializers.CharField(),
                                    help_text="Test codes still awaiting a result.")
    results = ResultOutSerializer(many=True, help_text="Every result, corrections included.")


def batch_detail_data(batch: Batch, statuses, raw_data) -> dict:
    summary = BatchSummarySerializer(batch).data
    if batch.elution_id:
        elution = batch.elution
        source = {"kind": "elution", "generator": elution.generator.serial,
                  "elution": elution.id, "eluted_at": elution.eluted_at.isoformat()}
    else:
        lot = batch.source_lot
        source = {"kind": "source_lot", "lot_number": lot.lot_number,
                  "supplier": lot.supplier, "route": lot.route}
    results: list[Result] = [r for status in statuses for r in status.history]
    criteria = []
    for status in statuses:
        c = status.criterion
        criteria.append({
            "test_code": c.test_code, "name": c.name, "unit": c.unit,
            "lower_limit": c.lower_limit, "lower_inclusive": c.lower_inclusive,
            "upper_limit": c.upper_limit, "upper_inclusive": c.upper_inclusive,
            "text_requirement": c.text_requirement, "judged_at": c.judged_at,
            "release_before_result": c.release_before_result, "verdict": status.verdict,
            "current_result": status.current.id if status.current else None,
        })
    return {
        **summary,
        "specification_version": batch.specification.version,
        "expiry_reason": batch.expiry_reason,
        "source": source,
        "criteria": criteria,
        "pending": [s.criterion.test_code for s in statuses if s.verdict == "pending"],
        "results": ResultOutSerializer(results, many=True, context={"raw_data": raw_data}).data,
    }


class BatchFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BatchStatus.choices, required=False)
    qc_status = serializers.ChoiceField(choices=QcStatus.choices, required=False)
    product = serializers.SlugField(max_length=40, required=False, help_text="Product code.")
    eos_from = AwareDateTimeField(required=False, clamp=True,
                                  help_text="EOS at or after this time.")
    eos_to = AwareDateTimeField(required=False, clamp=True,
                                help_text="EOS at or before this time.")
    page = serializers.IntegerField(min_value=1, max_value=10**6, required=False)

    def apply(self, queryset):
        v = self.validated_data
        if "status" in v:
            queryset = queryset.filter(status=v["status"])
        if "qc_status" in v:
            queryset = queryset.filter(qc_status=v["qc_status"])
        if "product" in v:
            queryset = queryset.filter(product__code=v["product"])
        if "eos_from" in v:
            queryset = queryset.filter(eos__gte=v["eos_from"])
        if "eos_to" in v:
            queryset = queryset.filter(eos__lte=v["eos_to"])
        return queryset


class ProblemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(required=False,
                                     help_text="Position of the item in a bulk request.")
    field = serializers.CharField(help_text="The field at fault (dotted path), or "
                                            "non_field_errors.")
    message = serializers.CharField(help_text="What is wrong and how to fix it.")
    code = serializers.CharField(required=False, help_text="Rule code of a refusal.")


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="URI identifying the kind of problem.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")
    code = serializers.CharField(help_text="Machine-readable reason, e.g. batch_closed, "
                                           "instrument_unusable, validation_error.")
    errors = ProblemErrorSerializer(many=True, required=False)
