"""The release certificate PDF, read back with poppler as a reader or printer would."""

import math
import re
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from batches.pdf.data import (
    AcSourceLot,
    CertificateData,
    CriterionRow,
    DecayTable,
    GeneratorSource,
    SignatureLine,
)
from batches.pdf.render import render_certificate
from batches.pdf.text import format_time, nuclide_label
from tests.poppler import fonts_not_embedded, pdf_text, poppler

EOS = datetime(2025, 3, 30, 8, 40, tzinfo=UTC)  # the morning European summer time starts
AC225_HALF_LIFE_H = 9.92 * 24
AC227_HALF_LIFE_H = 21.772 * 365.25 * 24

LONG_TEST_NAME = (
    "radiochemical purity by radio-TLC counted in the Fr-221 window after equilibrium "
    "with Ac-225 was re-established (duplicate strips, mean of both reported)"
)


def _decayed(activity: float, half_life_h: float, hours: float) -> float:
    return activity * math.exp(-math.log(2) * hours / half_life_h)


def ac225_criteria(count: int = 15) -> tuple[CriterionRow, ...]:
    cal = EOS + timedelta(hours=1)
    expiry = EOS + timedelta(days=6)
    rows = [
        CriterionRow("appearance", "visual", "clear, colourless, free of particles",
                     "clear, colourless", EOS + timedelta(minutes=20), "measured"),
        CriterionRow("radionuclide identity", "HPGe gamma spectrometry",
                     "Fr-221 218 keV and Bi-213 440 keV present", "218.1 keV and 440.4 keV",
                     EOS + timedelta(minutes=50), "measured"),
        CriterionRow(LONG_TEST_NAME, "radio-TLC (Fr-221 window)", "≥ 90 %", "97.4 %",
                     EOS + timedelta(minutes=45), "measured"),
        CriterionRow("activity", "dose calibrator (Ac-225 setting)", "nominal ± 5 %",
                     "41.2 MBq", EOS + timedelta(minutes=10), "calibration", cal,
                     "40.9 MBq (nominal 40 MBq)"),
        CriterionRow("activity concentration", "calculated", "0.4 – 2.8 MBq/mL", "2.06 MBq/mL",
                     EOS + timedelta(minutes=10), "calibration", cal, "2.05 MBq/mL"),
        CriterionRow("pH", "indicator strip", "5.5 – 9.0", "6.5", EOS + timedelta(minutes=15),
                     "measured"),
        CriterionRow("bacterial endotoxins", "LAL (Endosafe PTS)", "< 5 EU/mL", "< 1.0 EU/mL",
                     EOS + timedelta(minutes=40), "measured"),
        CriterionRow("filter integrity", "bubble point, 0.22 µm membrane", "≥ 3.5 bar",
                     "3.9 bar", EOS + timedelta(minutes=12), "measured"),
        CriterionRow("sterility", "Ph. Eur. 2.6.1", "sterile; may release before result",
                     "pending (result due after 14 d incubation)", None, "measured",
                     verdict="pending"),
        CriterionRow("Ac-227 / Ac-225", "source-lot certificate, projected", "≤ 0.7 %",
                     "0.31 % at source reference time", EOS - timedelta(days=6), "expiry",
                     expiry, "0.69 % at expiry"),
        CriterionRow("vector integrity", "HPLC-UV, precursor peak", "≥ 95 % intact", "98.1 %",
                     EOS + timedelta(minutes=35), "measured"),
        CriterionRow("radionuclidic purity (γ, β⁻ emitters)", "HPGe gamma spectrometry",
                     "≤ 0.1 % of activity", "< 0.02 %", EOS + timedelta(minutes=55),
                     "calibration", cal, "< 0.02 %"),
        CriterionRow("storage temperature during hold", "data logger", "2 – 8 °C", "4.1 °C",
                     EOS + timedelta(minutes=30), "measured"),
        CriterionRow("ethanol content", "GC", "≤ 10 % v/v", "6.8 % v/v",
                     EOS + timedelta(minutes=38), "measured"),
        CriterionRow("residual precursor", "HPLC-UV", "≤ 50 µg per dose", "21 µg per dose",
                     EOS + timedelta(minutes=36), "measured"),
    ]
    extra = [CriterionRow(f"additional test {i}", "example method", "≤ 1 %", "0.2 %",
                          EOS + timedelta(minutes=30), "measured") for i in range(count)]
    return tuple((rows + extra)[:count])


