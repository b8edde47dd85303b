"""deploy/env.example reads the same through sh (`set -a; . env`, as the guide, the backup
script and cron do) as it says on the page, and as systemd's EnvironmentFile= reads it."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def env_example_as_written() -> dict[str, str]:
    """What each line means: NAME=value, or NAME="value" with the quotes taken off."""
    meant = {}
    for line in (ROOT / "deploy/env.example").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, value = ASSIGNMENT.match(line).groups()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r'\\([$`"\\])', r"\1", value[1:-1])
        meant[name] = value
    return meant


def env_example_through_sh() -> tuple[dict[str, str], str]:
    run = subprocess.run(["sh", "-c", "set -a; . ./env.example; env -0"], cwd=ROOT / "deploy",
                         env={"PATH": "/usr/bin:/bin"}, capture_output=True, timeout=30)
    pairs = (item.decode().partition("=") for item in run.stdout.split(b"\0") if item)
    return {name: value for name, _, value in pairs}, run.stderr.decode()


def test_every_variable_of_env_example_comes_out_of_sh_as_meant():
    seen, errors = env_example_through_sh()
    assert errors == "", "sh ran part of a value as a command"
    meant = env_example_as_written()
    assert "SITE_NAME" in meant and "SITE_ADDRESS" in meant
    assert {name: seen.get(name) for name in meant} == meant
    assert seen["SITE_NAME"] == "Example Radiopharmacy"
    assert seen["SITE_ADDRESS"] == "1 Isotope Lane, Amsterdam, NL"


def test_no_unquoted_value_holds_what_sh_or_systemd_would_read_differently():
    for line in (ROOT / "deploy/env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            value = line.partition("=")[2]
            assert (value.startswith('"') and value.endswith('"')) or not re.search(
                r"[\s$`\\\"';&|<>()#*?]", value), line
