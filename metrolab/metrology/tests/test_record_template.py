"""The record-template format: validation with the faulty field's path, cells, evaluation of a
small template, and the corrections it reads (issue 14)."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from metrolab.metrology.corrections import Correction, correction_at
from metrolab.metrology.record_template import (
    SCHEMA,
    TemplateError,
    add_months,
    builtin_templates,
    compile_template,
    load_template,
)

D = Decimal


def label(text: str) -> dict[str, str]:
    return {"zh": text, "en": text}


def minimal() -> dict:
    return {
        "format": "metrolab-record-template/1",
        "code": "mini",
        "title": label("Mini"),
        "service": "calibration",
        "unit": "V",
        "parameters": [
            {"name": "points", "label": label("points"), "type": "numbers", "default": [1, 2]},
            {"name": "n", "label": label("n"), "type": "number", "default": 2},
        ],
        "points": {"parameter": "points"},
        "inputs": [
            {
                "name": "r",
                "label": label("reading"),
                "unit": "{unit}",
                "repeats": "n",
                "decimals": 3,
                "min": -100,
                "max": 100,
            },
        ],
        "computed": [
            {"name": "m", "label": label("mean"), "expr": "mean(r)", "unit": "V"},
            {
                "name": "e",
                "label": label("error"),
                "expr": "m - nominal",
                "unit": "V",
                "round": {"places": 2},
            },
        ],
        "summary": [
            {"name": "worst_error", "label": label("max"), "expr": 'max(abs(column("e")))'},
            {"name": "ok", "label": label("ok"), "expr": "worst_error < 0.1"},
        ],
        "decision": "ok",
    }


def refused(definition: dict) -> TemplateError:
    with pytest.raises(TemplateError) as error:
        compile_template(definition)
    return error.value


def test_minimal_template_evaluates():
    t = compile_template(minimal())
    assert [c.id for c in t.cells({})] == [
        "param.points", "param.n", "r.1.1", "r.1.2", "r.2.1", "r.2.2",
    ]  # fmt: skip
    assert t.cells({})[2].unit == "V"  # "{unit}": the template's unit when no such parameter
    result = t.evaluate({"r.1.1": "1.004", "r.1.2": "1.006", "r.2.1": "2.05", "r.2.2": "2.07"})
    assert result.points[0]["e"].text == "0.00"  # 0.005 → 0.00 (half-even)
    assert result.points[1]["e"].raw == D("0.06")
    assert result.summary["worst_error"].raw == D("0.06")
    assert result.decision == "pass"
    assert result.next_due(dt.date(2026, 1, 1)) is None


def test_reading_problems_are_per_cell():
    t = compile_template(minimal())
    result = t.evaluate({"r.1.1": "1.0001", "r.1.2": "500", "r.2.1": "abc", "r.2.2": "−2.0"})
    assert [(p["cell"], p["code"]) for p in result.problems] == [
        ("r.1.1", "too_many_decimals"),
        ("r.1.2", "out_of_range"),
        ("r.2.1", "not_a_number"),
    ]
    assert result.points[1]["r"].raw == [None, D("-2.0")]  # the typographic minus is read
    assert result.complete is False
    assert result.decision is None


def test_every_builtin_definition_passes_the_schema_and_compiles():
    for definition in builtin_templates().values():
        compile_template(definition)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d.pop("title"), "title"),
        (lambda d: d.update(format="other/1"), "format"),
        (lambda d: d.update(service="repair"), "service"),
        (lambda d: d["title"].pop("zh"), "title.zh"),
        (lambda d: d["inputs"][0].update(repeats="missing"), "inputs.0.repeats"),
        (lambda d: d["inputs"][0].update(decimals="3"), "inputs.0.decimals"),
        (lambda d: d["inputs"][0].update(name="2bad"), "inputs.0.name"),
        (lambda d: d["computed"][0].update(expr="r.__class__"), "computed.0.expr"),
        (lambda d: d["computed"][0].update(expr="mean(q)"), "computed.0.expr"),
        (lambda d: d["computed"][0].update(expr="e + 1"), "computed.0.expr"),  # a cycle
        (lambda d: d["computed"][1].update(name="r"), "computed.1.name"),  # a duplicate
        (lambda d: d["computed"][1].update(name="nominal"), "computed.1.name"),  # reserved
        (lambda d: d["computed"][0].update(expr='column("e")'), "computed.0.expr"),
        (lambda d: d["computed"][1].update(round={"like": "zz"}), "computed.1.round.like"),
        (lambda d: d["computed"][1].update(round={"interval": "0.3"}), "computed.1.round.interval"),
        (lambda d: d["computed"][1].update(round={"places": 2, "sig": 2}), "computed.1.round"),
        (lambda d: d["computed"][1].update(when="1 +"), "computed.1.when"),
        (lambda d: d["summary"][0].update(expr='max(column("nothing"))'), "summary.0.expr"),
        (lambda d: d.update(decision="nothing"), "decision"),
        (lambda d: d["points"].update(parameter="n"), "points.parameter"),
        (lambda d: d["parameters"][1].update(type="choice"), "parameters.1.choices"),
        (lambda d: d["parameters"][1].update(default="abc"), "parameters.1.default"),
        (lambda d: d.update(tables={"t": {"a": "x"}}), "tables.t.a"),
        (lambda d: d.update(interval={"months": "nope"}), "interval.months"),
        (lambda d: d.update(cmc_check={"uncertainty": "U"}), "cmc_check.uncertainty"),
        (
            lambda d: d.update(results={"columns": [{"value": "zz", "label": label("z")}]}),
            "results.columns.0.value",
        ),
        (
            lambda d: d.update(layout={"sections": [{"title": label("s"), "kind": "x"}]}),
            "layout.sections.0.kind",
        ),
        (
            lambda d: d.update(header=[{"name": "h", "label": label("h"), "source": "a..b"}]),
            "header.0.source",
        ),
    ],
)
def test_bad_templates_are_refused_on_their_field(change, field):
    definition = minimal()
    change(definition)
    error = refused(definition)
    assert error.field == field, error.errors
    assert field in error.errors


def test_all_problems_are_listed_at_once():
    definition = minimal()
    definition["computed"][0]["expr"] = "x.y"
    definition["summary"][1]["expr"] = "nope + 1"
    definition["decision"] = "missing"
    error = refused(definition)
    assert set(error.errors) == {"computed.0.expr", "summary.1.expr", "decision"}


def test_cycle_is_named():
    definition = minimal()
    definition["computed"][0]["expr"] = "e"
    error = refused(definition)
    assert "circle" in error.message and "m" in error.message and "e" in error.message


def test_schema_is_json_like_and_load_reads_json_and_yaml():
    import json

    assert json.loads(json.dumps(SCHEMA))["properties"]["format"]["const"] == SCHEMA["$id"]
    assert load_template(json.dumps(minimal()))["code"] == "mini"
    pytest.importorskip("yaml")
    assert load_template("code: mini\nformat: x\n") == {"code": "mini", "format": "x"}
    with pytest.raises(TemplateError):
        load_template("[1, 2]")


def test_a_template_is_compiled_once_and_reused():
    definition = minimal()
    t = compile_template(definition)
    before = copy.deepcopy(definition)
    a = t.evaluate({"r.1.1": "1", "r.1.2": "1"})
    b = t.evaluate({"r.1.1": "2", "r.1.2": "2"})
    assert a.points[0]["m"].raw == 1 and b.points[0]["m"].raw == 2
    assert definition == before


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 12, 7), 6) == dt.date(2027, 6, 7)


# --- corrections from calibration points ----------------------------------------------------


POINTS = [
    {"nominal": "0", "unit": "°C", "correction": "0.012", "expanded_uncertainty": "0.010",
     "coverage_factor": "2"},
    {"nominal": "50", "unit": "°C", "correction": "0.020", "expanded_uncertainty": "0.012",
     "coverage_factor": "2.1"},
    {"nominal": "50", "unit": "K", "correction": "9", "expanded_uncertainty": "9",
     "coverage_factor": "2"},
]  # fmt: skip


def test_correction_at_a_point_between_points_and_outside():
    assert correction_at(POINTS, "0", "°C") == Correction(D("0.012"), D("0.010"), D("2"))
    # halfway: 0.012 + (0.020 − 0.012) × 0.5; U and k of the wider neighbour
    assert correction_at(POINTS, "25", "°C") == Correction(D("0.016"), D("0.012"), D("2.1"))
    assert correction_at(POINTS, "60", "°C") is None
    assert correction_at(POINTS, "-1", "°C") is None
    assert correction_at(POINTS, "25", "mV") is None


def test_an_input_with_repeats_from_a_parameter_keeps_its_cell_ids_at_one_repeat():
    t = compile_template(minimal())
    assert [c.id for c in t.cells({"n": "1"}) if c.kind == "reading"] == ["r.1.1", "r.2.1"]
    result = t.evaluate({"param.n": "1", "r.1.1": "1.02", "r.2.1": "2"})
    assert result.points[0]["r"].raw == [D("1.02")]
    assert result.points[0]["e"].text == "0.02"
    assert result.complete


def test_typed_header_fields_and_sourced_ones():
    definition = minimal()
    definition["header"] = [
        {"name": "customer", "label": label("c"), "source": "customer.name"},
        {"name": "note", "label": label("n"), "source": None},
    ]
    t = compile_template(definition)
    assert [c.id for c in t.cells({}) if c.kind == "header"] == ["header.note"]
    result = t.evaluate({"header.note": " ok "}, context={"customer": {"name": "ACME"}})
    assert result.header == {"customer": "ACME", "note": "ok"}