def make_certificate_data(**changes) -> CertificateData:
    """A conditionally released accelerator 225Ac antibody conjugate, 15 criteria."""
    expiry = EOS + timedelta(days=6)
    times = [EOS + timedelta(hours=h) for h in (0, 1, 24, 48, 72, 96, 120, 144)]
    ac225_eos = 42e6
    hours = [(t - EOS).total_seconds() / 3600 for t in times]
    ac225 = [_decayed(ac225_eos, AC225_HALF_LIFE_H, h) for h in hours]
    data = CertificateData(
        site_name="Alpha Radiopharmacy Amsterdam",
        site_address="Science Park 140, 1098 XG Amsterdam, NL",
        product_name="[²²⁵Ac]Ac-DOTA-J591 injection",
        dosage_form="solution for injection, 20 mL vial",
        product_nuclide="Ac-225",
        family_label="central ²²⁵Ac",
        lot_number="AC-2025-0330-01",
        document_id="CERT-AC-2025-0330-01",
        version=2,
        supersedes_version=1,
        paper_size="A4",
        time_zone="Europe/Amsterdam",
        source=AcSourceLot(
            supplier="Example Isotopes GmbH",
            lot="EI-AC225-7781",
            production_route="accelerator (Th-232 spallation), chemically separated",
            ac227_share_percent=0.31,
            reference_time=EOS - timedelta(days=6),
        ),
        eos=EOS,
        calibration_time=EOS + timedelta(hours=1),
        expiry=expiry,
        expiry_reason="Ac-227/Ac-225 share reaches the 0.7 % limit (shelf life 7 d)",
        activity_at_calibration_bq=ac225[1],
        volume_ml=20.0,
        activity_concentration_bq_per_ml=ac225[1] / 20.0,
        criteria=ac225_criteria(15),
        decay=DecayTable(
            times=tuple(times),
            activities_bq={
                "Ac-225": ac225,
                "Bi-213": [a * 0.98 for a in ac225],
                "Ac-227": [ac225_eos * 0.0031 * 0.5 * _decayed(1, AC227_HALF_LIFE_H, h)
                           for h in hours],
            },
        ),
        disposition="conditionally released",
        disposition_statement=(
            "All release-required criteria passed on valid results. Sterility may be "
            "released before its result and is pending; the batch is released on condition "
            "that it passes."
        ),
        pending_tests=("sterility (Ph. Eur. 2.6.1), result due 2025-04-13",),
        signatures=(
            SignatureLine("Dr. Ingrid Vermeulen", "QA reviewer", "reviewed",
                          EOS + timedelta(hours=1, minutes=5)),
            SignatureLine("Dr. Joost de Qualified-Persoon", "Qualified Person",
                          "conditionally released", EOS + timedelta(hours=1, minutes=12)),
        ),
        nuclear_data_source="ICRP Publication 107 (radioactivedecay 0.6.1)",
        half_life_overrides=("none",),
    )
    return replace(data, **changes)


def make_generator_data(**changes) -> CertificateData:
    """A fully released 212Pb generator product with no pending tests."""
    base = make_certificate_data()
    times = tuple(EOS + timedelta(hours=h) for h in (0, 1, 4, 8, 12, 24))
    pb = [_decayed(800e6, 10.64, (t - EOS).total_seconds() / 3600) for t in times]
    return replace(
        base,
        product_name="[212Pb]Pb-DOTAMTATE injection",
        product_nuclide="Pb-212",
        family_label="generator 212Pb",
        lot_number="PB-2025-0330-02",
        source=GeneratorSource("VMT-GEN-0042", "Th-228", EOS - timedelta(minutes=50), 1.1e9),
        expiry=EOS + timedelta(hours=24),
        expiry_reason="approved shelf life 24 h after EOS",
        criteria=ac225_criteria(8),
        decay=DecayTable(times=times, activities_bq={"Pb-212": pb,
                                                     "Bi-212": [a * 1.105 for a in pb]}),
        disposition="released",
        disposition_statement="All release-required criteria passed on valid results.",
        pending_tests=(),
        **changes,
    )


