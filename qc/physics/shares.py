"""An impurity's share of the product activity over time, from its share at a reference time
(e.g. Ac-227/Ac-225 from a source lot's certificate): one function for the evaluation, the
expiry and the pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from .decay import DecayEngine
from .nuclides import normalise_nuclide


def activity_share_percent(
    engine: DecayEngine,
    *,
    product: str,
    impurity: str,
    share_percent: float,
    reference: datetime,
    times: Sequence[datetime],
    with_progeny: bool = False,
) -> list[float]:
    """A(impurity) / A(product) in % at each of ``times``, given ``share_percent`` at
    ``reference``; one float per time, before the reference as well as after it.

    At the reference the two nuclides are taken as they stand on the certificate: both
    present, their progeny not. From there the engine runs both chains forward. Before the
    reference each nuclide is corrected back by its own decay, A(t) = A(ref) exp(lambda
    (ref - t)): exact as long as neither nuclide is fed by the other's chain (Ac-227 is of
    the actinium series, Ac-225 of the neptunium series), so the share before the reference
    is lower for an impurity that lives longer than the product. Where one chain feeds the
    other the past is not determined by the two activities alone, and a time before the
    reference is refused (ValueError).

    ``with_progeny``: after the reference the impurity's share is the activity of the
    impurity and every radioactive member of its chain grown in since then (pure impurity at
    the reference, as a certificate states it); e.g. 10 d after a pure Ac-227 reference,
    Th-227 adds 31 % and Ra-223 9 % of the Ac-227 activity, and Ra-223's short-lived
    daughters as much again each. Before the reference the progeny is taken as absent.
    """
    product, impurity = normalise_nuclide(product), normalise_nuclide(impurity)
    offsets = np.array([(t - reference).total_seconds() for t in times], dtype=float)
    shares = np.empty(offsets.size)
    forward = offsets >= 0
    if forward.any():
        if with_progeny:
            # each chain on its own, so that no member of the product's chain is counted
            # as impurity even where the chains meet
            ahead = offsets[forward]
            chain = engine.project({impurity: share_percent / 100.0}, ahead)
            product_bq = engine.project({product: 1.0}, ahead)[product]
            shares[forward] = 100.0 * sum(chain.values()) / product_bq
        else:
            inventory = {product: 1.0, impurity: share_percent / 100.0}
            ratios = engine.activity_ratio(inventory, impurity, product, offsets[forward])
            shares[forward] = 100.0 * ratios
    if not forward.all():
        if impurity in engine.chain(product) or product in engine.chain(impurity):
            raise ValueError(
                f"{impurity} and {product} are in one decay chain, so their share before the "
                "reference time cannot be worked out from the share at the reference time")
        back = offsets[~forward]
        # one exponent for the ratio of the two decay factors: each alone overflows far
        # enough back (inf / inf), their ratio only when the impurity is the shorter-lived
        rate = engine.decay_constant(product) - engine.decay_constant(impurity)
        with np.errstate(over="ignore"):
            shares[~forward] = share_percent * np.exp(rate * back)
    return [float(s) for s in shares]
