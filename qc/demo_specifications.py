"""Demo master data: the published example specifications of ../shared/reference/
specifications.md as rows. Data, not code: a site edits them as new specification versions."""

from datetime import timedelta

METHODS = {
    "visual": "Visual inspection",
    "hpge": "HPGe gamma spectrometry",
    "gamma-440": "Gamma counting, 440 keV window",
    "radio-tlc": "Radio-TLC",
    "itlc": "Instant thin-layer chromatography (ITLC)",
    "hplc-uv": "HPLC-UV, precursor peak",
    "dose-cal": "Dose calibrator",
    "calc": "Calculated",
    "ph-strip": "pH indicator strip",
    "lal": "LAL endotoxin (Endosafe PTS)",
    "bubble-point": "Filter integrity, bubble point",
    "sterility": "Sterility, Ph. Eur. 2.6.1",
    "lot-cert": "Source-lot certificate, decay-projected",
    "gamma-recount": "Gamma recount after decay of the product",
    "cell-binding": "Cell binding assay (receptor-positive cells, blocked control)",
    "gc": "Gas chromatography, residual solvents (Ph. Eur. 2.4.24)",
}


# Ph. Eur. 2.6.1: the media are incubated for not less than 14 days; no result before.
STERILITY_INCUBATION = timedelta(days=14)

# Tests the literature asks of every TAT product (../shared/reference/specifications.md and
# its sources). Vector functionality: the labelled vector still binds its target (binding or
# immunoreactive fraction; a 1 h binding assay fits the 3 h and 24 h shelf lives, not
# 213Bi's 1 h, which releases before the result; >= 70 % is an example
# value, cf. the immunoreactivity of the 225Ac-J591 batch table, JNMT). Per-dose endotoxin:
# Ph. Eur. 5.1.10 / USP <85> K/M with K = 175 EU for radiopharmaceuticals, i.e. 175 EU per
# administered volume, besides the per-mL limit (value = EU/mL x volume administered).


def _c(code, name, method, **kw):
    return {"test_code": code, "name": name, "method": method, **kw}


def _vector_function(target: str, **kw):
    return _c("vector-function", f"Vector functionality ({target} binding fraction)",
              "cell-binding", unit="%", lower_limit=70.0, **kw)


def _endotoxin_per_dose(**kw):
    return _c("endotoxin-dose", "Endotoxins per dose (K/M: 175 EU per administered volume)",
              "calc", unit="EU", upper_limit=175.0, **kw)


def _appearance():
    return _c("appearance", "Appearance", "visual",
              text_requirement="clear, colourless, free of particles|conforms")


def _vector_integrity():
    return _c("vector-integrity", "Vector integrity", "hplc-uv", unit="%", lower_limit=95.0)


COMMON_TAIL = [
    _c("ph", "pH", "ph-strip", unit="pH", lower_limit=5.5, upper_limit=9.0),
    _c("endotoxin", "Bacterial endotoxins", "lal", unit="EU/mL", upper_limit=5.0,
       upper_inclusive=False),
    _c("filter-integrity", "Filter integrity", "bubble-point", text_requirement="pass"),
    _c("sterility", "Sterility", "sterility", text_requirement="sterile|no growth",
       release_before_result=True, earliest_after=STERILITY_INCUBATION),
]