def make_bi213_data(**changes) -> CertificateData:
    """A per-patient 213Bi dose: one hour of shelf life, so the chart counts minutes."""
    base = make_generator_data()
    times = tuple(EOS + timedelta(minutes=m) for m in (-5, 0, 10, 20, 30, 45, 60))
    bi = [_decayed(1.2e9, 45.6 / 60, (t - EOS).total_seconds() / 3600) for t in times]
    return replace(
        base,
        product_name="[213Bi]Bi-DOTATOC injection",
        product_nuclide="Bi-213",
        family_label="generator 213Bi",
        lot_number="BI-2025-0330-07",
        source=GeneratorSource("AC-GEN-0007", "Ac-225", EOS - timedelta(minutes=12), 1.5e9),
        calibration_time=EOS + timedelta(minutes=5),
        expiry=EOS + timedelta(hours=1),
        expiry_reason="approved shelf life 1 h after EOS",
        decay=DecayTable(times=times, activities_bq={"Bi-213": bi}),
        **changes,
    )


# ---------------------------------------------------------------- poppler helpers


def page_count(pdf: Path) -> int:
    done = subprocess.run([poppler("pdfinfo"), str(pdf)], capture_output=True, check=True,
                          text=True)
    return int(re.search(r"^Pages:\s+(\d+)", done.stdout, re.M).group(1))


def words_with_boxes(pdf: Path) -> list[dict]:
    html = pdf_text(pdf, "-bbox")
    pages = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S)
    words = []
    for number, (width, height, body) in enumerate(pages, start=1):
        for x0, y0, x1, y1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
            body,
        ):
            words.append({"page": number, "x0": float(x0), "y0": float(y0), "x1": float(x1),
                          "y1": float(y1), "word": word, "width": float(width),
                          "height": float(height)})
    return words


