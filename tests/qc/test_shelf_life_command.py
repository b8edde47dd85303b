"""`manage.py shelf_life FILE.csv`: the same estimate as the product page, for data outside
the system."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from qc.stability import estimate_shelf_life
from tests.qc.test_shelf_life import COMMON_SLOPE, SEPARATE

ROOT = Path(__file__).resolve().parents[2]


def write_csv(tmp_path, rows, header="batch,time_h,value"):
    path = tmp_path / "study.csv"
    path.write_text(header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


def run(*args):
    out = StringIO()
    call_command("shelf_life", *map(str, args), stdout=out)
    return out.getvalue()


def test_it_prints_the_model_both_p_values_and_the_shelf_life(tmp_path):
    path = write_csv(tmp_path, COMMON_SLOPE)
    want = estimate_shelf_life(COMMON_SLOPE, lower_limit=95.0)

    text = run(path, "--lower-limit", 95)

    assert "model: common_slope\n" in text
    assert f"p_slope: {want.p_slope:.4g}\n" in text
    assert f"p_intercept: {want.p_intercept:.4g}\n" in text
    assert f"shelf_life_h: {want.shelf_life_h:.4g}\n" in text


def test_json_gives_the_four_keys(tmp_path):
    path = write_csv(tmp_path, SEPARATE)
    want = estimate_shelf_life(SEPARATE, lower_limit=95.0)

    answer = json.loads(run(path, "--lower-limit", 95, "--json"))

    assert answer == {"model": "separate", "p_slope": pytest.approx(want.p_slope),
                      "p_intercept": None, "shelf_life_h": pytest.approx(want.shelf_life_h)}


def test_an_upper_limit_is_accepted(tmp_path):
    rows = [(b, t, 100.0 - v) for b, t, v in SEPARATE]
    path = write_csv(tmp_path, rows)

    answer = json.loads(run(path, "--upper-limit", 5, "--json"))

    assert answer["shelf_life_h"] == pytest.approx(
        estimate_shelf_life(rows, upper_limit=5.0).shelf_life_h)


def test_missing_columns_are_named(tmp_path):
    path = write_csv(tmp_path, [(r[0], r[2]) for r in SEPARATE], header="batch,value")

    with pytest.raises(CommandError, match="lacks the column time_h"):
        run(path, "--lower-limit", 95)


def test_a_non_number_is_refused_with_its_line(tmp_path):
    rows = [*SEPARATE[:3], ("A", "3h", 97.0), *SEPARATE[4:]]
    path = write_csv(tmp_path, rows)

    with pytest.raises(CommandError, match=r"Line 5: time_h '3h' is not a number"):
        run(path, "--lower-limit", 95)


def test_a_single_time_point_is_refused(tmp_path):
    path = write_csv(tmp_path, [(b, 0, 99.0) for b in "ABC"])

    with pytest.raises(CommandError, match="single time point"):
        run(path, "--lower-limit", 95)


def test_too_few_batches_is_refused_with_the_count(tmp_path):
    path = write_csv(tmp_path, [r for r in SEPARATE if r[0] != "C"])

    with pytest.raises(CommandError, match="2 batches of the 3 required"):
        run(path, "--lower-limit", 95)


def test_a_refusal_exits_non_zero_from_the_shell(tmp_path):
    path = write_csv(tmp_path, [(b, 0, 99.0) for b in "ABC"])
    env = {**os.environ, "SECRET_KEY": "test-only-secret-key-not-for-production",
           "DEBUG": "false"}

    done = subprocess.run([sys.executable, "manage.py", "shelf_life", str(path),
                           "--lower-limit", "95"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)

    assert done.returncode != 0
    assert "single time point" in done.stderr
