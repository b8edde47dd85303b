"""`manage.py decay` and GET /api/v1/decay/ give the same JSON and refuse bad input."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def run_decay(*args) -> dict:
    out = StringIO()
    call_command("decay", *args, "--json", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def test_the_command_projects_every_member_of_the_chain_at_each_time():
    report = run_decay("Ac-225", "1 GBq", "--at", "30min", "--at", "6h", "--at", "10d")
    assert report["nuclide"] == "Ac-225"
    assert report["times_s"] == [1800.0, 21600.0, 864000.0]
    assert set(report["activities_Bq"]) >= {"Ac-225", "Fr-221", "Bi-213", "Po-213"}
    assert all(len(values) == 3 for values in report["activities_Bq"].values())
    assert report["data_source"].startswith("ICRP-107")


def test_the_command_reads_activities_in_curie():
    report = run_decay("Pb-212", "27 mCi", "--at", "0s")
    assert report["activities_Bq"]["Pb-212"][0] == pytest.approx(9.99e8)


def test_the_command_gives_the_wait_for_fr221_equilibrium():
    report = run_decay("Ac-225", "--equilibrium", "Fr-221")
    assert report["daughter"] == "Fr-221" and report["fraction"] == 0.99
    assert 30 * 60 < report["wait_s"] < 34 * 60


@pytest.mark.parametrize("args, message", [
    (["Xx-1", "1 GBq", "--at", "1h"], "Unknown nuclide"),
    (["Ac-225", "1 mL", "--at", "1h"], "not a unit of activity"),
    (["Ac-225", "1 GBq", "--at=-1h"], "negative"),
    (["Ac-225", "-1 GBq", "--at", "1h"], ">= 0"),
    (["Ac-225", "--equilibrium", "Fr-221", "--fraction", "1.5"], "strictly between 0 and 1"),
    (["Ac-225", "--equilibrium", "Pb-212"], "not in the decay chain"),
])
def test_the_command_refuses_bad_input_and_says_what_is_accepted(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("decay", *args, stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_the_api_returns_the_same_json_as_the_command(client, analyst):
    client.force_login(analyst)
    response = client.get("/api/v1/decay/", {"nuclide": "Ac-225", "activity": "1 GBq",
                                             "at": ["30min", "6h"]})
    assert response.status_code == 200
    assert response.json() == run_decay("Ac-225", "1 GBq", "--at", "30min", "--at", "6h")


@pytest.mark.django_db
def test_the_api_explains_a_bad_query_as_a_problem(client, analyst):
    client.force_login(analyst)
    response = client.get("/api/v1/decay/", {"nuclide": "Ac-225", "activity": "5 kg",
                                             "at": "1h"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "accepted units" in response.json()["detail"]


@pytest.mark.django_db
def test_the_api_refuses_an_anonymous_caller(client):
    assert client.get("/api/v1/decay/", {"nuclide": "Ac-225"}).status_code in (401, 403)
