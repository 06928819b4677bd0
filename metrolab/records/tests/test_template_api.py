"""`/api/v1/record-templates/...` (R6.2d): the shapes (lists paginated `{items, count}`, a
template with its versions, a version with its definition, digest and status), the whole
life of a version through the API with its refusal codes, `POST /validate` with every path,
`POST /preview` with the engine's numbers, careless bodies (a JSON string where the
definition object belongs, a list, a missing field: 422 in the one error shape) and access
(customers 403, no such template 404)."""

from __future__ import annotations

import copy
import json

import pytest

from metrolab.core.permissions import SYSTEM
from metrolab.core.testing import nothing_written
from metrolab.records import services
from metrolab.records.models import TemplateVersion
from metrolab.records.tests.template_fixtures import *  # noqa: F403
from metrolab.records.tests.template_fixtures import JJG52

pytestmark = pytest.mark.django_db
BASE = "/api/v1/record-templates"


def post(client, path, data=None):
    body = data if isinstance(data, str) else json.dumps(data if data is not None else {})
    return client.post(f"{BASE}{path}", body, content_type="application/json")


def put(client, path, data):
    return client.put(f"{BASE}{path}", json.dumps(data), content_type="application/json")


def test_list_and_detail_shapes(cast, client, builtins):
    services.templates_load_builtin(actor=SYSTEM)
    client.force_login(cast["metrologist"])
    body = client.get(f"{BASE}/").json()
    assert body["count"] == 4
    jjg = next(t for t in body["items"] if t["code"] == JJG52)
    assert jjg["service"] == "verification"
    assert jjg["builtin"] is True
    assert jjg["approved_version"] == 1 and jjg["version_in_progress"] is None
    assert client.get(f"{BASE}/?service=verification").json()["count"] == 1
    testing = client.get(f"{BASE}/?service=testing").json()
    assert [t["code"] for t in testing["items"]] == ["insulation-resistance"]
    assert client.get(f"{BASE}/?q=dmm").json()["count"] == 1
    assert client.get(f"{BASE}/?service=nonsense").status_code == 422

    detail = client.get(f"{BASE}/{jjg['id']}").json()
    assert [v["number"] for v in detail["versions"]] == [1]
    v1 = detail["versions"][0]
    assert v1["status"] == "approved" and v1["note"] == "built-in"
    assert v1["approved_by"] is None and v1["approved_at"] is not None
    version = client.get(f"{BASE}/{jjg['id']}/versions/1").json()
    assert version["definition"] == builtins[JJG52]
    assert version["digest"] == services.definition_digest(builtins[JJG52])
    assert client.get(f"{BASE}/{jjg['id']}/versions/9").status_code == 404
    assert client.get(f"{BASE}/999999").status_code == 404