def write_pdf(tmp_path: Path, data: CertificateData, name: str = "cert.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(render_certificate(data))
    return path


# ---------------------------------------------------------------- tests


def test_the_text_layer_holds_the_lot_every_test_name_and_the_signers(tmp_path):
    data = make_certificate_data()
    text = " ".join(pdf_text(write_pdf(tmp_path, data)).split())

    assert data.lot_number in text
    for criterion in data.criteria:
        assert criterion.test.split()[0] in text
        assert " ".join(criterion.test.split()[:3]) in text or len(criterion.test) > 60
    for signature in data.signatures:
        assert signature.printed_name in text
    assert "ICRP Publication 107" in text
    assert "CERT-AC-2025-0330-01 version 2 · supersedes version 1" in text


@pytest.mark.parametrize("paper_size, width_pt", [("A4", 595), ("Letter", 612)])
def test_every_page_prints_on_a4_and_letter_and_none_is_blank(tmp_path, paper_size, width_pt):
    pdf = write_pdf(tmp_path, make_certificate_data(paper_size=paper_size))
    subprocess.run([poppler("pdftoppm"), "-png", "-r", "40", str(pdf), str(tmp_path / "p")],
                   check=True)
    pngs = sorted(tmp_path.glob("p*.png"))

    assert len(pngs) == page_count(pdf) >= 2
    for png in pngs:
        with Image.open(png) as image:
            assert image.width == round(width_pt * 40 / 72)
            assert ImageStat.Stat(image.convert("L")).var[0] > 100, f"{png.name} is blank"


@pytest.mark.parametrize("paper_size", ["A4", "Letter"])
def test_nothing_runs_off_the_page(tmp_path, paper_size):
    words = words_with_boxes(write_pdf(tmp_path, make_certificate_data(paper_size=paper_size)))

    assert words
    for w in words:
        assert 30 <= w["x0"] and w["x1"] <= w["width"] - 30, w
        assert 20 <= w["y0"] and w["y1"] <= w["height"] - 15, w


def test_a_long_test_name_wraps_onto_several_lines_inside_its_cell(tmp_path):
    words = words_with_boxes(write_pdf(tmp_path, make_certificate_data()))
    first, last = LONG_TEST_NAME.split()[0], LONG_TEST_NAME.split()[-1].rstrip(")")
    start = next(w for w in words if w["word"] == first)
    end = next(w for w in words if w["word"].startswith(last) and w["y0"] > start["y0"])

    assert end["y0"] - start["y0"] > 20  # several lines further down, same cell
    assert end["x1"] < start["width"] * 0.4  # still in the first column


def test_a_conditional_release_with_15_criteria_lists_the_pending_tests_in_a_box(tmp_path):
    data = make_certificate_data()
    pdf = write_pdf(tmp_path, data)
    text = " ".join(pdf_text(pdf).split())

    assert len(data.criteria) == 15
    assert "CONDITIONALLY RELEASED" in text
    assert "Conditional release: results pending" in text
    assert "sterility (Ph. Eur. 2.6.1), result due 2025-04-13" in text
    assert "post-release out of specification" in text and "recalled" in text
    assert text.count("PASS") == 14 and text.count("PENDING") == 1


def test_a_fully_released_generator_batch_shows_its_generator_and_no_pending_box(tmp_path):
    text = " ".join(pdf_text(write_pdf(tmp_path, make_generator_data())).split())

    assert "RELEASED" in text and "CONDITIONALLY" not in text
    assert "VMT-GEN-0042" in text and "²²⁸Th" in text
    assert "results pending" not in text
    assert "²¹²Pb" in text and "²¹²Bi" in text


def test_special_characters_are_in_the_text_layer(tmp_path):
    text = pdf_text(write_pdf(tmp_path, make_certificate_data()))

    for needle in ("²²⁵Ac", "²²⁷Ac", "β⁻", "≥ 90 %", "≤ 0.7 %", "µg", "°C", "±", "–"):
        assert needle in text, needle


def test_every_page_has_the_header_with_site_lot_document_and_page_of_pages(tmp_path):
    data = make_certificate_data()
    pdf = write_pdf(tmp_path, data)
    pages = page_count(pdf)

    for number in range(1, pages + 1):
        text = pdf_text(pdf, "-f", str(number), "-l", str(number))
        assert data.site_name in text
        assert f"Lot {data.lot_number}" in text
        assert f"{data.document_id} version 2" in text
        assert f"page {number} of {pages}" in text
        assert "Dr. Joost de Qualified-Persoon" in text  # signature manifestation


def test_times_are_shown_in_the_site_zone_and_in_utc(tmp_path):
    text = pdf_text(write_pdf(tmp_path, make_certificate_data()))

    # EOS 08:40 UTC on 30 March 2025 is 10:40 CEST in Amsterdam.
    assert "2025-03-30 10:40 CEST (08:40 UTC)" in text
    assert "2025-04-05 10:40 CEST (08:40 UTC)" in text  # expiry


def test_the_decay_chart_is_labelled_with_units_times_and_a_legend(tmp_path):
    text = pdf_text(write_pdf(tmp_path, make_certificate_data()))

    assert "Time after EOS (d); EOS = 2025-03-30 10:40 CEST / 08:40 UTC" in text
    assert "Activity (log scale)" in text
    assert "expiry" in text and "cal." in text
    assert "MBq" in text and "kBq" in text


def test_nuclides_are_written_with_a_superscript_mass_number():
    assert nuclide_label("Ac-225") == "²²⁵Ac"
    assert nuclide_label("Bi-213") == "²¹³Bi"
    assert nuclide_label("sterility") == "sterility"


def test_it_refuses_a_naive_time():
    from zoneinfo import ZoneInfo

    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2025, 1, 1, 12, 0), ZoneInfo("Europe/Amsterdam"))


