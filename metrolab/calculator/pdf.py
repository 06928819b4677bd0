"""An uncertainty evaluation printed as a budget table (A4 PDF, reportlab), in the language of
the request, with the CJK font the labels use (items.labels.label_font)."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from metrolab.calculator.templatetags.calculator import plain_significant
from metrolab.items.labels import label_font


def _with_unit(text: str, unit: str) -> str:
    return f"{text} {unit}" if unit and text not in ("", "—") else text


def evaluation_pdf(evaluation, spec: dict, result: dict, outputs: list[dict]) -> bytes:
    font = label_font().name
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=20, spaceAfter=4)
    heading = ParagraphStyle("heading", fontName=font, fontSize=11.5, leading=16, spaceBefore=8)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11)

    def p(text: str, style=None) -> Paragraph:
        return Paragraph(escape(str(text)), style or body)

    created = date_format(timezone.localtime(evaluation.created_at), "Y-m-d H:i")
    story = [
        p(_("Uncertainty evaluation") + ": " + evaluation.name, title),
        p(f"{_('Author')}: {evaluation.author} · {_('Date')}: {created}"),
    ]
    if evaluation.measurement_standard_id:
        story.append(p(f"{_('Measurement standard')}: {evaluation.measurement_standard}"))
    method = _("Monte Carlo") if result.get("method") == "mc" else _("GUM (law of propagation)")
    story.append(p(f"{_('Method')}: {method}"))
    story.append(p(_("Measurement model"), heading))
    for name, expression in spec.get("model", {}).items():
        story.append(p(f"{name} = {expression}"))

    for out in outputs:
        unit = out["unit"]
        shown, raw = out["shown"], out["raw"]
        reported = shown["value"] + (f" ± {shown['U']}" if shown["U"] else "")
        story.append(p(f"{out['name']} = {_with_unit(reported, unit)}", heading))
        facts = [
            (_("Standard uncertainty u(y)"), _with_unit(plain_significant(raw.get("u"), 2), unit)),
            (_("Coverage factor k"), plain_significant(raw.get("k"), 4) if raw.get("k") else "—"),
            (_("Expanded uncertainty U"), _with_unit(shown["U"] or "—", unit)),
        ]
        if shown.get("interval"):
            low, high = shown["interval"]
            facts.append((_("Coverage interval"), _with_unit(f"[{low}, {high}]", unit)))
        for label, value in facts:
            story.append(p(f"{label}: {value}"))
        if out["budget"]:
            story.append(Spacer(1, 2 * mm))
            header = [
                _("Input"),
                _("Estimate"),
                _("Unit"),
                "u(x<sub>i</sub>)",
                "ν<sub>i</sub>",
                "c<sub>i</sub>",
                "|c<sub>i</sub>|u(x<sub>i</sub>)",
                _("Share"),
            ]
            rows = [[Paragraph(h, cell) for h in map(escape, header[:3])]]
            rows[0] += [Paragraph(h, cell) for h in header[3:7]] + [p(header[7], cell)]
            for row in out["budget"]:
                dof = "∞" if row.get("dof") is None else plain_significant(row["dof"], 3)
                rows.append(
                    [
                        p(row["input"], cell),
                        p(plain_significant(row["value"], 8), cell),
                        p(row["unit"], cell),
                        p(plain_significant(row["u"], 3), cell),
                        p(dof, cell),
                        p(plain_significant(row["c"], 4), cell),
                        p(plain_significant(row["contribution"], 3), cell),
                        p(f"{row['share']:.1f} %", cell),
                    ]
                )
            table = Table(rows, repeatRows=1, hAlign="LEFT")
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.94, 0.97)),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            story.append(table)

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=evaluation.name,
        author=str(evaluation.author),
        creator="MetroLab",
        invariant=True,
    )
    document.build(story)
    return buffer.getvalue()
