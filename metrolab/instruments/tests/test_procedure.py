"""The procedure format `metrolab-procedure/1` (issue 16, R8b): schema errors name every
problem with its path; the built-in DC-voltage procedure compiles against the built-in record
template and fills exactly its reading cells."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from metrolab.instruments.procedure import (
    MeasureStep,
    ProcedureError,
    PromptStep,
    SetupStep,
    StandbyStep,
    builtin_procedures,
    compile_procedure,
    load_procedure,
)
from metrolab.metrology.record_template import builtin_templates, compile_template

D = Decimal


@pytest.fixture
def template():
    return builtin_templates()["dmm-dc-voltage"]


@pytest.fixture
def procedure():
    return copy.deepcopy(builtin_procedures()["dmm-dc-voltage"])


def test_builtin_procedure_compiles_against_the_builtin_template(procedure, template):
    compiled = compile_procedure(procedure, template=template)
    assert (compiled.code, compiled.version, compiled.template) == (
        "dmm-dc-voltage",
        "1",
        "dmm-dc-voltage",
    )
    assert set(compiled.roles) == {"source", "uut"}
    plan = compiled.plan({}, template=template)
    kinds = [type(s) for s in plan.steps]
    assert kinds == [SetupStep, SetupStep, PromptStep] + [MeasureStep] * 4 + [StandbyStep]
    measures = [s for s in plan.steps if isinstance(s, MeasureStep)]
    assert [s.nominal for s in measures] == [D("1"), D("5"), D("10"), D("-10")]
    assert [s.point for s in measures] == [1, 2, 3, 4]
    # every reading cell of the record, in the template's order, once
    reading_cells = [c.id for c in compile_template(template).cells({}) if c.kind == "reading"]
    assert [cell for s in measures for cell in s.cells] == reading_cells
    assert measures[0].cells == tuple(f"reading.1.{j}" for j in range(1, 6))
    setup = plan.steps[1]
    assert (setup.role, setup.reset, setup.function, setup.range, setup.unit) == (
        "uut",
        True,
        "dcv",
        D("10"),
        "V",
    )
    # tolerance = the DMM's specification 35 ppm of reading + 5 ppm of the 10 V range
    assert measures[0].tolerance_limit() == D("0.000085")
    assert measures[2].tolerance_limit() == D("0.000400")
    # the calibrator's accuracy 12 ppm of output + 2 ppm of range, for the TUR
    assert measures[3].standard_limit() == D("0.000140")
    assert measures[0].settle == {
        "rule": "stdev", "last": 3, "below": D("0.00002"),
        "interval": D("0.5"), "max_seconds": D("30"),
    }  # fmt: skip


def test_the_plan_follows_the_record_parameters(procedure, template):
    compiled = compile_procedure(procedure, template=template)
    plan = compiled.plan({"points": "2, 20", "repeats": "3", "range": "100"}, template=template)
    measures = [s for s in plan.steps if isinstance(s, MeasureStep)]
    assert [(s.nominal, s.range, s.readings) for s in measures] == [
        (D("2"), D("100"), 3),
        (D("20"), D("100"), 3),
    ]
    assert measures[1].cells == ("reading.2.1", "reading.2.2", "reading.2.3")
    assert measures[1].tolerance_limit() == D("0.001200")  # 35 × 20 + 5 × 100 µV


def test_every_schema_problem_is_named_with_its_path(procedure, template):
    bad = copy.deepcopy(procedure)
    bad["colour"] = "red"
    bad["roles"][1]["kind"] = "dmm"
    bad["steps"][0]["role"] = "calibrator"
    bad["steps"][1]["configure"]["unit"] = "A"
    bad["steps"][3]["unit"] = "Ω"
    bad["steps"][3]["settle"] = {"rule": "stdev", "last": 3}
    bad["steps"][3]["speed"] = 2
    bad["steps"][4]["roles"] = ["uut"]
    with pytest.raises(ProcedureError) as caught:
        compile_procedure(bad, template=template)
    errors = caught.value.errors
    assert errors["colour"] == ["is not a key of this format"]
    assert errors["roles.1.kind"] == ["must be one of source, meter, reference"]
    assert errors["steps.3.speed"] == ["is not a key of this format"]
    assert set(errors) == {"colour", "roles.1.kind", "steps.3.speed"}  # schema first

    bad.pop("colour")
    bad["roles"][1]["kind"] = "meter"
    bad["steps"][3].pop("speed")
    with pytest.raises(ProcedureError) as caught:
        compile_procedure(bad, template=template)
    errors = caught.value.errors
    assert errors == {
        "steps.0.role": ["the role 'calibrator' is not declared in roles"],
        "steps.1.configure.unit": ["'A' is not a unit of dcv (V, mV, µV, kV)"],
        "steps.3.unit": [
            "'Ω' is not a unit of dcv (V, mV, µV, kV)",
            "the input 'reading' is in V, not Ω",
        ],
        "steps.3.settle.below": ["is required for the stdev rule"],
        "steps.3.settle.max_seconds": ["is required for the stdev rule"],
        "steps.4.roles.0": ["the role 'uut' is not a source"],
    }
    assert caught.value.field == "steps.0.role"


def test_cells_parameters_and_roles_are_checked_against_the_template(procedure, template):
    bad = copy.deepcopy(procedure)
    bad["roles"][0]["template_role"] = "reference_meter"
    bad["steps"][3]["cells"] = "dmm.{point}.{repeat}"
    bad["steps"][3]["readings"] = {"parameter": "n"}
    bad["steps"][3]["tolerance"]["ppm"] = {"parameter": "spec_ppm"}
    with pytest.raises(ProcedureError) as caught:
        compile_procedure(bad, template=template)
    assert caught.value.errors == {
        "roles.0.template_role": ["the record template has no equipment role 'reference_meter'"],
        "steps.3.readings": ["the record template has no parameter 'n'"],
        "steps.3.tolerance.ppm": ["the record template has no parameter 'spec_ppm'"],
        "steps.3.cells": ["the record template has no input 'dmm'"],
    }
    # a cell pattern without {repeat} for a repeated input
    bad = copy.deepcopy(procedure)
    bad["steps"][3]["cells"] = "reading.{point}"
    with pytest.raises(ProcedureError) as caught:
        compile_procedure(bad, template=template)
    assert caught.value.errors["steps.3.cells"] == [
        "several readings need {repeat} in the cell pattern",
        "the input 'reading' is repeated: use {point}.{repeat}",
    ]
    # the procedure names the template it fills
    other = copy.deepcopy(procedure)
    other["template"] = "insulation-resistance"
    with pytest.raises(ProcedureError) as caught:
        compile_procedure(other, template=template)
    assert caught.value.errors == {
        "template": ["the procedure fills 'insulation-resistance', not 'dmm-dc-voltage'"]
    }


def test_listed_points_must_be_cells_of_the_record(procedure, template):
    listed = copy.deepcopy(procedure)
    listed["steps"][3]["points"] = ["1", "2", "3", "4", "5"]  # the record has 4 points
    compiled = compile_procedure(listed, template=template)
    with pytest.raises(ProcedureError) as caught:
        compiled.plan({}, template=template)
    assert caught.value.errors == {
        "steps.3.cells": [f"the record has no cell 'reading.5.{j}'" for j in range(1, 6)]
    }
    # four listed points fit the record's four points
    listed["steps"][3]["points"] = [1, "2.5", 3, "-0.5"]
    plan = compile_procedure(listed, template=template).plan({}, template=template)
    assert [s.nominal for s in plan.steps if isinstance(s, MeasureStep)] == [
        D("1"), D("2.5"), D("3"), D("-0.5"),
    ]  # fmt: skip


def test_a_procedure_without_template_uses_listed_points_and_numbers():
    definition = {
        "format": "metrolab-procedure/1",
        "code": "quick-10v",
        "version": "1",
        "title": {"zh": "10 V 快速检查", "en": "10 V quick check"},
        "template": "dmm-dc-voltage",
        "roles": [
            {"name": "cal", "label": {"zh": "校准器", "en": "Calibrator"}, "kind": "source"},
            {"name": "dmm", "label": {"zh": "表", "en": "DMM"}, "kind": "meter"},
        ],
        "steps": [
            {
                "kind": "measure",
                "function": "dcv",
                "unit": "V",
                "range": "10",
                "points": ["10"],
                "source": "cal",
                "read": "dmm",
                "settle": {"rule": "wait", "seconds": 2},
                "readings": 2,
                "cells": "reading.{point}.{repeat}",
                "tolerance": {"percent": "0.01", "units": "0.0001"},
            },
            {"kind": "standby"},
        ],
    }
    plan = compile_procedure(definition).plan()
    step = plan.steps[0]
    assert (step.name, step.cells, step.settle) == (
        "measure1.1",
        ("reading.1.1", "reading.1.2"),
        {"rule": "wait", "seconds": D("2")},
    )
    assert step.tolerance_limit() == D("0.0011")  # 0.01 % of 10 V + 0.0001 V
    assert plan.steps[1].roles == ("cal",)


def test_malformed_values_and_steps_are_reported(procedure):
    bad = copy.deepcopy(procedure)
    bad["steps"].append({"kind": "dance"})
    bad["steps"][3]["settle"]["below"] = "a lot"
    bad["steps"][3]["points"] = ["1", "ten"]
    with pytest.raises(ProcedureError) as caught:
        compile_procedure(bad)
    assert caught.value.errors == {
        "steps.5.kind": ["must be one of setup, prompt, measure, standby"]
    }
    bad["steps"].pop()
    with pytest.raises(ProcedureError) as caught:
        compile_procedure(bad)
    assert caught.value.errors == {
        "steps.3.settle.below": ["'a lot' is not a number"],
        "steps.3.points.1": ["'ten' is not a number"],
    }
    with pytest.raises(ProcedureError) as caught:
        compile_procedure({"format": "metrolab-procedure/1"})
    assert set(caught.value.errors) == {"code", "version", "title", "template", "roles", "steps"}


def test_yaml_and_json_texts_load(procedure):
    yaml = pytest.importorskip("yaml")
    assert load_procedure(yaml.safe_dump(procedure, allow_unicode=True)) == procedure
    assert load_procedure(json.dumps(procedure)) == procedure
    with pytest.raises(ProcedureError):
        load_procedure("[1, 2]")
