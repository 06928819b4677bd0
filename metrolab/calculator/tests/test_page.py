"""The uncertainty calculator page (不确定度评定)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _row(n, **fields):
    return {f"inputs-{n}-{k}": v for k, v in fields.items()}


def _post(client, model, rows, **options):
    data = {
        "model": model,
        "correlations": options.pop("correlations", ""),
        "coverage": "k2",
        "method": "gum",
        "trials": 1000000,
        "interval": "symmetric",
        "inputs-TOTAL_FORMS": len(rows),
        "inputs-INITIAL_FORMS": 0,
        "inputs-MIN_NUM_FORMS": 1,
        "inputs-MAX_NUM_FORMS": 40,
    } | options
    for n, row in enumerate(rows):
        data |= _row(n, **row)
    return client.post("/calculator/uncertainty/", data)


def test_staff_only(cast, client):
    client.force_login(cast["customer_a"])
    assert client.get("/calculator/uncertainty/").status_code == 403
    client.force_login(cast["metrologist"])
    assert client.get("/calculator/uncertainty/").status_code == 200


def test_gum_budget_from_the_form(cast, client):
    client.force_login(cast["metrologist"])
    response = _post(
        client,
        "Y = a * b",
        [
            {"name": "a", "kind": "standard", "value": "2", "param": "0.1"},
            {"name": "b", "kind": "rectangular", "value": "3", "param": str(0.2 * 3**0.5)},
        ],
    )
    assert response.status_code == 200
    assert response.context["error"] is None
    out = response.context["result"]["outputs"]["Y"]
    assert out["u"] == pytest.approx(0.5)
    html = response.content.decode()
    assert 'data-testid="reported-Y"' in html
    assert "6.0 ± 1.0" in html  # U = 1.0 (2 significant digits); y aligned to it


def test_example_loads_and_monte_carlo_draws_a_histogram(cast, client):
    client.force_login(cast["metrologist"])
    page = client.get("/calculator/uncertainty/", {"example": "additive"})
    assert "X1 + X2 + X3 + X4" in page.content.decode()
    rows = [
        {"name": f"X{i}", "kind": "rectangular", "value": "0", "param": "1.7320508075688772"}
        for i in range(1, 5)
    ]
    response = _post(
        client,
        "Y = X1 + X2 + X3 + X4",
        rows,
        method="mc",
        coverage="p95",
        trials="100000",
        seed="1",
    )
    assert response.context["error"] is None, response.context["error"]
    html = response.content.decode()
    assert "<svg" in html and 'class="histogram"' in html
    assert 'data-testid="validation"' in html


def test_bad_input_shows_a_clear_error(cast, client):
    client.force_login(cast["metrologist"])
    response = _post(
        client, "Y = a * c", [{"name": "a", "kind": "standard", "value": "2", "param": "0.1"}]
    )
    assert response.status_code == 200
    assert "c" in response.context["error"]
    response = _post(
        client, "Y a", [{"name": "a", "kind": "standard", "value": "1", "param": "0.1"}]
    )
    assert response.context["form"].errors["model"]


def test_json_mode(cast, client):
    client.force_login(cast["metrologist"])
    response = client.post(
        "/calculator/uncertainty/",
        {
            "json": '{"model": {"Y": "2*X"}, "inputs": {"X": {"value": 1, "u": 0.1}}}',
            "inputs-TOTAL_FORMS": 0,
            "inputs-INITIAL_FORMS": 0,
        },
    )
    assert response.context["result"]["outputs"]["Y"]["u"] == pytest.approx(0.2)


def test_errors_are_in_chinese_and_name_the_field_as_the_page_labels_it(cast, client):
    """A refusal names the field as the page labels it, in zh-Hans; no internal paths."""
    client.force_login(cast["metrologist"])
    response = _post(
        client,
        "E = Ps *",
        [{"name": "Ps", "kind": "standard", "value": "1", "param": "0.1"}],
    )
    error = response.context["error"]
    assert error == "测量模型（输出量 E）：无法读取表达式 'Ps *'：语法错误"
    assert "model.E" not in response.content.decode()

    response = client.post(
        "/calculator/uncertainty/",
        {
            "json": '{"model": {"E": "Ps"}, "inputs": {"Ps": {"value": 1, '
            '"distribution": "normal", "k": 2}}}'
        },
    )
    assert response.context["error"] == "输入量 Ps：扩展不确定度 U：必填"

    response = _post(
        client,
        "Y = a / b",
        [
            {"name": "a", "kind": "standard", "value": "1", "param": "0.1"},
            {"name": "b", "kind": "standard", "value": "0", "param": "0.1"},
        ],
    )
    assert response.context["error"].startswith(
        "测量模型（输出量 Y）：在这些估计值处无法计算输出量 Y"
    )
    assert "除数为零" in response.context["error"]


def test_errors_in_english_when_chosen(cast, client, settings):
    client.force_login(cast["metrologist"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        "/calculator/uncertainty/",
        {"json": '{"model": {"E": "Ps"}, "inputs": {"Ps": {"value": 1}}}'},
    )
    assert response.context["error"] == "Input Ps: standard uncertainty u: is required"