def test_the_life_of_a_version_through_the_api(cast, client, jjg52):
    client.force_login(cast["metrologist"])
    response = post(
        client,
        "/",
        {"code": JJG52, "title": "压力表", "service": "verification", "definition": jjg52},
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["version_in_progress"] == 1
    # A second draft while one is open: 409.
    response = post(client, f"/{pk}/versions", {})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "template_draft_open"

    changed = copy.deepcopy(jjg52)
    changed["parameters"][6]["default"] = "3"
    response = put(client, f"/{pk}/versions/1", {"definition": changed, "note": "3 个月"})
    assert response.status_code == 200
    assert response.json()["digest"] == services.definition_digest(changed)
    assert post(client, f"/{pk}/versions/1/submit", {}).json()["status"] == "in_review"

    # The author cannot review his own version.
    client.force_login(cast["checker"])
    response = post(client, f"/{pk}/versions/1/review", {"decision": "approve"})
    assert response.status_code == 200 and response.json()["reviewed_by"]
    client.force_login(cast["director"])
    response = post(client, f"/{pk}/versions/1/approve", {})
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    # Approved: the definition never changes.
    client.force_login(cast["metrologist"])
    response = put(client, f"/{pk}/versions/1", {"definition": jjg52})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "template_version_immutable"
    response = post(client, f"/{pk}/versions", {"note": "next"})
    assert response.status_code == 201 and response.json()["number"] == 2
    assert response.json()["definition"] == changed


def test_segregation_through_the_api(cast, client, draft):
    pk = draft.template_id
    client.force_login(cast["metrologist"])
    post(client, f"/{pk}/versions/1/submit", {})
    # A metrologist may not review (403 by the operation's roles).
    assert post(client, f"/{pk}/versions/1/review", {"decision": "approve"}).status_code == 403
    client.force_login(cast["director"])
    assert post(client, f"/{pk}/versions/1/approve", {}).json()["error"]["code"] == (
        "template_version_not_reviewed"
    )
    post(client, f"/{pk}/versions/1/review", {"decision": "approve"})
    response = post(client, f"/{pk}/versions/1/approve", {})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "template_self_approval"
    # Returning needs a note.
    response = post(client, f"/{pk}/versions/1/review", {"decision": "return"})
    assert response.status_code == 422
    response = post(client, f"/{pk}/versions/1/review", {"decision": "return", "note": "再核"})
    assert response.json()["status"] == "draft" and response.json()["review_note"] == "再核"


def test_an_invalid_definition_is_refused_with_its_paths(cast, client, draft, jjg52):
    client.force_login(cast["metrologist"])
    broken = copy.deepcopy(jjg52)
    broken["computed"][5]["expr"] = "up_after -"
    broken["inputs"][0]["unit"] = 3
    with nothing_written("records"):
        response = put(client, f"/{draft.template_id}/versions/1", {"definition": broken})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "template_invalid"
    assert ["inputs.0.unit"] in [d["loc"] for d in error["details"]]


def test_validate_returns_every_path(cast, client, jjg52):
    client.force_login(cast["metrologist"])
    body = post(client, "/validate", {"definition": jjg52}).json()
    assert body == {
        "valid": True,
        "errors": [],
        "digest": services.definition_digest(jjg52),
    }
    broken = copy.deepcopy(jjg52)
    broken["computed"][5]["expr"] = "up_after -"
    broken["computed"][6]["expr"] = "open('x')"
    body = post(client, "/validate", {"definition": broken}).json()
    assert body["valid"] is False
    paths = [e["path"] for e in body["errors"]]
    assert "computed.5.expr" in paths and "computed.6.expr" in paths


def test_preview_evaluates_the_cells(cast, client, jjg52):
    """JJG 52 defaults (0-1.6 MPa, class 1.6): at point 2 (0.32 MPa) a gauge reading 0.325
    rising after tapping against a standard at 0.32 has an error of +0.005 MPa; the MPE is
    1.6 % × 1.6 MPa = 0.0256 MPa."""
    client.force_login(cast["metrologist"])
    body = post(
        client,
        "/preview",
        {
            "definition": jjg52,
            "parameters": {"accuracy_class": "1.6"},
            "cells": {"standard.2": "0.32", "up_after.2": "0.325", "down_after.2": "0.32"},
        },
    ).json()
    assert body["valid"] is True
    point = body["evaluation"]["points"][1]["values"]
    assert point["error_up"]["text"] == "0.005" and point["error_up"]["unit"] == "MPa"
    assert point["mpe"]["text"] == "0.0256"
    assert body["evaluation"]["complete"] is False and body["evaluation"]["decision"] is None
    assert {c["id"] for c in body["cells"]} >= {"param.accuracy_class", "up_after.6"}
    assert body["results_table"]["columns"][0]["name"] == "nominal"
    # Without cells: the sample readings (each equal to its nominal value) pass.
    body = post(client, "/preview", {"definition": jjg52}).json()
    assert body["evaluation"]["decision"] == "pass"
    broken = copy.deepcopy(jjg52)
    del broken["inputs"]
    body = post(client, "/preview", {"definition": broken}).json()
    assert body["valid"] is False and body["errors"][0]["path"] == "inputs"


@pytest.mark.parametrize(
    "body",
    [
        '"a string"',
        "[1, 2]",
        '{"definition": "{\\"format\\": \\"metrolab-record-template/1\\"}"}',
        '{"definition": [1]}',
        "{}",
        "{not json",
    ],
)
def test_careless_bodies(cast, client, body):
    client.force_login(cast["metrologist"])
    for path in ("/validate", "/preview"):
        response = post(client, path, body)
        assert response.status_code in (400, 422), (path, body, response.status_code)
        assert set(response.json()) == {"error", "request_id"}


def test_a_definition_as_a_json_string_is_refused_on_create(cast, client, jjg52):
    client.force_login(cast["metrologist"])
    with nothing_written("records"):
        response = post(
            client,
            "/",
            {
                "code": JJG52,
                "title": "t",
                "service": "verification",
                "definition": json.dumps(jjg52),
            },
        )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"][-1] == "definition"


def test_customers_are_refused(cast, client, draft, jjg52):
    client.force_login(cast["customer_a"])
    pk = draft.template_id
    assert client.get(f"{BASE}/").status_code == 403
    assert client.get(f"{BASE}/{pk}").status_code == 403
    assert client.get(f"{BASE}/{pk}/versions/1").status_code == 403
    assert post(client, "/validate", {"definition": jjg52}).status_code == 403
    assert post(client, "/preview", {"definition": jjg52}).status_code == 403
    assert TemplateVersion.objects.count() == 1