def test_a_213bi_dose_with_one_hour_of_shelf_life_is_charted_in_minutes(tmp_path):
    text = pdf_text(write_pdf(tmp_path, make_bi213_data()))

    assert "Time after EOS (min)" in text
    assert "Activity (GBq)" in text  # one line: linear axis in the largest unit
    assert "AC-GEN-0007" in text and "²¹³Bi" in text


def test_a_certificate_without_decay_data_leaves_out_the_chart(tmp_path):
    data = make_certificate_data(decay=DecayTable(times=(), activities_bq={}))
    text = pdf_text(write_pdf(tmp_path, data))

    assert "Decay to expiry" not in text
    assert data.lot_number in text


def test_a_site_in_utc_shows_utc_once():
    from zoneinfo import ZoneInfo

    moment = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert format_time(moment, ZoneInfo("UTC")) == "2025-01-01 12:00 UTC"
    assert format_time(moment, ZoneInfo("Europe/London")) == "2025-01-01 12:00 GMT (12:00 UTC)"


def test_a_long_site_name_shrinks_instead_of_running_into_the_header(tmp_path):
    data = make_certificate_data(
        site_name="Academisch Radiofarmaceutisch Productiecentrum voor Alfatherapie "
                  "Amsterdam Universitair Medische Centra, locatie Science Park")
    header = [w for w in words_with_boxes(write_pdf(tmp_path, data))
              if w["page"] == 1 and w["y1"] < 45]

    assert any(w["word"] == "Academisch" for w in header)
    for a in header:
        for b in header:
            overlap = a is not b and a["x0"] < b["x1"] and b["x0"] < a["x1"] and (
                a["y0"] < b["y1"] and b["y0"] < a["y1"])
            assert not overlap, (a["word"], b["word"])


def test_a_pending_test_is_judged_at_no_time_yet(tmp_path):
    pdf = write_pdf(tmp_path, make_certificate_data())
    text = pdf_text(pdf, "-layout")
    sterility = next(line for line in text.splitlines() if line.lstrip().startswith("sterility"))
    assert "PENDING" in sterility
    assert "measured" not in sterility
    assert sterility.split()[-2:] == ["pending", "PENDING"]


def test_the_time_axis_starts_at_eos_when_the_first_row_is_a_fraction_of_a_second_early():
    from zoneinfo import ZoneInfo

    from batches.pdf.chart import decay_chart
    from batches.pdf.fonts import register_fonts

    base = make_bi213_data()
    eos = base.eos + timedelta(seconds=0.4)  # stored table times are cut to the second
    times = tuple(base.eos + timedelta(minutes=m) for m in (0, 20, 40, 60))
    data = replace(base, eos=eos, decay=DecayTable(
        times=times, activities_bq={"Bi-213": [1.2e9, 0.9e9, 0.6e9, 0.4e9]}))
    plot = decay_chart(data, register_fonts()[0], ZoneInfo("Europe/Amsterdam"), 500).contents[0]
    assert plot.xValueAxis.valueMin == 0


def test_the_footer_keeps_the_release_signature_whole_when_not_all_signatures_fit(tmp_path):
    base = make_certificate_data()
    release = SignatureLine("Dr. Joost de Qualified-Persoon", "Qualified Person", "released",
                            EOS + timedelta(days=14))
    data = replace(base, signatures=(*base.signatures, release))
    pdf = write_pdf(tmp_path, data)
    footer = pdf_text(pdf, "-f", "1", "-l", "1").split("\n\n")
    lines = next(block for block in footer if "electronic signatures" in block.lower())
    assert lines.startswith(("Electronic signatures:", "Latest electronic signatures"))
    assert "released by Dr. Joost de Qualified-Persoon (Qualified Person) 2025-04-13" in \
        " ".join(lines.split())


@pytest.mark.parametrize("make", [make_certificate_data, make_generator_data],
                         ids=["conditional", "generator"])
def test_every_font_the_unsigned_certificate_names_is_embedded(tmp_path, make):
    assert fonts_not_embedded(write_pdf(tmp_path, make())) == set()
