"""`/api/v1/calc/...`: the same calculations and JSON as the CLI, for staff and devices."""

from __future__ import annotations

import pytest

from metrolab.core.permissions import SYSTEM

pytestmark = pytest.mark.django_db


def post(client, path, data):
    return client.post(f"/api/v1/calc/{path}", data, content_type="application/json")


def test_round_and_report(cast, client):
    client.force_login(cast["metrologist"])
    assert post(client, "round", {"value": "1268", "interval": "100"}).json() == {"value": "1300"}
    assert post(client, "round", {"value": 2.675, "places": 2}).json() == {"value": "2.68"}
    body = post(client, "report", {"value": "6.3", "uncertainty": "0.25"}).json()
    assert body == {"value": "6.30", "uncertainty": "0.25"}  # JJF 1059.1-2012 example


def test_uncertainty_fit_conformity(cast, client):
    client.force_login(cast["checker"])
    spec = {
        "model": {"Y": "a*b"},
        "inputs": {"a": {"value": 2, "u": 0.1}, "b": {"value": 3, "u": 0.2}},
        "coverage": {"k": 2},
    }
    out = post(client, "uncertainty", spec).json()["outputs"]["Y"]
    # u² = (3·0.1)² + (2·0.2)² = 0.09 + 0.16 = 0.25 → u = 0.5 (independent hand calculation)
    assert out["value"] == pytest.approx(6) and out["u"] == pytest.approx(0.5)
    fit = post(client, "fit", {"x": [0, 1, 2], "y": [0, 2, 4]}).json()
    assert fit["slope"] == pytest.approx(2)
    conf = post(
        client,
        "conformity",
        {"value": 9.5, "lower": None, "upper": 10, "U": 1, "rule": "nonbinary"},
    ).json()
    assert conf["decision"] == "conditional_pass"  # ILAC-G8:09/2019 non-binary zone


def test_errors_name_the_field(cast, client):
    client.force_login(cast["metrologist"])
    response = post(client, "uncertainty", {"model": {"Y": "X"}, "inputs": {"X": {"value": 1}}})
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["details"][0]["loc"] == ["inputs.X.u"]
    response = post(client, "round", {"value": "abc", "places": 1})
    assert response.status_code == 422


def test_device_token_may_calculate(cast, client):
    from metrolab.core.services import api_token_create

    _token, raw = api_token_create(
        user=cast["device"], name="bench", roles=["device"], actor=SYSTEM
    )
    response = client.post(
        "/api/v1/calc/round",
        {"value": "0.35", "places": 1},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.json() == {"value": "0.4"}


@pytest.mark.parametrize("username", ["customer_a", "regulator"])
def test_customers_and_regulators_may_not(cast, client, username):
    client.force_login(cast[username])
    assert post(client, "round", {"value": "1", "places": 0}).status_code == 403


def test_errors_are_in_chinese_with_the_path_kept_in_details(cast, client):
    client.force_login(cast["metrologist"])
    response = post(client, "uncertainty", {"model": {"E": "Ps +"}, "inputs": {"Ps": {"u": 1}}})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"] == "测量模型（输出量 E）：无法读取表达式 'Ps +'：语法错误"
    assert error["details"][0]["loc"] == ["model.E"]
    response = post(
        client,
        "uncertainty",
        {"model": {"Y": "X"}, "inputs": {"X": {"value": 1, "distribution": "normal", "k": 2}}},
    )
    error = response.json()["error"]
    assert error["message"] == "输入量 X：扩展不确定度 U：必填"
    assert error["details"][0]["loc"] == ["inputs.X.expanded"]
    response = post(client, "round", {"value": "1.25", "places": 1, "sig": 2})
    assert response.json()["error"]["message"] == (
        "小数位数：小数位数、有效位数和修约间隔只能给出其中一项"
    )
    response = post(client, "report", {"value": "1.25", "uncertainty": "0.1", "digits": 3})
    assert response.json()["error"]["message"] == "不确定度的有效位数：必须是 1 或 2"


def test_a_monte_carlo_result_keeps_every_field_of_the_library(cast, client):
    """The typed answer (UncertaintyOut) names the fields every method has and keeps those a
    Monte Carlo evaluation adds (R7.2d)."""
    client.force_login(cast["checker"])
    spec = {
        "model": {"Y": "a + b"},
        "inputs": {"a": {"value": 1, "u": 0.1}, "b": {"value": 2, "u": 0.2}},
        "method": "mc",
        "coverage": {"p": 0.95},
        "trials": 10000,
        "seed": 7,
    }
    body = post(client, "uncertainty", spec).json()
    assert body["method"] == "mc" and body["trials"] == 10000 and body["seed"] == 7
    output = body["outputs"]["Y"]
    assert output["value"] == pytest.approx(3, abs=0.02)
    assert {"histogram", "gum", "validation"} <= output.keys()
