"""The printed certificate (R6.3a–d, issue 15): a PDF/A-3b rendered with Typst from the DCC
content mapping, the DCC XML attached inside it as an associated file.

    pdf = render_certificate(document, dcc_xml=build_dcc(content))   # unsigned; sign_pdf next

`document` is `dcc_content(...)`'s mapping (metrolab/certificates/dcc.py) plus:
    kind ("verification", "verification_fail", "calibration", "test"),
    verification_code (printed, never in the metadata), verify_url (in the QR code),
    verify_site (printed in the notice line, may be ""), location (text), next_due (ISO date
    or ""; printed on a passed verification only), deviations [text], replaces (None or
    {"number", "reason"}),
    seal ({"name", "line"}, or the profile's whole seal text; empty parts fall back to the
    lab's name and the kind's line, SEAL_LINES).

The template (`typst/certificate.typ`) reads everything from `data.json`: no user text is ever
written into Typst source. Layout, fonts and seals: docs/certificates.md.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pylopdf_fonts_zh_cn
import segno
import typst

from metrolab.certificates.dcc import ROLES

TEMPLATE_DIR = Path(__file__).resolve().parent / "typst"
TEMPLATE = TEMPLATE_DIR / "certificate.typ"
PDF_STANDARD = "a-3b"

#: The certificate kinds: the title printed on the cover and in the metadata.
TITLES: dict[str, dict[str, str]] = {
    "verification": {"zh": "检定证书", "en": "Verification Certificate"},
    "verification_fail": {"zh": "检定结果通知书", "en": "Notice of Verification Result"},
    "calibration": {"zh": "校准证书", "en": "Calibration Certificate"},
    "test": {"zh": "检测报告", "en": "Test Report"},
}
VERIFICATION_KINDS = frozenset({"verification", "verification_fail"})

#: The line below the star of each kind's seal (R6.3b). "inspection" (检验) has no certificate
#: kind of its own yet; its line is here for the organisation profile's seal_inspection.
SEAL_LINES: dict[str, str] = {
    "verification": "检定电子证书专用章",
    "verification_fail": "检定电子证书专用章",
    "calibration": "校准电子证书专用章",
    "test": "检测电子证书专用章",
    "inspection": "检验电子证书专用章",
}
_SEAL_LINE = re.compile(r"(\S{2}电子证书专用章|\S{2}专用章)$")

#: Who measured, by kind (the first signature's role on the cover).
_MEASURED_BY = {
    "verification": {"zh": "检定员", "en": "Verified by"},
    "verification_fail": {"zh": "检定员", "en": "Verified by"},
    "calibration": {"zh": "校准员", "en": "Calibrated by"},
    "test": {"zh": "检测员", "en": "Tested by"},
}
_DECISIONS = {
    "pass": {"zh": "合格", "en": "Pass"},
    "fail": {"zh": "不合格", "en": "Fail"},
    "conditional_pass": {"zh": "有条件合格", "en": "Conditional pass"},
    "conditional_fail": {"zh": "有条件不合格", "en": "Conditional fail"},
    "undecided": {"zh": "待定", "en": "Undecided"},
}
_NOTICE = {
    "zh": "本证书为电子证书，请到发证机构官网验证",
    "en": "This is an electronic certificate: verify it on the issuing body's website",
}


class RenderError(ValueError):
    """The document cannot be rendered (an unknown kind, a missing number)."""


@functools.cache
def fonts() -> typst.Fonts:
    """The fonts the certificate may use, loaded once per process: the OFL Noto Sans SC and
    Noto Serif SC of the install (and Typst's own embedded fonts), never the system's."""
    folder = pylopdf_fonts_zh_cn.sans_path().parent
    return typst.Fonts(
        include_system_fonts=False, include_embedded_fonts=True, font_paths=[str(folder)]
    )


def _clean(value: Any) -> str:
    return " ".join(str(value or "").split())


def text(value: Any) -> dict[str, str]:
    """A printable text: {"zh", "en"} from such a mapping or from a plain str (zh only)."""
    if isinstance(value, Mapping):
        zh, en = _clean(value.get("zh")), _clean(value.get("en"))
        return {"zh": zh or en, "en": en if en != zh else ""}
    return {"zh": _clean(value), "en": ""}


def seal_texts(kind: str, seal: Any, lab_name: str) -> dict[str, str]:
    """The seal's ring text (the lab's name) and line (e.g. 检定电子证书专用章). `seal` is
    {"name", "line"} or the organisation profile's whole seal text ("示范市计量测试研究院检定电子
    证书专用章"), which is split at its line; empty parts fall back to `lab_name` and the
    kind's line."""
    if isinstance(seal, Mapping):
        name, line = _clean(seal.get("name")), _clean(seal.get("line"))
    else:
        whole = _clean(seal).replace(" ", "")
        found = _SEAL_LINE.search(whole)
        name, line = (whole[: found.start()], found.group(1)) if found else (whole, "")
    return {"name": name or _clean(lab_name), "line": line or SEAL_LINES[kind]}


