"""The machine-readable certificate (issue 15; R6.3): a DCC 3.3.0 XML from an approved record.

The XML is checked against the PTB schema when the shared reference copy is present
(`/work/shared/reference/dcc-3.3.0/dcc.xsd`; the project ships no copy), and always for the
structure the product relies on."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from metrolab.certificates.dcc import (
    CONFORMITY,
    DSI_UNITS,
    DCCError,
    build_dcc,
    coverage,
    dcc_content,
    decision_rule,
    dsi_unit,
)

SCHEMA = Path("/work/shared/reference/dcc-3.3.0/dcc.xsd")
NS = {"dcc": "https://ptb.de/dcc", "si": "https://ptb.de/si"}
TEMPLATES = (
    "jjg52-2013-pressure-gauge",
    "digital-thermometer-sprt",
    "dmm-dc-voltage",
    "insulation-resistance",
)


@pytest.fixture(scope="session")
def dcc_schema():
    """The DCC 3.3.0 schema of the shared reference copy, or None when it is absent."""
    if not SCHEMA.exists():
        return None
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMA), allow="sandbox")


def parse(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314 (the product's own output, built in the test)


def assert_valid(schema, xml: bytes) -> None:
    if schema is None:
        return  # the shared schema copy is not on this machine: the structure tests still run
    import xmlschema

    document = xmlschema.XMLResource(parse(xml), allow="local")
    errors = [f"{e.path}: {e.reason}" for e in schema.iter_errors(document)]
    assert errors == []


def content(**changes):
    """A hand-made content mapping: a class 0.4 pressure gauge at two points."""
    data = {
        "number": "JD2026-000123",
        "identifier": "DEMO-LAB-2026-0000123-7F3A",
        "record_number": "JL2026000001",
        "commission_number": "WT2026-000001",
        "issued_on": "2026-12-09",
        "received_on": "2026-12-01",
        "begin": "2026-12-07",
        "end": "2026-12-08",
        "software_release": "0.1.0",
        "lab": {
            "name": "示范市计量测试研究院",
            "name_en": "Demo City Institute of Metrology and Testing",
            "address": "示范市科技路 88 号",
            "postcode": "100000",
            "code": "（示）法计（2026）01001号",
            "numbers": ["CNAS L0001"],
        },
        "customer": {"name": "示范人民医院", "address": "示范市"},
        "item": {
            "name": "精密压力表",
            "manufacturer": "示范仪表厂",
            "model": "YB-150 0-1.6 MPa",
            "serial_no": "SN-1",
            "number": "YP2026000001",
        },
        "persons": [
            {"name": "张检定", "role": {"zh": "检定员", "en": "Measured by"}},
            {"name": "孙签字", "role": {"zh": "批准人", "en": "Approved by"}, "main_signer": True},
        ],
        "method": {"code": "JJG 52-2013", "title": "弹性元件式一般压力表检定规程"},
        "equipment": [
            {"name": "活塞式压力计", "asset_no": "YQ-001", "certificate_no": "YL2026-0042"}
        ],
        "conditions": [
            {
                "name": {"zh": "环境温度", "en": "Ambient temperature"},
                "unit": "℃",
                "mean": "20.3",
                "min": "20.1",
                "max": "20.6",
            },
        ],
        "results": {
            "name": {"zh": "示值误差", "en": "Errors"},
            "points": [
                {
                    "point": 1,
                    "quantities": [
                        {"name": "nominal", "label": "标准值", "value": "0.000", "unit": "MPa"},
                        {
                            "name": "error",
                            "label": {"zh": "示值误差", "en": "Error"},
                            "value": "-0.0030",
                            "unit": "MPa",
                            "uncertainty": "0.0016",
                            "k": "2",
                            "p": "0.95",
                        },
                    ],
                },
                {
                    "point": 2,
                    "quantities": [
                        {"name": "nominal", "label": "标准值", "value": "1.600", "unit": "MPa"},
                        {"name": "error", "label": "示值误差", "text": None},
                    ],
                },
            ],
            "summary": [{"name": "conclusion", "label": "结论", "text": "pass"}],
        },
        "decision": "pass",
        "decision_rule": {"zh": "判定规则：简单接受", "en": "Decision rule: simple acceptance"},
        "statements": [{"zh": "扩展不确定度 k = 2", "en": "Expanded uncertainty with k = 2"}],
    }
    data.update(changes)
    return data


# --- the XML without a record ----------------------------------------------------------------


def test_structure_namespaces_identifier_and_values(dcc_schema):
    xml = build_dcc(content())
    assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = parse(xml)
    assert root.tag == "{https://ptb.de/dcc}digitalCalibrationCertificate"
    assert root.get("schemaVersion") == "3.3.0"
    core = root.find("dcc:administrativeData/dcc:coreData", NS)
    assert core.findtext("dcc:uniqueIdentifier", namespaces=NS) == "DEMO-LAB-2026-0000123-7F3A"
    assert [e.text for e in core.findall("dcc:usedLangCodeISO639_1", NS)] == ["zh", "en"]
    assert core.findtext("dcc:mandatoryLangCodeISO639_1", namespaces=NS) == "zh"
    assert core.findtext("dcc:countryCodeISO3166_1", namespaces=NS) == "CN"
    ids = [e.text for e in core.findall("dcc:identifications/dcc:identification/dcc:value", NS)]
    assert ids == ["JD2026-000123", "JL2026000001", "WT2026-000001"]
    assert core.findtext("dcc:receiptDate", namespaces=NS) == "2026-12-01"
    assert core.findtext("dcc:beginPerformanceDate", namespaces=NS) == "2026-12-07"
    assert core.findtext("dcc:endPerformanceDate", namespaces=NS) == "2026-12-08"
    assert core.findtext("dcc:performanceLocation", namespaces=NS) == "laboratory"
    assert core.findtext("dcc:issueDate", namespaces=NS) == "2026-12-09"
    signer = root.find(".//dcc:respPerson[dcc:mainSigner='true']/dcc:person/dcc:name", NS)
    assert signer.findtext("dcc:content", namespaces=NS) == "孙签字"
    points = root.findall(".//dcc:results/dcc:result/dcc:data/dcc:list", NS)
    assert len(points) == 2
    error = points[0].find("dcc:quantity[@refType='metrolab_error']/si:real", NS)
    assert error.findtext("si:value", namespaces=NS) == "-0.0030"  # as printed, not -0.003
    assert error.findtext("si:unit", namespaces=NS) == r"\mega\pascal"
    unc = error.find("si:expandedUnc", NS)
    assert unc.findtext("si:uncertainty", namespaces=NS) == "0.0016"
    assert unc.findtext("si:coverageFactor", namespaces=NS) == "2"
    assert unc.findtext("si:coverageProbability", namespaces=NS) == "0.95"
    missing = points[1].find("dcc:quantity[@refType='metrolab_error']", NS)
    assert missing.find("si:real", NS) is None
    assert missing.findtext("dcc:noQuantity/dcc:content", namespaces=NS) == "—"
    statement = root.find(".//dcc:statement[@refType='basic_conformity']", NS)
    assert statement.findtext("dcc:conformity", namespaces=NS) == "pass"
    assert statement.findtext("dcc:norm", namespaces=NS) == "JJG 52-2013"
    condition = root.find(".//dcc:influenceCondition", NS)
    assert [v.text for v in condition.findall(".//si:value", NS)] == ["20.3", "20.1", "20.6"]
    assert {u.text for u in condition.findall(".//si:unit", NS)} == {r"\degreecelsius"}
    equipment = root.find(".//dcc:measuringEquipment", NS)
    numbers = [e.text for e in equipment.findall(".//dcc:identification/dcc:value", NS)]
    assert numbers == ["YQ-001", "YL2026-0042"]
    assert_valid(dcc_schema, xml)


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        ("pass", "pass"),
        ("fail", "fail"),
        ("conditional_pass", "conditionalPass"),
        ("conditional_fail", "conditionalFail"),
        ("undecided", None),
    ],
)
def test_decision_maps_to_dcc_conformity(dcc_schema, decision, expected):
    xml = build_dcc(content(decision=decision))
    statement = parse(xml).find(".//dcc:statement[@refType='basic_conformity']", NS)
    assert statement.findtext("dcc:conformity", namespaces=NS) == expected
    assert CONFORMITY[decision] == expected
    assert_valid(dcc_schema, xml)


def test_a_replacing_certificate_names_the_identifier_it_substitutes(dcc_schema):
    replaces = {"number": "JD2026-000100", "identifier": "ML-2026-0000100-XX", "reason": "更正"}
    root = parse(build_dcc(content(replaces=replaces)))
    changed = root.find(".//dcc:coreData/dcc:reportAmendedSubstituted", NS)
    assert changed.findtext("dcc:typeOfChange", namespaces=NS) == "substituted"
    assert changed.findtext("dcc:replacedUniqueIdentifier", namespaces=NS) == replaces["identifier"]
    assert_valid(dcc_schema, build_dcc(content(replaces=replaces)))
    assert parse(build_dcc(content())).find(".//dcc:reportAmendedSubstituted", NS) is None


def test_no_decision_no_conformity_statement(dcc_schema):
    xml = build_dcc(content(decision=None, decision_rule=None))
    assert parse(xml).find(".//dcc:statement[@refType='basic_conformity']", NS) is None
    assert_valid(dcc_schema, xml)


UNITS = [
    ("MPa", r"\mega\pascal"),
    ("kPa", r"\kilo\pascal"),
    ("Pa", r"\pascal"),
    ("hPa", r"\hecto\pascal"),
    ("bar", r"\bar"),
    ("°C", r"\degreecelsius"),
    ("℃", r"\degreecelsius"),  # U+2103, as Chinese records write it
    (" °C ", r"\degreecelsius"),
    ("K", r"\kelvin"),
    ("V", r"\volt"),
    ("mV", r"\milli\volt"),
    ("µV", r"\micro\volt"),  # micro sign U+00B5
    ("μV", r"\micro\volt"),  # Greek mu U+03BC
    ("A", r"\ampere"),
    ("mA", r"\milli\ampere"),
    ("Ω", r"\ohm"),  # ohm sign U+2126
    ("Ω", r"\ohm"),  # Greek omega U+03A9
    ("kΩ", r"\kilo\ohm"),
    ("MΩ", r"\mega\ohm"),
    ("Hz", r"\hertz"),
    ("mm", r"\milli\metre"),
    ("kg", r"\kilogram"),
    ("N", r"\newton"),
    ("%", r"\percent"),
    ("%RH", r"\percent"),
    ("ppm", r"\ppm"),
    ("", r"\one"),
    ("mbar", r"\milli\bar"),
    ("mK", r"\milli\kelvin"),
    ("kV", r"\kilo\volt"),
    ("μA", r"\micro\ampere"),
    ("mΩ", r"\milli\ohm"),
    ("kHz", r"\kilo\hertz"),
    ("MHz", r"\mega\hertz"),
    ("W", r"\watt"),
    ("m", r"\metre"),
    ("μm", r"\micro\metre"),
    ("g", r"\gram"),
    ("mg", r"\milli\gram"),
    ("kN", r"\kilo\newton"),
    ("N·m", r"\newton\metre"),
    ("s", r"\second"),
]


@pytest.mark.parametrize(("unit", "expected"), UNITS)
def test_unit_in_dsi_notation(unit, expected):
    assert dsi_unit(unit) == expected


def test_every_unit_of_the_table_is_tested():
    from metrolab.metrology.units import unit_key

    assert {unit_key(u) for u in DSI_UNITS} == {unit_key(unit) for unit, _ in UNITS}


def test_unknown_unit_refused():
    with pytest.raises(DCCError, match="'furlong' has no D-SI notation"):
        dsi_unit("furlong")
    bad = content()
    bad["results"]["points"][0]["quantities"][0]["unit"] = "furlong"
    with pytest.raises(DCCError, match="furlong"):
        build_dcc(bad)


def test_value_that_is_not_a_number_refused():
    bad = content()
    bad["results"]["points"][0]["quantities"][1]["value"] = "1,5"
    with pytest.raises(DCCError, match="error: '1,5' is not a number"):
        build_dcc(bad)


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"k": "2"}, ("2", "0.95")),
        ({}, ("2", "0.95")),
        ({"k": "3"}, ("3", "0.9973")),
        ({"k": "2", "p": "0.9545"}, ("2", "0.9545")),
        ({"k": "2.58", "coverage_probability": "0.99"}, ("2.58", "0.99")),
    ],
)
def test_coverage_factor_and_probability(parameters, expected):
    assert coverage(parameters) == expected


def test_coverage_probability_required_for_another_k():
    bad = content()
    bad["results"]["points"][0]["quantities"][1].update(k="3", p="")
    with pytest.raises(DCCError, match="the coverage probability for k = 3 is required"):
        build_dcc(bad)


@pytest.mark.parametrize("key", ["number", "identifier", "begin", "end"])
def test_required_content_refused_when_missing(key):
    with pytest.raises(DCCError, match=f"{key} is required"):
        build_dcc(content(**{key: ""}))


def test_decision_rule_named_by_the_template():
    from metrolab.metrology.record_template import builtin_templates

    templates = builtin_templates()
    assert "JJF 1094-2002" in decision_rule(templates["dmm-dc-voltage"])["en"]
    gauge = decision_rule(templates["jjg52-2013-pressure-gauge"], "JJG 52-2013")
    assert gauge["zh"] == "判定规则：按 JJG 52-2013 规定的最大允许误差判定（简单接受）"
    insulation = decision_rule(templates["insulation-resistance"], "GB/T 13978-2008")
    assert insulation["zh"] == "判定规则：简单接受（ILAC-G8:09/2019 §4.2.1）"
    guarded = {"summary": [{"name": "d", "expr": 'decide(error, -mpe, mpe, "guarded", U)'}]}
    assert "§4.2.2" in decision_rule(guarded)["en"]


# --- from the demo lab's approved records ----------------------------------------------------


def _approved(code):
    from metrolab.records.models import Record

    return (
        Record.objects.filter(template_version__template__code=code, status="approved")
        .select_related("template_version__template")
        .order_by("pk")  # the records demo's (the certificates demo's come later)
        .first()
    )


def _lab():
    from metrolab.core.models import OrganisationProfile

    return OrganisationProfile.objects.get()


@pytest.mark.django_db
@pytest.mark.parametrize("code", TEMPLATES)
def test_dcc_of_an_approved_record(demo_lab, dcc_schema, code):
    record = _approved(code)
    assert record is not None and record.locked_at is not None
    data = dcc_content(
        record,
        number="JD2026-000001",
        identifier="ML-2026-000001-AB12",
        issued_on="2026-12-09",
        lab=_lab(),
    )
    xml = build_dcc(data)
    assert_valid(dcc_schema, xml)
    root = parse(xml)
    core = root.find("dcc:administrativeData/dcc:coreData", NS)
    assert core.findtext("dcc:uniqueIdentifier", namespaces=NS) == "ML-2026-000001-AB12"
    ids = [e.text for e in core.findall("dcc:identifications/dcc:identification/dcc:value", NS)]
    assert ids[:2] == ["JD2026-000001", record.number]
    lab = root.find(".//dcc:calibrationLaboratory", NS)
    assert (
        lab.findtext("dcc:calibrationLaboratoryCode", namespaces=NS) == "（示）法计（2026）01001号"
    )
    assert lab.findtext("dcc:contact/dcc:name/dcc:content", namespaces=NS) == "示范市计量测试研究院"
    customer = root.findtext(".//dcc:customer/dcc:name/dcc:content", namespaces=NS)
    assert customer == record.context["customer"]["name"]
    serial = root.findtext(
        ".//dcc:item/dcc:identifications/dcc:identification/dcc:value", namespaces=NS
    )
    assert serial == record.context["item"]["serial_no"]
    main = root.findtext(
        ".//dcc:respPerson[dcc:mainSigner='true']/dcc:person/dcc:name/dcc:content", namespaces=NS
    )
    approval = record.signatures.filter(meaning="approved", revoked_at__isnull=True).last()
    assert main == approval.printed_name
    # the equipment used, with the certificate numbers of the record's snapshots
    certificates = [
        e.findtext("dcc:value", namespaces=NS)
        for e in root.findall(".//dcc:measuringEquipment//dcc:identification", NS)
        if e.findtext("dcc:issuer", namespaces=NS) == "other"
    ]
    expected = [u.snapshot.get("certificate_no") for u in record.equipment_used.order_by("pk")]
    assert certificates == [c for c in expected if c]
    # every result as the record prints it: value, U, k
    stored = record.results
    columns = [c["value"] for c in record.template_version.definition["results"]["columns"]]
    points = root.findall(".//dcc:results/dcc:result/dcc:data/dcc:list", NS)
    assert len(points) == len(stored["points"]) > 0
    k = stored["parameters"].get("k")
    seen_u = 0
    for element, point in zip(points, stored["points"], strict=True):
        values = point["values"]
        for name in columns:
            quantity = element.find(f"dcc:quantity[@refType='metrolab_{name}']", NS)
            if name == "U":
                assert quantity is None  # given with the values it belongs to
                continue
            if isinstance(values[name]["value"], str) and values[name]["value"] in CONFORMITY:
                # a text value (a position's conformity) is written as text, not as a number
                content = quantity.findtext("dcc:noQuantity/dcc:content", namespaces=NS)
                assert content == values[name]["text"]
                continue
            real = quantity.find("si:real", NS)
            if values[name]["text"] is None:
                assert real is None
                continue
            assert real.findtext("si:value", namespaces=NS) == values[name]["text"]
            unc = real.find("si:expandedUnc", NS)
            if unc is not None:
                seen_u += 1
                assert unc.findtext("si:uncertainty", namespaces=NS) == values["U"]["text"]
                assert unc.findtext("si:coverageFactor", namespaces=NS) == k == "2"
                assert unc.findtext("si:coverageProbability", namespaces=NS) == "0.95"
    assert (seen_u > 0) == ("U" in columns)
    # the decision
    statement = root.find(".//dcc:statement[@refType='basic_conformity']", NS)
    if record.decision:
        assert statement is not None
        assert statement.findtext("dcc:conformity", namespaces=NS) == CONFORMITY[record.decision]
    else:
        assert statement is None


@pytest.mark.django_db
def test_demo_units_and_decisions(demo_lab):
    """The demo's approved records: MPa gauge (pass), °C thermometer (no decision), V DMM, and
    the insulation resistance test (MΩ, pass)."""
    gauge = build_dcc(
        dcc_content(
            _approved(TEMPLATES[0]),
            number="N1",
            identifier="I1",
            issued_on="2026-12-09",
            lab=_lab(),
        )
    )
    assert b"<si:unit>\\mega\\pascal</si:unit>" in gauge
    assert b"<dcc:conformity>pass</dcc:conformity>" in gauge
    thermometer = build_dcc(
        dcc_content(
            _approved(TEMPLATES[1]),
            number="N2",
            identifier="I2",
            issued_on="2026-12-09",
            lab=_lab(),
        )
    )
    assert b"<si:unit>\\degreecelsius</si:unit>" in thermometer
    assert b"basic_conformity" not in thermometer
    dmm = build_dcc(
        dcc_content(
            _approved(TEMPLATES[2]),
            number="N3",
            identifier="I3",
            issued_on="2026-12-09",
            lab=_lab(),
        )
    )
    assert b"<si:unit>\\volt</si:unit>" in dmm
    test = dcc_content(
        _approved(TEMPLATES[3]),
        number="N4",
        identifier="I4",
        issued_on="2026-12-09",
        lab=_lab(),
    )
    # the test report's table: position (a count), test voltage, resistance, limit, conformity
    first = test["results"]["points"][0]["quantities"]
    assert [(q["name"], q["unit"], q.get("value"), q.get("text")) for q in first] == [
        ("nominal", "", "1", None),
        ("voltage", "V", "512", None),
        ("resistance", "MΩ", "1250", None),
        ("limit", "MΩ", "20", None),
        ("decision", "", None, "pass"),
    ]
    report = build_dcc(test)
    assert b"<si:unit>\\mega\\ohm</si:unit>" in report
    assert b"<si:unit>\\one</si:unit>" in report
    assert b"<dcc:conformity>pass</dcc:conformity>" in report


@pytest.mark.django_db
def test_record_not_approved_refused(demo_lab):
    from metrolab.records.models import Record

    record = Record.objects.filter(status="checked").first()
    with pytest.raises(DCCError) as caught:
        dcc_content(record, number="N", identifier="I", issued_on="2026-12-09", lab=_lab())
    assert str(caught.value) == (
        f"record {record.number} is checked, not approved: "
        "only an approved record makes a certificate"
    )


def test_lab_numbers_are_labelled_once():
    from metrolab.certificates.dcc import _lab_data

    lab = {"name": "Lab", "accreditation_no": "CNAS L0001", "cma_no": "260000000001"}
    assert _lab_data(lab)["numbers"] == ["CMA 260000000001", "CNAS L0001"]
    assert _lab_data({**lab, "accreditation_no": "L0001"})["numbers"][-1] == "CNAS L0001"
