"""The state of the product's daughters at EOS, as the batch record states it."""

from datetime import datetime

from qc.formatting import utc_text

from ..models import Elution


def daughters_state(errors: dict[str, list[str]], *, eos: datetime | None,
                    separated_at: datetime | None, not_separated: bool,
                    elution: Elution | None = None) -> datetime | None:
    """The separation time to record: the one given, or EOS by default (a generator eluate
    and a purified product leave EOS without their daughters); None when not separated.
    Adds to ``errors`` what is wrong."""
    if not_separated:
        if separated_at is not None:
            errors["daughters_separated_at"] = [
                "Give either the time the daughters were last separated or that they were not "
                "separated, not both."]
        return None
    if separated_at is None:
        return eos
    if separated_at.tzinfo is None or separated_at.utcoffset() is None:
        errors["daughters_separated_at"] = ["Give the separation time with its time zone."]
        return None
    if eos is not None and eos.tzinfo is not None and separated_at > eos:
        errors["daughters_separated_at"] = [
            f"The daughters were separated at {separated_at.isoformat()}, after the end of "
            f"synthesis ({eos.isoformat()}); the state at EOS must be the last separation at "
            "or before EOS."]
    elif problem := before_source_problem(separated_at, elution):
        errors["daughters_separated_at"] = [problem]
    return separated_at


def before_source_problem(separated_at: datetime, elution: Elution | None) -> str:
    """'' unless the separation precedes the elution the batch is made from: a generator's
    product nuclide leaves the column at elution, so it has no daughters of its own to be
    separated from before then (the elution is itself the earliest possible separation)."""
    if elution is None or elution.eluted_at is None or separated_at >= elution.eluted_at:
        return ""
    return (f"The daughters were separated at {utc_text(separated_at)} "
            f"({separated_at.isoformat()}), before the {elution.generator.product_nuclide} "
            f"was eluted from generator {elution.generator.serial} at "
            f"{utc_text(elution.eluted_at)}; the product only exists apart from the generator "
            "from its elution. Give the separation at or after the elution (empty: EOS).")
