"""An original record for the archive (R6.12a; R6.2c): one A4 PDF (reportlab, the CJK font of
the labels, `items.labels.label_font`) with the header, the parameters, the readings and the
results table, the conditions as stored with the record, the equipment with the calibration
data in force that day, the full change trail, the status changes and every signature
manifest (valid or invalid), the record number and "第 x 页 共 y 页" on every page."""

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
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from metrolab.items.labels import label_font
from metrolab.records import calculation, entry, selectors
from metrolab.records.labels import authentication_label, quantity_label, role_label
from metrolab.records.models import Record


def _when(value) -> str:
    if not value:
        return "—"
    return date_format(timezone.localtime(value), "Y-m-d H:i:s")


class _NumberedCanvas(pdf_canvas.Canvas):
    """Writes "record number · page x of y" at the foot of every page once all are known."""

    def __init__(self, *args, number: str = "", font: str = "Helvetica", **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []
        self._number = number
        self._font = font

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._foot(total)
            super().showPage()
        super().save()

    def _foot(self, total: int) -> None:
        self.setFont(self._font, 8)
        self.setFillColor(colors.grey)
        text = _("Page %(page)s of %(pages)s") % {"page": self._pageNumber, "pages": total}
        self.drawString(15 * mm, 10 * mm, f"{_('Original record')} {self._number}")
        self.drawRightString(A4[0] - 15 * mm, 10 * mm, text)


def archive_pdf(record: Record) -> bytes:
    font = label_font().name
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=20, spaceAfter=4)
    heading = ParagraphStyle("heading", fontName=font, fontSize=11.5, leading=16, spaceBefore=8)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
    cell = ParagraphStyle("cell", fontName=font, fontSize=7.5, leading=9.5)

    def p(text, style=None) -> Paragraph:
        return Paragraph(escape(str(text if text not in (None, "") else "—")), style or body)

    def table(rows: list[list], widths=None) -> Table:
        t = Table(
            [[p(c, cell) for c in row] for row in rows],
            colWidths=widths,
            repeatRows=1,
            hAlign="LEFT",
        )
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return t

    detail = selectors.record_detail(record)
    cells = [c.to_json() for c in calculation.input_cells(record).values()]
    sheet = entry.sheet(record, record.cells, record.results or {}, cells)
    context = record.context or {}
    item, commission = context.get("item") or {}, context.get("commission") or {}
    customer, method = context.get("customer") or {}, context.get("method") or {}

    story = [
        p(f"{_('Original record')} {record.number}", title),
        p(
            f"{sheet['title']} · {record.template_version.template.code} "
            f"v{record.template_version.number}"
        ),
        p(
            f"{_('Status')}: {record.get_status_display()} · {_('Decision')}: "
            f"{sheet['decision'].label}"
            + (f" · {_('Locked at')}: {_when(record.locked_at)}" if record.locked_at else "")
        ),
        p(_("Header"), heading),
    ]
    facts = [
        (_("Item"), f"{item.get('number', '')} {item.get('name', '')}"),
        (_("Model / range"), item.get("model_range")),
        (_("Serial no."), item.get("serial_no")),
        (_("Manufacturer"), item.get("manufacturer")),
        (_("Commission"), f"{commission.get('number', '')} · {customer.get('name', '')}"),
        (_("Method"), f"{method.get('code', '')} {method.get('title', '')}"),
        (_("Room"), f"{record.room.code} {record.room.name}" if record.room else None),
        (_("Measured by"), f"{record.measured_by} · {_when(record.started_at)}"),
        (_("Kept until"), record.retain_until.isoformat() if record.retain_until else None),
    ]
    facts += [(h["label"], h["value"]) for h in sheet["header"]]
    facts += [
        (f"{prm['label']}{' (' + prm['unit'] + ')' if prm['unit'] else ''}", prm["shown"])
        for prm in sheet["parameters"]
    ]
    facts_rows = [[_("Field"), _("Value")], *[[a, b] for a, b in facts]]
    story.append(table(facts_rows, [55 * mm, 120 * mm]))

    story.append(p(_("Readings"), heading))
    head = ["#", f"{sheet['nominal_label']} {sheet['nominal_unit']}".strip()]
    for column in sheet["columns"]:
        for repeat in column["repeats"]:
            head.append(f"{column['label']}{' #' + str(repeat) if repeat else ''} {column['unit']}")
    rows = [
        [row["point"], row["nominal"], *[c["value"] for c in row["cells"]]] for row in sheet["rows"]
    ]
    story.append(table([head, *rows]))

    story.append(p(_("Computed results"), heading))
    head = ["#", sheet["nominal_label"]] + [
        f"{c['label']} {c['unit']}".strip() for c in sheet["computed_columns"]
    ]
    rows = [
        [row["point"], row["nominal"], *[("n/a" if v["na"] else v["text"]) for v in computed]]
        for row in sheet["rows"]
        for computed in [row["computed"]]
    ]
    story.append(table([head, *rows]))
    if sheet["summary"]:
        story.append(Spacer(1, 2 * mm))
        story.append(
            table(
                [
                    [_("Summary"), _("Value")],
                    *[[s["label"], f"{s['text']} {s['unit']}".strip()] for s in sheet["summary"]],
                ],
                [70 * mm, 60 * mm],
            )
        )
    for problem in sheet["problems"]:
        story.append(p(f"⚠ {problem['where']}: {problem['message']}"))

    story.append(p(_("Environmental conditions"), heading))
    conditions = record.conditions or {}
    quantities = conditions.get("quantities") or {}
    if quantities:
        story.append(
            table(
                [
                    [_("Quantity"), _("Min"), _("Max"), _("Mean"), _("Readings"), _("Held")],
                    *[
                        [
                            f"{quantity_label(name)} ({q.get('unit', '')})",
                            q.get("min"),
                            q.get("max"),
                            f"{q['mean']:.2f}" if isinstance(q.get("mean"), int | float) else "—",
                            q.get("readings_total", q.get("count")),
                            _("yes") if q.get("held") else _("no"),
                        ]
                        for name, q in quantities.items()
                    ],
                ]
            )
        )
    else:
        story.append(p(detail["conditions_note"] or conditions.get("note") or _("Not stored yet.")))

    story.append(p(_("Equipment used"), heading))
    rows = []
    for use in detail["equipment"]:
        snap = use["snapshot"] or {}
        points = "; ".join(
            f"{pt.get('nominal')} {pt.get('unit', '')}: "
            f"{_('correction')} {pt.get('correction')}, U={pt.get('expanded_uncertainty')}"
            f" (k={pt.get('coverage_factor')})"
            for pt in snap.get("points") or ()
        )
        rows.append(
            [
                use["asset_no"],
                use["name"],
                role_label(use["role"]),
                use["certificate_no"],
                use["due_date"],
                points or "—",
            ]
        )
    story.append(
        table(
            [
                [
                    _("Asset no."),
                    _("Name"),
                    _("Role"),
                    _("Certificate no."),
                    _("Due"),
                    _("Calibration data"),
                ],
                *rows,
            ],
            [22 * mm, 35 * mm, 18 * mm, 28 * mm, 20 * mm, 57 * mm],
        )
    )

    story.append(p(_("Change trail"), heading))
    labels = entry.cell_labels(record)
    rows = [
        [
            _when(c.at),
            f"{labels.get(c.cell, c.cell)} ({c.cell})",
            f"{c.old or '∅'} → {c.new or '∅'}",
            str(c.by),
            c.get_status_display(),
            c.reason,
        ]
        for c in selectors.changes_of(record)
    ]
    if rows:
        story.append(
            table(
                [
                    [
                        _("At"),
                        _("Field"),
                        _("Old → new"),
                        _("By"),
                        _("Record status then"),
                        _("Reason"),
                    ],
                    *rows,
                ],
                [28 * mm, 40 * mm, 30 * mm, 22 * mm, 22 * mm, 38 * mm],
            )
        )
    else:
        story.append(p(_("No changes yet.")))

    story.append(p(_("Status changes"), heading))
    story.append(
        table(
            [[_("At"), _("By"), _("To"), _("Reason")]]
            + [
                [_when(t["at"]), t["by_name"], t["target_label"], t["reason"]]
                for t in detail["transitions"]
            ],
            [30 * mm, 30 * mm, 40 * mm, 80 * mm],
        )
    )

    story.append(p(_("Signatures"), heading))
    rows = [
        [
            s["meaning_label"],
            s["printed_name"],
            _when(s["signed_at"]),
            authentication_label(s["authenticated_by"]),
            _("valid") if s["valid"] else _("invalid: the record changed after signing"),
            s["content_digest"][:16] + "…",
        ]
        for s in detail["signatures"]
    ]
    if rows:
        story.append(
            table(
                [
                    [
                        _("Meaning"),
                        _("Printed name"),
                        _("Signed at"),
                        _("Authenticated by"),
                        _("Valid"),
                        _("Content signed (SHA-256)"),
                    ],
                    *rows,
                ],
                [30 * mm, 25 * mm, 30 * mm, 25 * mm, 40 * mm, 30 * mm],
            )
        )
    else:
        story.append(p(_("Not signed yet.")))
    story.append(Spacer(1, 4 * mm))
    story.append(p(f"{_('Printed')}: {_when(timezone.now())}"))

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"{_('Original record')} {record.number}",
    )
    doc.build(
        story,
        canvasmaker=lambda *a, **kw: _NumberedCanvas(*a, number=record.number, font=font, **kw),
    )
    return buffer.getvalue()