def _once(number: Any) -> str:
    """A number with its label, the label said once ("CNAS CNAS L0001" → "CNAS L0001")."""
    words = _clean(number).split(" ")
    return " ".join(words[1:] if len(words) > 2 and words[0] == words[1] else words)


def _chinese_date(value: Any) -> str:
    day = _clean(value)[:10]
    try:
        parsed = dt.date.fromisoformat(day)
    except ValueError:
        return day
    return f"{parsed.year} 年 {parsed.month:02d} 月 {parsed.day:02d} 日"


def _moment(value: Any) -> str:
    """An ISO timestamp as the cover prints it: 2026-12-08 15:30."""
    raw = _clean(value)
    try:
        return dt.datetime.fromisoformat(raw).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return raw


def _signatures(kind: str, persons: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The cover's three signature slots: measured, checked, approved (empty when unsigned)."""
    by_role: dict[str, Mapping[str, Any]] = {}
    for person in persons:
        role = text(person.get("role"))
        meaning = next((m for m, r in ROLES.items() if r["zh"] == role["zh"]), None)
        if person.get("main_signer"):
            meaning = "approved"
        if meaning:
            by_role[meaning] = person
    labels = {
        "measured": _MEASURED_BY[kind],
        "checked": {"zh": "核验员", "en": "Checked by"},
        "approved": {"zh": "批准人", "en": "Approved by"},
    }
    return [
        {
            "role": meaning,
            "label": label,
            "name": _clean((by_role.get(meaning) or {}).get("name")),
            "at": _moment((by_role.get(meaning) or {}).get("signed_at")),
        }
        for meaning, label in labels.items()
    ]


def _results(table: Mapping[str, Any]) -> dict[str, Any]:
    """The results table laid out: columns (label, unit) in the quantities' order, rows of
    printed cells. Values with an expanded uncertainty get a U column after them; values whose
    U is the same on every row (a reference value, its error and its correction) share one,
    after the last of them; k goes into the column's header when it is the same throughout."""
    points = list(table.get("points") or ())
    order: list[str] = []
    columns: dict[str, dict[str, Any]] = {}
    for point in points:
        for q in point.get("quantities") or ():
            if q["name"] not in columns:
                order.append(q["name"])
                label = text(q.get("label") or q["name"])
                columns[q["name"]] = {"label": label, "unit": _clean(q.get("unit"))}
    by_point = [{q["name"]: q for q in p.get("quantities") or ()} for p in points]

    def u_of(q: Mapping[str, Any]) -> tuple[str, str]:
        u = _clean(q.get("uncertainty"))
        return (u, _clean(q.get("k")) or "2") if u else ("", "")

    groups: dict[tuple, list[str]] = {}
    for name in order:
        signature = tuple(u_of(values.get(name) or {}) for values in by_point)
        if any(u for u, _k in signature):
            groups.setdefault(signature, []).append(name)
    u_after = {names[-1]: signature for signature, names in groups.items()}

    header = []
    for name in order:
        header.append({**columns[name], "kind": "value"})
        if name in u_after:
            ks = {k for u, k in u_after[name] if u}
            header.append(
                {
                    "label": {"zh": "扩展不确定度 U", "en": "Expanded uncertainty U"},
                    "unit": columns[name]["unit"],
                    "k": next(iter(ks)) if len(ks) == 1 else "",
                    "kind": "uncertainty",
                }
            )
    rows = []
    for point, values in zip(points, by_point, strict=True):
        cells = []
        for name in order:
            q = values.get(name) or {}
            cells.append(_clean(q.get("value")) or _printed(q.get("text")))
            if name in u_after:
                u, k = u_of(q)
                single = len({k for u, k in u_after[name] if u}) == 1
                cells.append((u if single else f"{u} (k = {k})") if u else "—")
        rows.append({"point": _clean(point.get("point")) or str(len(rows) + 1), "cells": cells})
    summary = []
    for q in table.get("summary") or ():
        value = _clean(q.get("value"))
        unit = _clean(q.get("unit"))
        shown = f"{value} {unit}".strip() if value else _printed(q.get("text"))
        if value and _clean(q.get("uncertainty")):
            k = _clean(q.get("k")) or "2"
            shown += f"（U = {_clean(q['uncertainty'])} {unit}, k = {k}）".replace(" ,", ",")
        summary.append({"label": text(q.get("label") or q["name"]), "value": shown})
    return {
        "name": text(table.get("name") or {"zh": "测量结果", "en": "Results"}),
        "columns": header,
        "rows": rows,
        "summary": summary,
    }


def _printed(value: Any) -> str:
    """A text cell: an engine decision (pass, fail, …) in both languages, else as given."""
    raw = _clean(value)
    if raw in _DECISIONS:
        return f"{_DECISIONS[raw]['zh']} / {_DECISIONS[raw]['en']}"
    return raw or "—"


def attachment_name(number: str) -> str:
    """The attached DCC's file name: `<number>.xml`, with any character a file name should
    not carry replaced by "_"."""
    return re.sub(r"[^\w.\-]+", "_", _clean(number)).strip("._") + ".xml"


def page_data(document: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the template prints, as plain JSON-able texts (written to data.json)."""
    kind = document.get("kind")
    if kind not in TITLES:
        raise RenderError(f"unknown certificate kind {kind!r}")
    number = _clean(document.get("number"))
    if not number:
        raise RenderError("number is required")
    lab = dict(document.get("lab") or {})
    method = document.get("method") or {}
    decision = document.get("decision") or None
    conclusion = None
    if kind == "verification_fail":
        decision = decision or "fail"
    if decision:
        conclusion = dict(_DECISIONS.get(decision) or text(decision))
    nonconformity = None
    if kind == "verification_fail":
        code = _clean(method.get("code")) or "—"
        nonconformity = {
            "zh": f"经检定，该计量器具不符合 {code} 的要求，检定结论为不合格。",
            "en": f"The instrument does not conform to the requirements of {code}.",
        }
    replaces = document.get("replaces") or None
    issued = _clean(document.get("issued_on"))
    site = _clean(document.get("verify_site"))
    item = document.get("item") or {}
    return {
        "kind": kind,
        "verification": kind in VERIFICATION_KINDS,
        "title": TITLES[kind],
        "measured_label": _MEASURED_BY[kind],
        "number": number,
        "number_label": (
            {"zh": "报告编号", "en": "Report No."}
            if kind == "test"
            else {"zh": "证书编号", "en": "Certificate No."}
        ),
        "identifier": _clean(document.get("identifier")),
        "verification_code": _clean(document.get("verification_code")),
        "verify_url": _clean(document.get("verify_url")),
        "notice": {
            "zh": _NOTICE["zh"] + (f"（{site}）" if site else ""),
            "en": _NOTICE["en"] + (f" ({site})" if site else ""),
        },
        "lab": {
            "name": _clean(lab.get("name")),
            "name_en": _clean(lab.get("name_en")),
            "address": _clean(lab.get("address")),
            "postcode": _clean(lab.get("postcode")),
            "phone": _clean(lab.get("phone")),
            "email": _clean(lab.get("email")),
            "website": _clean(lab.get("website")),
            "numbers": [_once(n) for n in lab.get("numbers") or () if _clean(n)],
        },
        "customer": {
            "name": _clean((document.get("customer") or {}).get("name")),
            "address": _clean((document.get("customer") or {}).get("address")),
        },
        "item": {k: _clean(item.get(k)) for k in ("name", "model", "serial_no", "manufacturer")}
        | {"number": _clean(item.get("number"))},
        "method": {"code": _clean(method.get("code")), "title": _clean(method.get("title"))},
        "conclusion": conclusion,
        "decision_rule": text(document.get("decision_rule")) if conclusion else None,
        "nonconformity": nonconformity,
        "dates": {
            "received": _chinese_date(document.get("received_on")),
            "begin": _chinese_date(document.get("begin")),
            "end": _chinese_date(document.get("end")),
            "issued": _chinese_date(issued),
            # a failed instrument has no period of validity: the notice never prints one
            "next_due": (_chinese_date(document.get("next_due")) if kind == "verification" else ""),
        },
        "issued_iso": issued[:10],
        "signatures": _signatures(kind, list(document.get("persons") or ())),
        "equipment": [
            {
                "name": _clean(e.get("name")) or "—",
                "model": _clean(e.get("model")) or "—",
                "number": " / ".join(
                    _clean(e.get(k)) for k in ("asset_no", "serial_no") if _clean(e.get(k))
                )
                or "—",
                "certificate_no": _clean(e.get("certificate_no")) or "—",
                "due_date": _clean(e.get("due_date")) or "—",
            }
            for e in document.get("equipment") or ()
        ],
        "conditions": [
            {
                "name": text(c.get("name")),
                "unit": _clean(c.get("unit")),
                "mean": _clean(c.get("mean")) or "—",
                "min": _clean(c.get("min")) or "—",
                "max": _clean(c.get("max")) or "—",
            }
            for c in document.get("conditions") or ()
        ],
        "location": text(document.get("location")),
        "results": _results(document.get("results") or {}),
        "statements": [text(s) for s in document.get("statements") or () if text(s)["zh"]],
        "deviations": [text(s) for s in document.get("deviations") or () if text(s)["zh"]],
        "replaces": (
            {"number": _clean(replaces.get("number")), "reason": text(replaces.get("reason"))}
            if replaces
            else None
        ),
        "seal": seal_texts(kind, document.get("seal"), lab.get("name")),
        "keywords": [
            f"ecid:{_clean(document.get('identifier'))}",
            f"number:{number}",
        ],
        "attachment": attachment_name(number),
    }


def qr_svg(url: str) -> str:
    """The verification link as a QR code (SVG, black on white, error correction M)."""
    out = io.BytesIO()
    segno.make(url or " ", error="m", micro=False).save(out, kind="svg", border=0, scale=4)
    return out.getvalue().decode()


def _compile(folder: Path) -> bytes:
    return typst.compile(
        str(folder / "main.typ"),
        root=str(folder),
        font_paths=fonts(),
        ignore_system_fonts=True,
        pdf_standards=[PDF_STANDARD],
    )


def render_certificate(document: Mapping[str, Any], *, dcc_xml: bytes) -> bytes:
    """The certificate PDF (PDF/A-3b, unsigned) of `document` (see the module docstring), with
    `dcc_xml` attached as `<number>.xml` (AFRelationship /Alternative). RenderError when the
    kind or number is missing."""
    data = page_data(document)
    with tempfile.TemporaryDirectory(prefix="certificate-") as tmp:
        folder = Path(tmp)
        shutil.copyfile(TEMPLATE, folder / "main.typ")
        (folder / "data.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        (folder / "qr.svg").write_text(qr_svg(data["verify_url"]), "utf-8")
        (folder / "dcc.xml").write_bytes(dcc_xml)
        return _compile(folder)
