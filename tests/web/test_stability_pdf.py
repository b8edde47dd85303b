"""The PDF stability summary, read back with poppler as a reader would."""



from batches.stability.selectors import product_stability
from tests.batches.stability_helpers import H, approved_protocol, record_study
from tests.batches.test_stability_estimate import TRENDS
from tests.factories import make_ac225_batch
from tests.poppler import fonts_not_embedded, pdf_text


def test_the_summary_states_the_study_and_each_criterion_s_estimate(
        client_for, reviewer, qp, operator, analyst, products, now, tmp_path):
    product = products["ac225-psma-it"]
    protocol = approved_protocol(product, reviewer=reviewer, qp=qp)
    lots = [make_ac225_batch(product=product, operator=operator, eos=now - (10 + i) * H)
            for i in range(3)]
    record_study(analyst, protocol, lots, TRENDS)
    stability = product_stability(product)

    response = client_for(reviewer).get("/products/ac225-psma-it/stability/summary.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(response.content)
    text = " ".join(pdf_text(pdf).split())
    assert "Stability summary: [225Ac]Ac-PSMA-I&T injection (ac225-psma-it)" in text
    assert f"Supported shelf life {stability.supported_shelf_life_s / 3600:.3g} h (ICH Q1E)" \
        in text
    rcp = next(s for s in stability.criteria if s.criterion.test_code == "rcp")
    assert f"model separate · observed support 6 h · statistical estimate " \
           f"{rcp.statistical_s / 3600:.3g} h" in text
    assert all(lot.lot_number in text for lot in lots)
    assert fonts_not_embedded(pdf) == set()


def test_without_a_study_the_summary_says_the_shelf_life_is_not_yet_supported(
        client_for, reviewer, products, tmp_path):
    response = client_for(reviewer).get("/products/bi213-dotatoc/stability/summary.pdf")

    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(response.content)
    assert "not yet supported by stability data" in " ".join(pdf_text(pdf).split())


def test_an_outsider_does_not_get_the_summary(client_for, outsider, products):
    response = client_for(outsider).get("/products/ac225-psma-it/stability/summary.pdf")

    assert response.status_code == 403
