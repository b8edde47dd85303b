"""The state of the product's daughters at EOS, as the batch record states it."""

from datetime import datetime


def daughters_state(errors: dict[str, list[str]], *, eos: datetime | None,
                    separated_at: datetime | None, not_separated: bool) -> datetime | None:
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
    return separated_at
