"""What a careless or hostile client may send the API, for every operation (R7.2a, R7.2d).

Each test walks the published OpenAPI schema, so a new operation is covered the day it lands.
"""

from __future__ import annotations

import json
import math

import pytest

from config.api import api
from metrolab.core.models import AuditEvent, User

NOT_OBJECTS = ['"text"', "12", "[1, 2]", "null", "true"]


def _operations_with_json_body():
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                yield method, path


def _concrete(path: str) -> str:
    """A path template with every parameter filled (1 parses as an int and as a string)."""
    import re

    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
def boss(db):
    return User.objects.create_superuser("boss", password="boss-password-1")


def _error_shape(response, status):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert body["error"]["status"] == status
    assert body["error"]["message"]
    return body


def test_every_operation_refuses_a_body_that_is_not_an_object(client, boss):
    """A string, number, list, boolean or null body was accepted and written (a string's
    `.title()` became a method's title; a PUT of a string erased a staff profile)."""
    client.force_login(boss, backend="metrolab.core.auth.ThrottledModelBackend")
    operations = list(_operations_with_json_body())
    assert len(operations) > 40
    before = AuditEvent.objects.count()
    failures = []
    for method, path in operations:
        for body in NOT_OBJECTS:
            response = getattr(client, method)(
                _concrete(path), data=body, content_type="application/json"
            )
            if response.status_code != 422 or response.json()["error"]["code"] != "invalid":
                failures.append(f"{method.upper()} {path} {body}: {response.status_code}")
    assert failures == []
    assert AuditEvent.objects.count() == before


def test_the_refusal_names_the_body(client, boss):
    client.force_login(boss, backend="metrolab.core.auth.ThrottledModelBackend")
    response = client.post("/api/v1/methods/", data='"x"', content_type="application/json")
    body = _error_shape(response, 422)
    assert body["error"]["details"][0]["loc"] == ["body"]


def test_unparseable_json_is_a_bad_request(client, boss):
    client.force_login(boss, backend="metrolab.core.auth.ThrottledModelBackend")
    response = client.post("/api/v1/methods/", data="{not json", content_type="application/json")
    _error_shape(response, 400)


def test_a_body_over_the_limit_answers_413_on_the_api(client, boss, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(boss, backend="metrolab.core.auth.ThrottledModelBackend")
    body = json.dumps({"name": "x" * 2000})
    response = client.post("/api/v1/customers/", data=body, content_type="application/json")
    assert _error_shape(response, 413)["error"]["code"] == "too_large"


def test_a_body_over_the_limit_answers_413_on_a_page(client, boss, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(boss, backend="metrolab.core.auth.ThrottledModelBackend")
    response = client.post("/customers/new/", data={"name": "x" * 2000})
    assert response.status_code == 413
    assert "text/html" in response["Content-Type"]


def test_a_chunked_body_found_too_large_while_read_answers_413(client, boss, settings):
    """No Content-Length to check up front: the limit is found when the API reads the body."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(boss, backend="metrolab.core.auth.ThrottledModelBackend")
    body = json.dumps({"name": "x" * 2000})
    response = client.generic(
        "POST",
        "/api/v1/customers/",
        data=body,
        content_type="application/json",
        CONTENT_LENGTH="",
    )
    # Django's test client always sets the length; drop it the way a chunked request has none.
    assert response.status_code in {413, 422}


def _list_operations():
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get and any(p["name"] == "offset" for p in get.get("parameters", [])):
            yield path


@pytest.mark.parametrize("param", ["limit", "offset"])
def test_huge_limits_and_offsets_are_refused_on_every_list(client, boss, param):
    client.force_login(boss, backend="metrolab.core.auth.ThrottledModelBackend")
    paths = list(_list_operations())
    assert len(paths) > 10
    failures = []
    for path in paths:
        for value in (2**63, 2**64, -1):
            response = client.get(_concrete(path), {param: value})
            if response.status_code != 422:
                failures.append(f"{path}?{param}={value}: {response.status_code}")
    assert failures == []


def test_a_list_still_pages(client, boss):
    client.force_login(boss, backend="metrolab.core.auth.ThrottledModelBackend")
    response = client.get("/api/v1/customers/", {"limit": 1000, "offset": 10**12})
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_a_huge_rounding_place_is_refused(client, boss):
    client.force_login(boss, backend="metrolab.core.auth.ThrottledModelBackend")
    for places in (-(10**9), 10**9, 2**63):
        response = client.post(
            "/api/v1/calc/round",
            data={"value": "1.2345", "places": places},
            content_type="application/json",
        )
        assert response.status_code in {400, 422}, (places, response.content[:200])


def test_non_finite_numbers_never_reach_a_response():
    """Strict JSON (RFC 8259) in one place: the API's renderer."""
    from django.test import RequestFactory

    from metrolab.core.api_contract import StrictJSONRenderer

    request = RequestFactory().get("/api/v1/x")
    text = StrictJSONRenderer().render(
        request, {"a": math.inf, "b": [1.5, -math.inf, math.nan], "c": "ok"}, response_status=200
    )
    assert json.loads(text) == {"a": None, "b": [1.5, None, None], "c": "ok"}
    assert "Infinity" not in text and "NaN" not in text


def test_identifiers_past_the_database_range_are_refused(client, boss):
    """Found by the schemathesis run: a filter or id list of 2⁹⁰ overflowed the database."""
    client.force_login(boss, backend="metrolab.core.auth.ThrottledModelBackend")
    huge = 714168305643145275394490368
    response = client.get("/api/v1/environment/actuators", {"room": huge})
    # SQLite cannot even bind the number (422); PostgreSQL compares it and finds nothing.
    empty = (200, {"items": [], "count": 0})
    assert (response.status_code, response.json()) == empty or _error_shape(response, 422)
    response = client.post(
        "/api/v1/equipment/standards",
        data={
            "name": "Standard",
            "certificate_no": "S-1",
            "certificate_expiry": "2030-01-01",
            "methods": [huge],
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    response = client.get(f"/api/v1/customers/{huge}")
    assert response.status_code in {404, 422}
