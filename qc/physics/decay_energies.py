"""Mean alpha and beta energies emitted per decay (MeV), ICRP Publication 107.

Source: ICRP, 2008. Nuclear Decay Data for Dosimetric Calculations. ICRP Publication 107.
Ann. ICRP 38 (3). Each value is the sum over the nuclide's alpha (or beta-minus) emissions
of energy x yield per decay, as listed in the ICRP-107 emission files (the same data set
whose half-lives and branchings the decay engine uses); the values were summed from those
files as distributed by the OpenGATE collaboration (PyPI package icrp107-database 0.0.3),
and a test sums them again from that package. Beta energies are the mean energies of the
beta spectra. Not counted: the alpha recoil nucleus (about 2 % of the alpha energy),
conversion and Auger electrons, and photons (which mostly leave a 1 mL sample).

Covered: the chains of Ac-225, Bi-213, Pb-212 (and its generator parents Ra-224, Th-228)
and Ac-227 (the accelerator Ac-225 impurity). Half-life for orientation only.
"""

SOURCE = "ICRP Publication 107 (2008), mean alpha and beta- energy per decay"

# nuclide: (alpha MeV per decay, beta- MeV per decay)
MEAN_ENERGY_MEV: dict[str, tuple[float, float]] = {
    "Ac-225": (5.78718, 0.00000),  # T1/2 10.0 d
    "Ac-227": (0.06805, 0.00974),  # T1/2 21.772 y
    "At-217": (7.06800, 0.00000),  # T1/2 0.0323 s
    "At-219": (6.02217, 0.00000),  # T1/2 56.0 s
    "Bi-211": (6.54902, 0.00048),  # T1/2 2.14 min
    "Bi-212": (2.17451, 0.49291),  # T1/2 60.55 min
    "Bi-213": (0.12218, 0.42482),  # T1/2 45.59 min
    "Bi-215": (0.00000, 0.61808),  # T1/2 7.6 min
    "Fr-221": (6.30361, 0.00000),  # T1/2 4.9 min
    "Fr-223": (0.00033, 0.34787),  # T1/2 22.0 min
    "Pb-209": (0.00000, 0.19744),  # T1/2 3.253 h
    "Pb-211": (0.00000, 0.44969),  # T1/2 36.1 min
    "Pb-212": (0.00000, 0.10171),  # T1/2 10.64 h
    "Po-211": (7.44214, 0.00000),  # T1/2 0.516 s
    "Po-212": (8.78508, 0.00000),  # T1/2 0.299 us
    "Po-213": (8.37654, 0.00000),  # T1/2 4.2 us
    "Po-215": (7.38602, 0.00000),  # T1/2 1.781 ms
    "Po-216": (6.77840, 0.00000),  # T1/2 0.145 s
    "Ra-223": (5.66660, 0.00000),  # T1/2 11.43 d
    "Ra-224": (5.67335, 0.00000),  # T1/2 3.66 d
    "Rn-219": (6.75438, 0.00000),  # T1/2 3.96 s
    "Rn-220": (6.28753, 0.00000),  # T1/2 55.6 s
    "Th-227": (5.88271, 0.00000),  # T1/2 18.68 d
    "Th-228": (5.39912, 0.00000),  # T1/2 1.9116 y
    "Tl-207": (0.00000, 0.49511),  # T1/2 4.77 min
    "Tl-208": (0.00000, 0.55705),  # T1/2 3.053 min
    "Tl-209": (0.00000, 0.65540),  # T1/2 2.161 min
}
