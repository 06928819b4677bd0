"""One mapping from a refusal to an HTTP status (R7.2d, metrolab/core/errors.py): every
service refusal names its code with a member of a refusal-code enum, whose status the API
answers with."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from metrolab.core.errors import CoreRefusal, Refusal, refusal_status

ROOT = Path(__file__).resolve().parents[2]

# Being moved into a package by the equipment split; its codes switch to EquipmentRefusal
# when it lands (then remove this entry).
NOT_YET = ()


def _literal_codes(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name != "ServiceError" and "refusal" not in name.lower():
            continue
        for keyword in node.keywords:
            value = keyword.value
            if (
                keyword.arg == "code"
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                found.append(f"{path.relative_to(root)}:{node.lineno} code={value.value!r}")
    return found


def test_no_refusal_has_a_string_code():
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/tests/" in f"/{relative}" or "/migrations/" in relative:
            continue
        if relative.startswith(NOT_YET):
            continue
        offenders.extend(_literal_codes(path))
    assert offenders == []


def test_the_walk_finds_a_string_code(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('raise ServiceError("no", code="conflict")\n', encoding="utf-8")
    assert _literal_codes(sample, tmp_path) == ["sample.py:1 code='conflict'"]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (CoreRefusal.INVALID, 422),
        (CoreRefusal.CONFLICT, 409),
        (CoreRefusal.INVALID_TRANSITION, 409),
        (CoreRefusal.NOT_FOUND, 404),
        (CoreRefusal.FORBIDDEN, 403),
        ("conflict", 409),  # a plain string maps through the core's codes
        ("anything_else", 422),
    ],
)
def test_each_code_has_its_status(code, status):
    assert refusal_status(code) == status


def test_every_app_enum_member_has_a_refusal_status():
    import importlib

    for app in (
        "commissions",
        "equipment",
        "environment",
        "items",
        "methods",
        "qualifications",
        "tasks",
    ):
        module = importlib.import_module(f"metrolab.{app}.errors")
        enums = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Refusal)]
        enums = [e for e in enums if e is not Refusal]
        assert enums, app
        for enum in enums:
            for member in enum:
                assert member.status in {403, 404, 409, 422}, (app, member)
