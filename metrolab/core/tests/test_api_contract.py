"""The published API contract (R7.2d): every schema name means one thing, and every operation
documents what it answers. A duplicate name made `POST /commissions/{pk}/review` document the
risk-review body, and two lists the wrong response."""

from __future__ import annotations

import typing
from collections import defaultdict

from ninja import Schema
from pydantic import BaseModel

from config.api import api


def _models_in(annotation, seen: set) -> typing.Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation, seen)
        return
    for argument in typing.get_args(annotation):
        yield from _models_in(argument, seen)


def _operations():
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                yield prefix + path, operation


def test_every_component_name_names_one_schema():
    by_name: dict[str, set[str]] = defaultdict(set)
    seen: set = set()
    for _path, operation in _operations():
        roots = [*operation.models, *operation.response_models.values()]
        roots = [m for m in roots if isinstance(m, type) and issubclass(m, BaseModel)]
        for root in roots:
            for field in root.model_fields.values():
                for model in _models_in(field.annotation, seen):
                    by_name[model.__name__].add(f"{model.__module__}.{model.__qualname__}")
    duplicates = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert duplicates == {}


def test_every_operation_documents_its_answer():
    schema = api.get_openapi_schema()
    undocumented = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            success = {code: r for code, r in responses.items() if str(code).startswith("2")}
            if not success:
                undocumented.append(f"{method.upper()} {path}: no success response")
            for code, response in success.items():
                if str(code) != "204" and not response.get("content"):
                    undocumented.append(f"{method.upper()} {path} {code}: no schema")
    assert undocumented == []


def _resolved(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _success_schemas(operation: dict):
    for code, response in operation.get("responses", {}).items():
        if str(code).startswith("2") and str(code) != "204":
            content = response.get("content", {})
            # JSON, or a file download's own media type with a binary schema.
            body = content.get("application/json") or next(iter(content.values()), {})
            yield code, body.get("schema")


def _untyped(schema: dict | None, components: dict) -> bool:
    """No schema, `{}`, or an object without named fields (a bare dict)."""
    if not schema:
        return True
    schema = _resolved(schema, components)
    if "anyOf" in schema or "oneOf" in schema:
        return any(_untyped(s, components) for s in schema.get("anyOf", schema.get("oneOf")))
    return schema.get("type", "object") == "object" and not schema.get("properties")


def list_problems(schema: dict) -> list[str]:
    """Every list operation is paged the one way (R7.2d): `limit` and `offset` in the query,
    `{items, count}` in the answer. A list operation: a GET answering an array, or an object
    with `items` and `count`."""
    components = schema["components"]["schemas"]
    problems = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method != "get":
                continue
            query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            for code, body in _success_schemas(operation):
                body = _resolved(body or {}, components)
                where = f"GET {path} {code}"
                if body.get("type") == "array":
                    problems.append(f"{where}: a bare array, not {{items, count}}")
                    continue
                fields = set(body.get("properties", {}))
                if {"items", "count"} <= fields:
                    if fields != {"items", "count"}:
                        problems.append(f"{where}: {sorted(fields)} besides items and count")
                    if not {"limit", "offset"} <= query:
                        problems.append(f"{where}: no limit / offset parameters")
    return problems


def untyped_problems(schema: dict) -> list[str]:
    components = schema["components"]["schemas"]
    return [
        f"{method.upper()} {path} {code}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for code, body in _success_schemas(operation)
        if _untyped(body, components)
    ]


def test_every_list_is_paged_the_one_way():
    assert list_problems(api.get_openapi_schema()) == []


def test_every_answer_has_a_typed_schema():
    assert untyped_problems(api.get_openapi_schema()) == []


def test_the_walks_find_a_bare_list_and_an_untyped_answer():
    from ninja import Router

    from metrolab.core.api_contract import MetrolabAPI

    class Thing(Schema):
        name: str

    router = Router()

    @router.get("/things", response=list[Thing])
    def things(request):
        return []

    @router.get("/paged", response=dict[str, typing.Any])
    def untyped(request):
        return {}

    probe = MetrolabAPI(urls_namespace="probe-contract")
    probe.add_router("/", router)
    schema = probe.get_openapi_schema(path_prefix="/api")
    assert list_problems(schema) == ["GET /api/things 200: a bare array, not {items, count}"]
    assert untyped_problems(schema) == ["GET /api/paged 200"]
