"""The printed certificate: the document mapping → an unsigned PDF/A-3b (Typst) with the DCC
attached. (Interim layout; the full certificate layout replaces this module.)"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pylopdf_fonts_zh_cn
import typst

SOURCE = r"""
#let d = json("data.json")
#set document(title: d.title, author: d.lab.name, keywords: d.keywords)
#set page(paper: "a4", footer: context [
  本证书为电子证书，请到发证机构官网验证 #h(1fr)
  第 #counter(page).display() 页 共 #counter(page).final().first() 页
])
#set text(font: ("Noto Serif SC", "Noto Sans SC"), lang: "zh", region: "cn", size: 10pt)
#pdf.attach("dcc.xml", relationship: "alternative", mime-type: "application/xml",
  description: "Digital Calibration Certificate (PTB DCC 3.3.0)")
= #d.title
#d.number \
#d.identifier \
以下空白 / End of certificate
"""


def render_certificate(document: Mapping[str, Any], *, dcc_xml: bytes) -> bytes:
    data = dict(document)
    data.setdefault("title", "证书")
    data["keywords"] = [f"ecid:{document['identifier']}", f"number:{document['number']}"]
    with tempfile.TemporaryDirectory(prefix="metrolab-certificate-") as folder:
        root = Path(folder)
        (root / "main.typ").write_text(SOURCE, encoding="utf-8")
        (root / "data.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        (root / "dcc.xml").write_bytes(dcc_xml)
        return typst.compile(
            str(root / "main.typ"),
            root=str(root),
            font_paths=[str(pylopdf_fonts_zh_cn.sans_path().parent)],
            ignore_system_fonts=True,
            pdf_standards=["a-3b"],
        )
