"""The published API contract (R7.2d): every schema name means one thing, and every operation
documents what it answers. A duplicate name made `POST /commissions/{pk}/review` document the
risk-review body, and two lists the wrong response."""

from __future__ import annotations

import typing
from collections import defaultdict

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