PRODUCTS = [
    {
        "code": "ac225-psma-it",
        "name": "[225Ac]Ac-PSMA-I&T injection",
        "family": "central_ac225",
        "nuclide": "Ac-225",
        "vector": "PSMA-I&T",
        "shelf_life": timedelta(hours=3),
        "criteria": [
            _c("appearance", "Appearance", "visual",
               text_requirement="clear, colourless, free of particles|conforms"),
            _c("identity", "Radionuclide identity (Fr-221 218 keV, Bi-213 440 keV)", "hpge",
               text_requirement="present|conforms"),
            _c("rcp", "Radiochemical purity", "radio-tlc", unit="%", lower_limit=90.0,
               validity="daughter_equilibrium", validity_nuclide="Fr-221", validity_value=0.99),
            _c("activity", "Activity (of nominal at calibration)", "dose-cal", unit="%",
               lower_limit=95.0, upper_limit=105.0, judged_at="calibration",
               quantity="activity"),
            _c("activity-conc", "Activity concentration", "calc", unit="Bq/mL",
               lower_limit=0.4e6, upper_limit=2.8e6, judged_at="calibration",
               quantity="activity_concentration"),
            *COMMON_TAIL,
            # Ac-227 with its progeny: 10 d after the lot's reference Th-227 adds 31 % and
            # Ra-223 9 % of the Ac-227 activity (and Ra-223's daughters as much again each)
            _c("ac227-share", "Ac-227 (with progeny)/Ac-225 activity share", "lot-cert",
               unit="%",
               upper_limit=0.7, judged_at="expiry", quantity="impurity_ratio",
               impurity_nuclide="Ac-227", impurity_with_progeny=True),
            _c("vector-integrity", "Vector integrity", "hplc-uv", unit="%", lower_limit=95.0),
            _vector_function("PSMA"),
            # Radionuclidic purity by route: Th-232 spallation Ac-225 carries Ac-226 (29.4 h)
            # besides Ac-227; Th-229-derived Ac-225 can carry Ra-225/Th-229, Ra-226-route
            # Ac-225 Ra-226, and Th-228 may follow any thorium target. HPGe on the batch;
            # limits are examples (Sgouros 2021 models the accelerator impurities).
            _c("ac226-share", "Ac-226 impurity (radionuclidic purity, % of Ac-225; spallation "
               "route)", "hpge", unit="%", upper_limit=0.1),
            _c("rn-impurities", "Other radionuclides (Ra-225, Th-229, Ra-226, Th-228; sum, % of "
               "Ac-225)", "hpge", unit="%", upper_limit=0.1),
            # Ethanol in the formulation (radiolysis quencher): Ph. Eur. residual solvents,
            # <= 10 % V/V as in the Ph. Eur. monographs of radiolabelled peptides.
            _c("ethanol", "Ethanol (residual solvent)", "gc", unit="%", upper_limit=10.0),
            _endotoxin_per_dose(),
        ],
    },
    {
        "code": "pb212-dotamtate",
        "name": "[212Pb]Pb-DOTAMTATE injection",
        "family": "generator_pb212",
        "nuclide": "Pb-212",
        "vector": "DOTAMTATE",
        "shelf_life": timedelta(hours=24),
        "criteria": [
            _c("identity", "Radionuclide identity (Pb-212 238.6 keV)", "hpge",
               text_requirement="present|conforms"),
            # The strip is counted on the Pb-212 238.6 keV line (valid at once) or in a wide
            # window, which also counts Bi-212: free Bi-212 recoiled from the chelate runs
            # apart from the labelled product, so a wide-window count is valid only once the
            # Bi-212 on the strip at development is below 0.1 x 5/95 of the Bi-212 on it,
            # ~6.1 h after a development 25 min after EOS, ~8.4 h for an eluate in
            # equilibrium (qc.physics.daughters). The result records its window.
            _c("rcp", "Radiochemical purity", "radio-tlc", unit="%", lower_limit=95.0,
               validity="counting_window", validity_nuclide="Bi-212", validity_value=0.1),
            # The calibrator's Pb-212 setting is for Pb-212 in equilibrium with its progeny;
            # Tl-208 (2.6 MeV, 583 keV) carries most of that reading. 15 min after separation
            # Tl-208 is at 10 % of equilibrium and the setting reads ~19 % of the Pb-212, and
            # waiting for equilibrium within 2 % takes 6.4 h, past the calibration time. So
            # the reading is corrected by 1 / (s + (1 - s) q) with Tl-208's fraction of
            # equilibrium q from the batch's daughters and s = 0.1, the Pb-212's own share
            # of the equilibrium reading (example value: a site measures it when it
            # calibrates the setting, from a freshly separated source).
            _c("activity", "Activity (of nominal at calibration)", "dose-cal", unit="%",
               lower_limit=90.0, upper_limit=110.0, judged_at="calibration",
               quantity="activity", validity="daughter_correction", validity_nuclide="Tl-208",
               validity_value=0.1),
            # The gamma counter cannot separate Ra-224's 241.0 keV from Pb-212's 238.6 keV,
            # so the recount counts the Pb-212 line and reads Ra-224 through the Pb-212 it
            # supports. It is valid once the product's own Pb-212 is below 10 % of what
            # Ra-224 at the 0.01 % limit supports: ~8.3 days after EOS, not 72 h (at 72 h
            # the left-over Pb-212 is ~145 times the supported). The wait is derived from
            # the chain (qc.physics.recount); the batch is released before the result and
            # the certificate lists it as pending.
            _c("ra224-breakthrough", "Ra-224 breakthrough", "gamma-recount", unit="%",
               upper_limit=0.01, judged_at="calibration", quantity="breakthrough",
               impurity_nuclide="Ra-224", validity="recount_line", validity_nuclide="Pb-212",
               validity_value=0.1, release_before_result=True),
            *COMMON_TAIL,
            _appearance(),
            _vector_integrity(),
            _vector_function("SSTR2"),
            _endotoxin_per_dose(),
        ],
    },
    {
        "code": "bi213-dotatoc",
        "name": "[213Bi]Bi-DOTATOC injection",
        "family": "generator_bi213",
        "nuclide": "Bi-213",
        "vector": "DOTATOC",
        "shelf_life": timedelta(hours=1),
        "criteria": [
            _c("identity", "Radionuclide identity (440 keV)", "gamma-440",
               text_requirement="present|conforms"),
            _c("rcp", "Radiochemical purity", "itlc", unit="%", lower_limit=95.0),
            _c("activity", "Activity (of nominal at calibration)", "dose-cal", unit="%",
               lower_limit=90.0, upper_limit=110.0, judged_at="calibration",
               quantity="activity"),
            # Counted in the 440 keV window: Ac-225 supports Bi-213 (via Fr-221), and the
            # product's own Bi-213 must first decay below 10 % of what Ac-225 at the limit
            # supports: ~14.9 h after EOS (calibration 20 min after EOS), not 10 half-lives
            # (7.6 h, when the left-over Bi-213 is still ~50 times the supported).
            _c("ac225-breakthrough", "Ac-225 breakthrough", "gamma-recount", unit="%",
               upper_limit=0.002, judged_at="calibration", quantity="breakthrough",
               impurity_nuclide="Ac-225", validity="recount_line", validity_nuclide="Bi-213",
               validity_value=0.1, release_before_result=True),
            # The same recount projected to expiry: Ac-225 barely decays while Bi-213 does,
            # so the share grows 2^(40 min / 45.6 min) = 1.84x from calibration (20 min
            # after EOS) to expiry (1 h); the limit at expiry is the stricter one and needs
            # the recount 40 min later (~15.4 h after EOS).
            _c("ac225-breakthrough-expiry", "Ac-225 breakthrough at expiry", "gamma-recount",
               unit="%", upper_limit=0.002, judged_at="expiry", quantity="breakthrough",
               impurity_nuclide="Ac-225", validity="recount_line", validity_nuclide="Bi-213",
               validity_value=0.1, release_before_result=True),
            _c("ph", "pH", "ph-strip", unit="pH", lower_limit=5.5, upper_limit=9.0),
            _c("endotoxin", "Bacterial endotoxins", "lal", unit="EU/mL", upper_limit=5.0,
               upper_inclusive=False, release_before_result=True),
            _c("sterility", "Sterility", "sterility", text_requirement="sterile|no growth",
               release_before_result=True, earliest_after=STERILITY_INCUBATION),
            _appearance(),
            _c("filter-integrity", "Filter integrity", "bubble-point", text_requirement="pass"),
            _vector_integrity(),
            _vector_function("SSTR2", release_before_result=True),
            _endotoxin_per_dose(release_before_result=True),
        ],
    },
]

# What each kind of demo instrument is qualified for (by InstrumentKind value): the demo
# site's qualification records, applied through qc.instruments.instrument_qualify.
QUALIFIED_TEST_CODES_BY_KIND = {
    "dose_calibrator": ["activity", "activity-conc"],
    "hpge": ["identity", "ra224-breakthrough", "ac225-breakthrough", "ac226-share",
             "rn-impurities"],
    "radio_tlc": ["rcp"],
    "hplc": ["vector-integrity", "rcp"],
    "endotoxin_reader": ["endotoxin"],
    "ph_meter": ["ph"],
}
