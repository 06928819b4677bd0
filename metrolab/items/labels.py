"""Item labels as PDF (R6.6a): a 50 × 30 mm label per item for a label printer, and A4 sheets
of such labels for a batch.

Each label carries a QR code with the absolute URL of the item's card (scan it with any phone
camera), a Code 128 barcode of the item number (for desk scanners), the number, the item's
name and the commission number. Drawn with reportlab: vector QR modules and bars, so the label
prints sharp at any printer resolution.

Fonts: the first CJK TrueType font found (settings.METROLAB_LABEL_FONT, then the usual Debian
locations) is embedded (subset). Without one, reportlab's built-in Adobe CID font STSong-Light
is used; it is not embedded, and the PDF viewer or printer driver supplies the glyphs (every
Chinese-capable reader has them), which is acceptable for labels but not for PDF/A documents.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from django.conf import settings
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

LABEL_WIDTH = 50 * mm
LABEL_HEIGHT = 30 * mm
MARGIN = 1.5 * mm
QR_SIZE = 17 * mm
QR_BORDER_MODULES = 2
BARCODE_HEIGHT = 8 * mm
BARCODE_QUIET_MODULES = 10  # each side (ISO/IEC 15417)
MAX_BAR_WIDTH = 0.33 * mm

SHEET_COLUMNS, SHEET_ROWS = 4, 9  # 36 labels of 50 × 30 mm on A4

# TrueType CJK fonts (TrueType outlines: reportlab cannot embed CFF / OpenType-PS fonts such
# as the Noto CJK .otf / .ttc files).
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
CID_FONT = "STSong-Light"


@dataclass(frozen=True)
class LabelFont:
    name: str
    embedded: bool


@dataclass(frozen=True)
class LabelData:
    number: str
    name: str
    commission_number: str
    url: str
    commission_caption: str = "Commission"


_font_cache: dict[tuple[str, ...], LabelFont] = {}


def _candidates() -> list[str]:
    configured = getattr(settings, "METROLAB_LABEL_FONT", None)
    return ([configured] if configured else []) + list(FONT_CANDIDATES)


def label_font(candidates: Sequence[str] | None = None) -> LabelFont:
    """The font labels are written in: an embeddable CJK TrueType font if one is installed,
    else the built-in (not embedded) STSong-Light."""
    paths = tuple(_candidates() if candidates is None else candidates)
    if paths in _font_cache:
        return _font_cache[paths]
    font = None
    for path in paths:
        if not Path(path).is_file():
            continue
        name = "Label-" + Path(path).stem
        try:
            if name not in pdfmetrics.getRegisteredFontNames():
                kwargs = {"subfontIndex": 0} if path.lower().endswith(".ttc") else {}
                pdfmetrics.registerFont(TTFont(name, path, **kwargs))
        except Exception:  # noqa: S112 - an unusable font file: try the next one
            continue
        font = LabelFont(name=name, embedded=True)
        break
    if font is None:
        if CID_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
        font = LabelFont(name=CID_FONT, embedded=False)
    _font_cache[paths] = font
    return font


def labels_pdf(labels: Sequence[LabelData], *, font: LabelFont | None = None) -> bytes:
    """One 50 × 30 mm page per label, for a label printer."""
    font = font or label_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(LABEL_WIDTH, LABEL_HEIGHT), invariant=True)
    canvas.setTitle(", ".join(label.number for label in labels[:5]))
    canvas.setCreator("MetroLab")
    for label in labels:
        _draw_label(canvas, 0, 0, label, font)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def label_sheet_pdf(labels: Sequence[LabelData], *, font: LabelFont | None = None) -> bytes:
    """A4 sheets of 4 × 9 labels (50 × 30 mm each) with light cutting lines."""
    font = font or label_font()
    page_w, page_h = A4
    left = (page_w - SHEET_COLUMNS * LABEL_WIDTH) / 2
    top = (page_h - SHEET_ROWS * LABEL_HEIGHT) / 2
    per_page = SHEET_COLUMNS * SHEET_ROWS
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(", ".join(label.number for label in labels[:5]))
    canvas.setCreator("MetroLab")
    for start in range(0, max(len(labels), 1), per_page):
        for i, label in enumerate(labels[start : start + per_page]):
            row, col = divmod(i, SHEET_COLUMNS)
            x = left + col * LABEL_WIDTH
            y = page_h - top - (row + 1) * LABEL_HEIGHT
            canvas.setStrokeGray(0.8)
            canvas.setLineWidth(0.3)
            canvas.rect(x, y, LABEL_WIDTH, LABEL_HEIGHT, stroke=1, fill=0)
            _draw_label(canvas, x, y, label, font)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_label(canvas: Canvas, x: float, y: float, label: LabelData, font: LabelFont) -> None:
    canvas.saveState()
    canvas.translate(x, y)
    canvas.setFillGray(0)
    _draw_qr(canvas, label.url, MARGIN, LABEL_HEIGHT - MARGIN - QR_SIZE, QR_SIZE)
    text_x = MARGIN + QR_SIZE + 1 * mm
    text_w = LABEL_WIDTH - text_x - MARGIN
    top = LABEL_HEIGHT - MARGIN
    size = _fit_size(label.number, font.name, 9, 6, text_w)
    canvas.setFont(font.name, size)
    canvas.drawString(text_x, top - size * 0.85, label.number)
    y_text = top - size - 1.2 * mm
    for line in _wrap(label.name, font.name, 7, text_w, max_lines=2):
        y_text -= 7 * 1.15
        canvas.setFont(font.name, 7)
        canvas.drawString(text_x, y_text, line)
    caption = f"{label.commission_caption} {label.commission_number}"
    size = _fit_size(caption, font.name, 6, 4.5, text_w)
    canvas.setFont(font.name, size)
    canvas.drawString(text_x, LABEL_HEIGHT - MARGIN - QR_SIZE + 0.5 * mm, caption)
    _draw_code128(canvas, label.number, MARGIN, MARGIN, LABEL_WIDTH - 2 * MARGIN)
    canvas.restoreState()


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code as filled rectangles, one per run of dark modules in a row."""
    qr = segno.make_qr(data, error="m")
    matrix = [list(row) for row in qr.matrix_iter(border=0)]
    n = len(matrix) + 2 * QR_BORDER_MODULES
    module = size / n
    origin_x = x + QR_BORDER_MODULES * module
    origin_y = y + size - QR_BORDER_MODULES * module
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            path.rect(
                origin_x + start * module, origin_y - (r + 1) * module, (c - start) * module, module
            )
    canvas.drawPath(path, stroke=0, fill=1)


