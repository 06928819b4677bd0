"""The machine-readable certificate (R6.3, issue 15): a PTB Digital Calibration Certificate
(DCC 3.3.0, D-SI 2.2.0 quantities) built from an approved original record.

    content = dcc_content(record, number=..., identifier=..., issued_on=day, lab=profile)
    xml = build_dcc(content)      # UTF-8 bytes, namespaces dcc https://ptb.de/dcc, si https://ptb.de/si

`build_dcc` is pure: it writes the XML from a plain JSON-like mapping (the format below) and
nothing else. `dcc_content` gathers that mapping from a record (read-only). Values are the
record's printed texts (rounded per its template), never numbers re-printed. What maps to what:
docs/dcc.md.

Content (text values are str; a "text" is {"zh": ..., "en": ...} or a plain str):
    number, identifier, record_number, commission_number, issued_on, received_on,
    begin, end (ISO dates), software_release,
    lab {name, name_en, address, postcode, phone, email, website, code, numbers: [text]},
    customer {name, address},
    item {name, manufacturer, model, serial_no, number},
    persons [{name, role (text), main_signer (bool), signed_at}],
    method {code, title},
    equipment [{name, model, asset_no, serial_no, certificate_no, due_date, role}],
    conditions [{name (text), unit, mean, min, max}],
    results {name (text), points [{point, quantities [{name, label (text), value, unit,
             uncertainty?, k?, p?} | {name, label, text}]}], summary [same quantities]},
    decision (engine decision or None), decision_rule (text), statements [text],
    replaces (optional: {number, identifier, reason} of the certificate this one replaces).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils import timezone

import metrolab
from metrolab.metrology.units import unit_key
from metrolab.records import calculation
from metrolab.records.models import Record

DCC_NS = "https://ptb.de/dcc"
SI_NS = "https://ptb.de/si"
SCHEMA_VERSION = "3.3.0"
LANGS = ("zh", "en")

ET.register_namespace("dcc", DCC_NS)
ET.register_namespace("si", SI_NS)

#: Unit symbols as records print them (compared after `unit_key`: ℃ = °C, Ω = Ω, µ = μ) → the
#: D-SI notation (BIPM SI brochure, D-SI 2.2.0 "\prefix\unit").
DSI_UNITS: dict[str, str] = {
    "Pa": r"\pascal",
    "kPa": r"\kilo\pascal",
    "MPa": r"\mega\pascal",
    "hPa": r"\hecto\pascal",
    "bar": r"\bar",
    "mbar": r"\milli\bar",
    "°C": r"\degreecelsius",
    "K": r"\kelvin",
    "mK": r"\milli\kelvin",
    "V": r"\volt",
    "mV": r"\milli\volt",
    "μV": r"\micro\volt",
    "kV": r"\kilo\volt",
    "A": r"\ampere",
    "mA": r"\milli\ampere",
    "μA": r"\micro\ampere",
    "Ω": r"\ohm",
    "mΩ": r"\milli\ohm",
    "kΩ": r"\kilo\ohm",
    "MΩ": r"\mega\ohm",
    "Hz": r"\hertz",
    "kHz": r"\kilo\hertz",
    "MHz": r"\mega\hertz",
    "W": r"\watt",
    "m": r"\metre",
    "mm": r"\milli\metre",
    "μm": r"\micro\metre",
    "kg": r"\kilogram",
    "g": r"\gram",
    "mg": r"\milli\gram",
    "N": r"\newton",
    "kN": r"\kilo\newton",
    "N·m": r"\newton\metre",
    "s": r"\second",
    "%": r"\percent",
    "%RH": r"\percent",
    "ppm": r"\ppm",
    "": r"\one",
}

_DSI_BY_KEY = {unit_key(symbol): dsi for symbol, dsi in DSI_UNITS.items()}

#: The engine's decisions (metrolab.metrology.conformity.DECISIONS) → dcc:conformity. An
#: undecided result (neither pass nor fail can be stated) gets no conformity value.
CONFORMITY = {
    "pass": "pass",
    "fail": "fail",
    "conditional_pass": "conditionalPass",
    "conditional_fail": "conditionalFail",
    "undecided": None,
}


#: The engine's decisions as the conformity statement's description says them.
DECISION_TEXTS = {
    "pass": {"zh": "结论：合格", "en": "Conclusion: pass"},
    "fail": {"zh": "结论：不合格", "en": "Conclusion: fail"},
    "conditional_pass": {"zh": "结论：有条件合格", "en": "Conclusion: conditional pass"},
    "conditional_fail": {"zh": "结论：有条件不合格", "en": "Conclusion: conditional fail"},
    "undecided": {
        "zh": "结论：待定（既不能判定合格，也不能判定不合格）",
        "en": "Conclusion: undecided (neither pass nor fail can be stated)",
    },
}


class DCCError(ValueError):
    """The content cannot make a DCC (a record not approved, a value that is not a number)."""


def dsi_unit(unit: str | None) -> str:
    """The D-SI notation of a unit symbol as records print it; DCCError when it is unknown."""
    key = unit_key(unit)
    try:
        return _DSI_BY_KEY[key]
    except KeyError:
        raise DCCError(f"the unit {unit!r} has no D-SI notation in the DCC unit table") from None


# --- writing ---------------------------------------------------------------------------------

_DECIMAL = re.compile(r"[-+]?((\d*\.\d+)|(\d+\.\d*)|(\d+\.?))([Ee][-+]?\d+)?")


def _d(tag: str) -> str:
    return f"{{{DCC_NS}}}{tag}"


def _s(tag: str) -> str:
    return f"{{{SI_NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _clean(value: Any) -> str:
    return " ".join(str(value or "").split())


def _text(parent: ET.Element, tag: str, value: Any) -> ET.Element | None:
    """A dcc:textType: {"zh", "en"} as one content per language, a plain str as one content
    without a language (names, addresses: the same in every language)."""
    if isinstance(value, Mapping):
        parts = [(lang, _clean(value.get(lang))) for lang in LANGS]
        parts = [(lang, text) for lang, text in parts if text]
    else:
        parts = [(None, _clean(value))] if _clean(value) else []
    if not parts:
        return None
    element = _sub(parent, _d(tag))
    for lang, text in parts:
        _sub(element, _d("content"), text, lang=lang)
    return element


def _rich(parent: ET.Element, tag: str, value: Any) -> None:
    """A dcc:richContentType: one content per language of {"zh", "en"}, or one plain str."""
    element = _sub(parent, _d(tag))
    if isinstance(value, Mapping):
        for lang in LANGS:
            if _clean(value.get(lang)):
                _sub(element, _d("content"), _clean(value[lang]), lang=lang)
    elif _clean(value):
        _sub(element, _d("content"), _clean(value))


def _string(parent: ET.Element, tag: str, value: Any) -> ET.Element | None:
    text = _clean(value)
    return _sub(parent, _d(tag), text) if text else None


def _number(text: Any, what: str) -> str:
    value = _clean(text)
    if not _DECIMAL.fullmatch(value):
        raise DCCError(f"{what}: {value!r} is not a number")
    return value


def _identification(parent: ET.Element, issuer: str, value: Any, name: Any) -> None:
    if not _clean(value):
        return
    element = _sub(parent, _d("identification"))
    _sub(element, _d("issuer"), issuer)
    _sub(element, _d("value"), _clean(value))
    _text(element, "name", name)


def _location(parent: ET.Element, address: Any, postcode: Any = "", *, required: bool) -> None:
    if not (_clean(address) or _clean(postcode)) and not required:
        return
    location = _sub(parent, _d("location"))
    _string(location, "postCode", postcode)
    _sub(location, _d("countryCode"), "CN")
    if _clean(address):
        further = _sub(location, _d("further"))
        _sub(further, _d("content"), _clean(address))


def _real(parent: ET.Element, value: str, unit: str, what: str, q: Mapping[str, Any]) -> None:
    real = _sub(parent, _s("real"))
    _sub(real, _s("value"), _number(value, what))
    _sub(real, _s("unit"), dsi_unit(unit))
    if _clean(q.get("uncertainty")):
        unc = _sub(real, _s("expandedUnc"))
        _sub(unc, _s("uncertainty"), _number(q["uncertainty"], f"{what} U"))
        k = _clean(q.get("k")) or "2"
        p = _clean(q.get("p")) or ("0.95" if k == "2" else "")
        if not p:
            raise DCCError(f"{what}: the coverage probability for k = {k} is required")
        _sub(unc, _s("coverageFactor"), _number(k, f"{what} k"))
        _sub(unc, _s("coverageProbability"), _number(p, f"{what} p"))
        _sub(unc, _s("distribution"), "normal")


def _quantity(parent: ET.Element, q: Mapping[str, Any]) -> None:
    element = _sub(parent, _d("quantity"), refType=f"metrolab_{q['name']}")
    _text(element, "name", q.get("label") or q["name"])
    if q.get("value") is not None and _clean(q.get("value")):
        _real(element, q["value"], q.get("unit") or "", q["name"], q)
    else:
        none = _sub(element, _d("noQuantity"))
        text = _clean(q.get("text")) or "—"
        _sub(none, _d("content"), text)


def build_dcc(content: Mapping[str, Any]) -> bytes:
    """The DCC 3.3.0 XML of `content` (see the module docstring), UTF-8 with its declaration.
    DCCError when a value cannot be written (a unit without D-SI notation, a value that is
    not a number, a missing identifier)."""
    for key in ("number", "identifier", "begin", "end"):
        if not _clean(content.get(key)):
            raise DCCError(f"{key} is required")
    root = ET.Element(_d("digitalCalibrationCertificate"), {"schemaVersion": SCHEMA_VERSION})
    admin = _sub(root, _d("administrativeData"))

    software = _sub(_sub(admin, _d("dccSoftware")), _d("software"))
    _text(software, "name", "MetroLab")
    _sub(software, _d("release"), _clean(content.get("software_release")) or "0")
    _sub(software, _d("type"), "application")

    core = _sub(admin, _d("coreData"))
    _sub(core, _d("countryCodeISO3166_1"), "CN")
    for lang in LANGS:
        _sub(core, _d("usedLangCodeISO639_1"), lang)
    _sub(core, _d("mandatoryLangCodeISO639_1"), "zh")
    _sub(core, _d("uniqueIdentifier"), _clean(content["identifier"]))
    ids = _sub(core, _d("identifications"))
    _identification(
        ids,
        "calibrationLaboratory",
        content["number"],
        {"zh": "证书编号", "en": "Certificate number"},
    )
    _identification(
        ids,
        "calibrationLaboratory",
        content.get("record_number"),
        {"zh": "原始记录编号", "en": "Original record number"},
    )
    _identification(
        ids,
        "calibrationLaboratory",
        content.get("commission_number"),
        {"zh": "委托单号", "en": "Commission number"},
    )
    _string(core, "receiptDate", content.get("received_on"))
    _sub(core, _d("beginPerformanceDate"), _clean(content["begin"]))
    _sub(core, _d("endPerformanceDate"), _clean(content["end"]))
    _sub(core, _d("performanceLocation"), "laboratory")
    _string(core, "issueDate", content.get("issued_on"))
    replaces = content.get("replaces") or {}
    if replaces.get("identifier"):
        # A certificate that replaces a withdrawn one (更正): "substituted", naming its
        # unique identifier (DCC 3.3.0 reportAmendedSubstitutedType).
        changed = _sub(core, _d("reportAmendedSubstituted"))
        _sub(changed, _d("typeOfChange"), "substituted")
        _sub(changed, _d("replacedUniqueIdentifier"), _clean(replaces["identifier"]))

    item = content.get("item") or {}
    items = _sub(admin, _d("items"))
    element = _sub(items, _d("item"), id="item")
    if _text(element, "name", item.get("name")) is None:
        raise DCCError("item.name is required")
    if _clean(item.get("manufacturer")):
        _text(_sub(element, _d("manufacturer")), "name", item["manufacturer"])
    _string(element, "model", item.get("model"))
    item_ids = _sub(element, _d("identifications"))
    _identification(
        item_ids, "manufacturer", item.get("serial_no"), {"zh": "出厂编号", "en": "Serial number"}
    )
    _identification(
        item_ids,
        "calibrationLaboratory",
        item.get("number"),
        {"zh": "样品编号", "en": "Item number"},
    )
    if not len(item_ids):
        raise DCCError("the item needs a serial number or an item number")

    lab = content.get("lab") or {}
    laboratory = _sub(admin, _d("calibrationLaboratory"))
    _string(laboratory, "calibrationLaboratoryCode", lab.get("code"))
    contact = _sub(laboratory, _d("contact"))
    lab_name = {"zh": lab.get("name"), "en": lab.get("name_en") or lab.get("name")}
    if _text(contact, "name", lab_name) is None:
        raise DCCError("lab.name is required")
    _string(contact, "eMail", lab.get("email"))
    _string(contact, "phone", lab.get("phone"))
    _string(contact, "link", lab.get("website"))
    _location(contact, lab.get("address"), lab.get("postcode"), required=True)

    persons = _sub(admin, _d("respPersons"))
    for person in content.get("persons") or ():
        resp = _sub(persons, _d("respPerson"))
        _text(_sub(resp, _d("person")), "name", person["name"])
        if _clean(person.get("signed_at")):
            description = _sub(resp, _d("description"))
            at = _clean(person["signed_at"])
            _sub(description, _d("content"), f"签署时间 {at}", lang="zh")
            _sub(description, _d("content"), f"Signed at {at}", lang="en")
        role = person.get("role") or ""
        if isinstance(role, Mapping):
            role = " / ".join(_clean(role.get(lang)) for lang in LANGS if _clean(role.get(lang)))
        _string(resp, "role", role)
        if person.get("main_signer"):
            _sub(resp, _d("mainSigner"), "true")
    if not len(persons):
        raise DCCError("at least one responsible person is required")

    customer = content.get("customer") or {}
    element = _sub(admin, _d("customer"))
    if _text(element, "name", customer.get("name")) is None:
        raise DCCError("customer.name is required")
    _location(element, customer.get("address"), required=True)

    statements = _sub(admin, _d("statements"))
    method = content.get("method") or {}
    if content.get("decision"):
        statement = _sub(statements, _d("statement"), refType="basic_conformity")
        _text(statement, "name", {"zh": "符合性声明", "en": "Statement of conformity"})
        if content["decision"] not in CONFORMITY:
            raise DCCError(f"unknown decision {content['decision']!r}")
        _rich(statement, "description", DECISION_TEXTS[content["decision"]])
        _string(statement, "norm", method.get("code"))
        rule = content.get("decision_rule")
        if rule:
            _rich(statement, "declaration", rule)
        conformity = CONFORMITY[content["decision"]]
        if conformity:
            _sub(statement, _d("conformity"), conformity)
    numbers = [_clean(n) for n in lab.get("numbers") or () if _clean(n)]
    if numbers:
        statement = _sub(statements, _d("statement"), refType="metrolab_authorisation")
        _text(statement, "name", {"zh": "授权与认可", "en": "Authorisation and accreditation"})
        for number in numbers:
            _sub(statement, _d("reference"), number)
    for text in content.get("statements") or ():
        _rich(_sub(statements, _d("statement")), "declaration", text)
    if not len(statements):
        admin.remove(statements)

    results = _sub(root, _d("measurementResults"))
    if _clean(method.get("code")) or _clean(method.get("title")):
        used = _sub(_sub(results, _d("usedMethods")), _d("usedMethod"))
        _text(used, "name", _clean(method.get("title")) or method.get("code"))
        _string(used, "norm", method.get("code"))
    equipment = content.get("equipment") or ()
    if equipment:
        listed = _sub(results, _d("measuringEquipments"))
        for i, piece in enumerate(equipment, start=1):
            element = _sub(listed, _d("measuringEquipment"), id=f"equipment_{i}")
            _text(element, "name", piece.get("name") or piece.get("asset_no") or "—")
            if _clean(piece.get("due_date")):
                description = _sub(element, _d("description"))
                _sub(
                    description,
                    _d("content"),
                    f"校准有效期至 {_clean(piece['due_date'])}",
                    lang="zh",
                )
                _sub(
                    description,
                    _d("content"),
                    f"Calibration valid until {_clean(piece['due_date'])}",
                    lang="en",
                )
            _string(element, "model", piece.get("model"))
            eq_ids = _sub(element, _d("identifications"))
            _identification(
                eq_ids,
                "calibrationLaboratory",
                piece.get("asset_no"),
                {"zh": "设备编号", "en": "Asset number"},
            )
            _identification(
                eq_ids,
                "manufacturer",
                piece.get("serial_no"),
                {"zh": "出厂编号", "en": "Serial number"},
            )
            _identification(
                eq_ids,
                "other",
                piece.get("certificate_no"),
                {"zh": "校准/检定证书编号", "en": "Calibration certificate number"},
            )
            if not len(eq_ids):
                element.remove(eq_ids)
    conditions = [c for c in content.get("conditions") or () if _clean(c.get("mean"))]
    if conditions:
        listed = _sub(results, _d("influenceConditions"))
        for condition in conditions:
            element = _sub(listed, _d("influenceCondition"))
            _text(element, "name", condition["name"])
            data = _sub(element, _d("data"))
            for key, label in (
                ("mean", {"zh": "平均值", "en": "Mean"}),
                ("min", {"zh": "最小值", "en": "Minimum"}),
                ("max", {"zh": "最大值", "en": "Maximum"}),
            ):
                if not _clean(condition.get(key)):
                    continue
                quantity = _sub(data, _d("quantity"), refType=f"metrolab_{key}")
                _text(quantity, "name", label)
                _real(quantity, condition[key], condition.get("unit") or "", key, {})

    table = content.get("results") or {}
    measurement = _sub(results, _d("measurementResult"))
    _text(measurement, "name", table.get("name") or {"zh": "测量结果", "en": "Results"})
    listed = _sub(measurement, _d("results"))
    result = _sub(listed, _d("result"))
    _text(result, "name", {"zh": "校准/检定结果", "en": "Results"})
    data = _sub(result, _d("data"))
    for point in table.get("points") or ():
        point_list = _sub(data, _d("list"), refType="metrolab_point")
        _text(
            point_list, "name", {"zh": f"测量点 {point['point']}", "en": f"Point {point['point']}"}
        )
        for q in point["quantities"]:
            _quantity(point_list, q)
    for q in table.get("summary") or ():
        _quantity(data, q)
    if not len(data):
        raise DCCError("the record has no results")

    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# --- gathering from a record -----------------------------------------------------------------

#: The roles of the record's signatures → dcc:respPerson role.
ROLES = {
    "measured": {"zh": "检定/校准员", "en": "Measured by"},
    "checked": {"zh": "核验员", "en": "Checked by"},
    "approved": {"zh": "批准人", "en": "Approved by"},
}
_CONDITION_NAMES = {
    "temperature": {"zh": "环境温度", "en": "Ambient temperature"},
    "humidity": {"zh": "相对湿度", "en": "Relative humidity"},
}
_DECIDE = re.compile(r"""\bdecide\s*\((?:[^()]|\([^()]*\))*?["'](simple|guarded|nonbinary)["']""")
_RULE_TEXTS = {
    "jjf1094": {
        "zh": "判定规则：JJF 1094-2002 测量仪器特性评定（示值误差的符合性评定）",
        "en": "Decision rule: JJF 1094-2002 (conformity of the error of indication)",
    },
    "simple": {
        "zh": "判定规则：简单接受（ILAC-G8:09/2019 §4.2.1）",
        "en": "Decision rule: simple acceptance (ILAC-G8:09/2019 §4.2.1)",
    },
    "guarded": {
        "zh": "判定规则：带保护带的二元声明（ILAC-G8:09/2019 §4.2.2）",
        "en": "Decision rule: binary statement with a guard band (ILAC-G8:09/2019 §4.2.2)",
    },
    "nonbinary": {
        "zh": "判定规则：带保护带的非二元声明（ILAC-G8:09/2019 §4.2.3）",
        "en": "Decision rule: non-binary statement with a guard band (ILAC-G8:09/2019 §4.2.3)",
    },
}


def decision_rule(definition: Mapping[str, Any], method_code: str = "") -> dict[str, str]:
    """The decision rule a template's decision uses, as a statement: JJF 1094 when its rules
    call decide_jjf1094, the ILAC-G8 rule named in a decide(...) call, otherwise the maximum
    permissible errors of the method (simple acceptance per the method)."""
    exprs = " ".join(
        str(c.get("expr", ""))
        for c in [*definition.get("computed", []), *definition.get("summary", [])]
    )
    if "decide_jjf1094" in exprs:
        return dict(_RULE_TEXTS["jjf1094"])
    found = _DECIDE.search(exprs)
    if found:
        return dict(_RULE_TEXTS[found.group(1)])
    code = method_code or "—"
    return {
        "zh": f"判定规则：按 {code} 规定的最大允许误差判定（简单接受）",
        "en": f"Decision rule: the maximum permissible errors of {code} (simple acceptance)",
    }


def _day(moment: dt.datetime | dt.date | str | None) -> str:
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        return moment[:10]
    if isinstance(moment, dt.datetime):
        return timezone.localtime(moment).date().isoformat()
    return moment.isoformat()


def _lab_data(lab: Any) -> dict[str, Any]:
    fields = (
        "name",
        "name_en",
        "address",
        "postcode",
        "phone",
        "email",
        "website",
        "authorisation_no",
        "accreditation_no",
        "cma_no",
    )
    if isinstance(lab, Mapping):
        data = {k: lab.get(k, "") for k in fields}
    else:
        data = {k: getattr(lab, k, "") for k in fields}
    data["code"] = data["authorisation_no"] or data["cma_no"] or data["accreditation_no"]
    data["numbers"] = [
        data[key]
        if data[key].upper().startswith(label.split(" /")[0].upper())
        else f"{label} {data[key]}"
        for key, label in (
            ("authorisation_no", "法定计量检定机构授权证书 / Authorisation"),
            ("cma_no", "CMA"),
            ("accreditation_no", "CNAS"),
        )
        if data[key]
    ]
    return data


def _uncertainty_of(definition: Mapping[str, Any]) -> str | None:
    """The name of the template's expanded uncertainty: its CMC check's, else a value "U"."""
    named = (definition.get("cmc_check") or {}).get("uncertainty")
    if named:
        return named
    names = {c["name"] for c in definition.get("computed", [])}
    return "U" if "U" in names else None


def coverage(parameters: Mapping[str, Any]) -> tuple[str, str]:
    """(k, p) as the record gives them: its parameter k (default 2) and its parameter p or
    coverage_probability when the template has one; otherwise p is 0.95 for k = 2 (the
    certificate's "k = 2, p ≈ 95 %") and, for another k, the normal distribution's
    probability to four decimals (k = 3 → 0.9973)."""
    k = _clean(parameters.get("k")) or "2"
    p = _clean(parameters.get("p") or parameters.get("coverage_probability"))
    if p:
        return k, p
    try:
        factor = Decimal(k)
    except ArithmeticError:
        raise DCCError(f"the coverage factor {k!r} is not a number") from None
    if factor == 2:
        return k, "0.95"
    return k, f"{math.erf(float(factor) / math.sqrt(2)):.4f}"


def _results(record, definition: Mapping[str, Any]) -> dict[str, Any]:
    """The template's results table as the record prints it (texts, units), with U, k and p on
    each value the template rounds like its expanded uncertainty (docs/dcc.md)."""
    evaluation = calculation.evaluate(record)
    table = evaluation.results_table()
    stored = record.results or {}
    k, p = coverage(stored.get("parameters") or {})
    u_name = _uncertainty_of(definition)
    rounds = {c["name"]: c.get("round") or {} for c in definition.get("computed", [])}
    with_u = {name for name, spec in rounds.items() if u_name and spec.get("like") == u_name}
    shown = [c["name"] for c in table["columns"]]
    points = []
    for row, values in zip(table["rows"], evaluation.points, strict=True):
        u_text = values[u_name].text if u_name and u_name in values else None
        quantities = []
        for column, text in zip(table["columns"], row["cells"], strict=True):
            name = column["name"]
            if name == u_name and u_text and with_u & set(shown):
                continue  # given as the expanded uncertainty of the values rounded like it
            q = {"name": name, "label": column["label"], "unit": column["unit"]}
            value = values.get(name)
            if text is None or (value is not None and not _is_number(value.raw)):
                q["text"] = text or "—"
            else:
                q["value"] = text
            if name in with_u and u_text and "value" in q:
                q.update(uncertainty=u_text, k=k, p=p)
            quantities.append(q)
        points.append({"point": row["point"], "quantities": quantities})
    summary = []
    for entry in table["summary"]:
        value = evaluation.summary.get(entry["name"])
        q = {"name": entry["name"], "label": entry["label"], "unit": entry["unit"]}
        if entry["text"] is not None and value is not None and _is_number(value.raw):
            q["value"] = entry["text"]
        else:
            q["text"] = entry["text"] or "—"
        summary.append(q)
    return {"name": definition.get("title"), "points": points, "summary": summary}


def _is_number(raw: Any) -> bool:
    return isinstance(raw, Decimal)


def _conditions(conditions: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Temperature and humidity over the measurement as the record's header prints them (one
    decimal)."""
    quantities = (conditions or {}).get("quantities") or {}
    out = []
    for name, label in _CONDITION_NAMES.items():
        q = quantities.get(name) or {}
        if q.get("mean") is None:
            continue
        out.append(
            {
                "name": label,
                "unit": q.get("unit") or "",
                **{
                    key: (f"{q[key]:.1f}" if q.get(key) is not None else "")
                    for key in ("mean", "min", "max")
                },
            }
        )
    return out


def dcc_content(
    record, *, number: str, identifier: str, issued_on: dt.date | str, lab: Any
) -> dict[str, Any]:
    """The content of `record`'s DCC (see the module docstring): `number` the certificate
    number, `identifier` the electronic certificate identifier (R6.3d), `lab` the organisation
    profile (an OrganisationProfile or a mapping of its fields). Read-only. DCCError when the
    record is not approved."""
    # A superseded record was approved too: its certificate, queued before the amendment was
    # approved, is still issued (and then replaced by the amendment's).
    approved = (Record.Status.APPROVED, Record.Status.SUPERSEDED)
    if record.status not in approved or record.locked_at is None:
        raise DCCError(
            f"record {record.number} is {record.status}, not approved: "
            "only an approved record makes a certificate"
        )
    definition = record.template_version.definition or {}
    context = record.context or {}
    item = context.get("item") or {}
    method = context.get("method") or {}
    signatures = record.signatures.filter(revoked_at__isnull=True).order_by("signed_at", "pk")
    latest = {}
    for signature in signatures:
        latest[signature.meaning] = signature
    persons = [
        {
            "name": s.printed_name,
            "role": ROLES.get(meaning, meaning),
            "main_signer": meaning == "approved",
            "signed_at": timezone.localtime(s.signed_at).isoformat(timespec="seconds"),
        }
        for meaning in ROLES
        if (s := latest.get(meaning)) is not None
    ]
    uses = record.equipment_used.select_related("equipment").order_by("pk")
    equipment = []
    for use in uses:
        snap = use.snapshot or {}
        equipment.append(
            {
                "name": snap.get("name") or use.equipment.name,
                "model": snap.get("model") or "",
                "asset_no": snap.get("asset_no") or use.equipment.asset_no,
                "serial_no": snap.get("serial_no") or "",
                "certificate_no": snap.get("certificate_no") or "",
                "due_date": snap.get("due_date") or "",
                "role": use.role,
            }
        )
    end = record.submitted_at or record.approved_at
    statements = [
        text["text"] for text in definition.get("fixed_text", []) if isinstance(text, Mapping)
    ]
    return {
        "number": number,
        "identifier": identifier,
        "record_number": record.number,
        "commission_number": (context.get("commission") or {}).get("number") or "",
        "issued_on": _day(issued_on),
        "received_on": _day((context.get("commission") or {}).get("received_on")),
        "begin": _day(record.started_at),
        "end": _day(end),
        "software_release": metrolab.__version__,
        "lab": _lab_data(lab),
        "customer": dict(context.get("customer") or {}),
        "item": {
            "name": item.get("name") or "",
            "manufacturer": item.get("manufacturer") or "",
            "model": item.get("model_range") or "",
            "serial_no": item.get("serial_no") or "",
            "number": item.get("number") or "",
        },
        "persons": persons,
        "method": {"code": method.get("code") or "", "title": method.get("title") or ""},
        "equipment": equipment,
        "conditions": _conditions(record.conditions),
        "results": _results(record, definition),
        "decision": record.decision or None,
        "decision_rule": (
            decision_rule(definition, method.get("code") or "") if record.decision else None
        ),
        "statements": statements,
    }
