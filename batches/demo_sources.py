"""The demo site's sources: generators, their elutions (each from the generator's ingrowth)
and the 225Ac lots, in time order relative to the seeding time."""

from datetime import datetime, timedelta

from .models import Elution, Generator, GeneratorKind, ProductionRoute, SourceLot

ELUTION_YIELD = 0.9  # share of the grown-in product a good elution recovers


def _generator(serial: str, kind: str, parent: str, loaded_bq: float, loaded_at: datetime,
               supplier: str, shelf_days: int) -> Generator:
    generator, _ = Generator.objects.get_or_create(serial=serial, defaults={
        "kind": kind, "parent_nuclide": parent, "loaded_activity_bq": loaded_bq,
        "loaded_at": loaded_at, "supplier": supplier,
        "expires_on": (loaded_at + timedelta(days=shelf_days)).date()})
    return generator


def _elution(generator: Generator, at: datetime) -> Elution:
    """An elution at `at` recovering ELUTION_YIELD of what grew in since the elution before
    (or since loading), so the demo's generator pages show plausible yields."""
    from .web.physics import predict_elution

    existing = Elution.objects.filter(generator=generator, eluted_at=at).first()
    if existing is not None:
        return existing
    previous = generator.elutions.filter(eluted_at__lt=at).order_by("-eluted_at").first()
    grown = predict_elution(generator, last_elution_at=previous.eluted_at if previous else None,
                            at=at).product_bq
    return Elution.objects.create(generator=generator, eluted_at=at,
                                  activity_bq=float(f"{ELUTION_YIELD * grown:.3g}"))


def sources(now: datetime) -> dict[str, object]:
    """Generators and their elutions in time order, each elution's activity from ingrowth.

    A 224Ra/212Pb generator is eluted once a day and its morning eluate, with Pb-212's
    10.6 h half-life, serves the day's 212Pb batches; a 225Ac/213Bi generator regrows in a
    few hours, so the two 213Bi batches minutes apart come from two generators. The
    released batches of two weeks ago were made on generators that have since expired."""
    day = timedelta(days=1)
    old_pb = _generator("RA224-GEN-0109", GeneratorKind.RA224_PB212, "Ra-224", 2.5e9,
                        now - 17 * day, "OranoMed", 7)
    old_bi = _generator("AC225-GEN-0024", GeneratorKind.AC225_BI213, "Ac-225", 4.0e9,
                        now - 22 * day, "ITM", 21)
    pb_gen = _generator("RA224-GEN-0117", GeneratorKind.RA224_PB212, "Ra-224", 2.5e9,
                        now - 3 * day, "OranoMed", 7)
    bi_gen = _generator("AC225-GEN-0031", GeneratorKind.AC225_BI213, "Ac-225", 4.0e9,
                        now - 6 * day, "ITM", 21)
    bi_gen2 = _generator("AC225-GEN-0032", GeneratorKind.AC225_BI213, "Ac-225", 4.0e9,
                         now - 2 * day, "ITM", 21)
    lot, _ = SourceLot.objects.get_or_create(lot_number="AC225-TH232-2611-07", defaults={
        "supplier": "Accelerator isotope supplier (demo)",
        "route": ProductionRoute.TH232_SPALLATION, "activity_bq": 3.7e9,
        "reference_time": now - timedelta(days=5), "ac227_ratio_percent": 0.2})
    # The released history of 15 days ago was made from the lot before: a batch cannot
    # come from a lot measured after its EOS.
    old_lot, _ = SourceLot.objects.get_or_create(lot_number="AC225-TH232-2610-05", defaults={
        "supplier": "Accelerator isotope supplier (demo)",
        "route": ProductionRoute.TH232_SPALLATION, "activity_bq": 3.7e9,
        "reference_time": now - timedelta(days=17), "ac227_ratio_percent": 0.18})
    _elution(pb_gen, now - timedelta(hours=31))  # yesterday's, its batch long gone
    _elution(bi_gen, now - timedelta(hours=3, minutes=40))
    return {
        "lot": lot,
        "lot_history": old_lot,
        "pb_history": _elution(old_pb, now - timedelta(days=15, hours=-1)),
        "bi_history": _elution(old_bi, now - timedelta(days=15, hours=-4, minutes=12)),
        "pb_today": _elution(pb_gen, now - timedelta(hours=7)),
        "bi_013": _elution(bi_gen, now - timedelta(minutes=37)),
        "bi_014": _elution(bi_gen2, now - timedelta(minutes=26)),
    }
