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
}


def _c(code, name, method, **kw):
    return {"test_code": code, "name": name, "method": method, **kw}


COMMON_TAIL = [
    _c("ph", "pH", "ph-strip", unit="pH", lower_limit=5.5, upper_limit=9.0),
    _c("endotoxin", "Bacterial endotoxins", "lal", unit="EU/mL", upper_limit=5.0,
       upper_inclusive=False),
    _c("filter-integrity", "Filter integrity", "bubble-point", text_requirement="pass"),
    _c("sterility", "Sterility", "sterility", text_requirement="sterile|no growth",
       release_before_result=True),
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
            _c("ac227-share", "Ac-227/Ac-225 activity share", "lot-cert", unit="%",
               upper_limit=0.7, judged_at="expiry", quantity="impurity_ratio",
               impurity_nuclide="Ac-227"),
            _c("vector-integrity", "Vector integrity", "hplc-uv", unit="%", lower_limit=95.0),
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
            _c("rcp", "Radiochemical purity", "radio-tlc", unit="%", lower_limit=95.0),
            _c("activity", "Activity (of nominal at calibration)", "dose-cal", unit="%",
               lower_limit=90.0, upper_limit=110.0, judged_at="calibration",
               quantity="activity"),
            # The recount needs 72 h of Pb-212 decay, longer than the shelf life: the batch
            # is released before the result and the certificate lists it as pending.
            _c("ra224-breakthrough", "Ra-224 breakthrough", "gamma-recount", unit="%",
               upper_limit=0.01, judged_at="calibration", quantity="breakthrough",
               impurity_nuclide="Ra-224", validity="product_half_lives", validity_value=6.8,
               release_before_result=True),
            *COMMON_TAIL,
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
            _c("ac225-breakthrough", "Ac-225 breakthrough", "gamma-recount", unit="%",
               upper_limit=0.002, judged_at="calibration", quantity="breakthrough",
               impurity_nuclide="Ac-225", validity="product_half_lives", validity_value=10,
               release_before_result=True),
            _c("ph", "pH", "ph-strip", unit="pH", lower_limit=5.5, upper_limit=9.0),
            _c("endotoxin", "Bacterial endotoxins", "lal", unit="EU/mL", upper_limit=5.0,
               upper_inclusive=False, release_before_result=True),
            _c("sterility", "Sterility", "sterility", text_requirement="sterile|no growth",
               release_before_result=True),
        ],
    },
]