def _draw_code128(canvas: Canvas, value: str, x: float, y: float, width: float) -> None:
    """A Code 128 barcode of `value`, as wide as fits (bar width ≤ 0.33 mm) with its quiet
    zones, centred in `width`."""
    modules = Code128(value, barWidth=1, quiet=0).width
    bar = min(MAX_BAR_WIDTH, width / (modules + 2 * BARCODE_QUIET_MODULES))
    barcode = Code128(value, barWidth=bar, barHeight=BARCODE_HEIGHT, quiet=0, humanReadable=0)
    barcode.drawOn(canvas, x + (width - barcode.width) / 2, y)


def _fit_size(text: str, font: str, size: float, smallest: float, width: float) -> float:
    while size > smallest and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.25
    return size


def _wrap(text: str, font: str, size: float, width: float, *, max_lines: int) -> list[str]:
    """Break text into lines that fit (character by character, as CJK text breaks); the last
    line ends with an ellipsis when the text is longer."""
    lines: list[str] = []
    current = ""
    for ch in text.strip():
        if pdfmetrics.stringWidth(current + ch, font, size) <= width:
            current += ch
            continue
        lines.append(current)
        current = ch
        if len(lines) == max_lines:
            break
    else:
        if current:
            lines.append(current)
        return lines
    last = lines[-1]
    while last and pdfmetrics.stringWidth(last + "…", font, size) > width:
        last = last[:-1]
    lines[-1] = last + "…"
    return lines
