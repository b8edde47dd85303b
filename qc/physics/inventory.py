"""The product as it left EOS: the product nuclide with its daughters as the batch record
states them (separated at EOS, separated some time before EOS, or not separated at all and
so in equilibrium), per 1 Bq of the product nuclide."""

from __future__ import annotations

from .decay import DecayEngine
from .nuclides import normalise_nuclide


def eos_inventory(
    engine: DecayEngine, product: str, *, separated_before_eos_s: float | None
) -> dict[str, float]:
    """Activities at EOS per 1 Bq of ``product``.

    ``separated_before_eos_s``: 0 for daughters separated at EOS (pure product), a positive
    number of seconds for daughters grown in since an earlier separation, None for daughters
    never separated (each in transient or secular equilibrium with the product; one that
    lives longer than the product, and so never reaches equilibrium, is left out).
    """
    product = normalise_nuclide(product)
    if separated_before_eos_s is None:
        inventory = {product: 1.0}
        for member in engine.chain(product)[1:]:
            try:
                inventory[member] = engine.equilibrium_ratio(product, member)
            except ValueError:
                continue
        return inventory
    if separated_before_eos_s < 0:
        raise ValueError("the daughters cannot have been separated after EOS")
    if separated_before_eos_s == 0:
        return {product: 1.0}
    grown = engine.project({product: 1.0}, [separated_before_eos_s])
    scale = 1.0 / float(grown[product][0])
    return {name: float(a[0]) * scale for name, a in grown.items() if a[0] > 0.0}
