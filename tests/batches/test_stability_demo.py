"""The demo's stability studies: made through the services, one per product, each model of
ICH Q1E shown once, each supporting its product's approved shelf life."""

import pytest
from django.core.management import call_command

from batches import demo
from batches.stability.demo import seed_stability
from batches.stability.selectors import product_stability
from qc.models import Product

pytestmark = pytest.mark.django_db


def test_the_demo_studies_show_every_model_and_support_each_approved_shelf_life(
        committed, signing_identity, capsys):
    with committed():
        users = demo.seed()["users"]
    with committed():
        assert set(seed_stability(users)) == {"ac225-psma-it", "pb212-dotamtate",
                                              "bi213-dotatoc"}

    studies = {p.code: product_stability(p) for p in Product.objects.all()}

    rcp = {code: next(c for c in s.criteria if c.criterion.test_code == "rcp")
           for code, s in studies.items()}
    assert rcp["ac225-psma-it"].model == "separate"
    assert rcp["ac225-psma-it"].estimate.limiting_batch == "STAB-Ac225-03"
    assert rcp["pb212-dotamtate"].model == "common_slope"
    assert rcp["bi213-dotatoc"].model == "pooled"
    for study in studies.values():
        assert study.completed, study.reason
        assert study.supported_shelf_life_s >= study.approved_shelf_life_s
    with committed():
        assert seed_stability(users) == {}  # a second run changes nothing
    call_command("verify_audit")
    assert "Audit trail intact" in capsys.readouterr().out
