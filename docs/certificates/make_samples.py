"""Render the sample certificates of docs/certificates.md: each `<kind>.json` here (the
document `render_certificate` takes, from the demo lab's approved records) to `<kind>.pdf`
(not committed) and its first two pages to `<kind>-1.png`, `<kind>-2.png` (pdftoppm -r 80).

    uv run python docs/certificates/make_samples.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from metrolab.certificates.dcc import build_dcc  # noqa: E402
from metrolab.certificates.render import render_certificate  # noqa: E402


def main() -> None:
    for source in sorted(HERE.glob("*.json")):
        document = json.loads(source.read_text("utf-8"))
        with tempfile.TemporaryDirectory() as tmp:
            pdf = Path(tmp) / "certificate.pdf"
            pdf.write_bytes(render_certificate(document, dcc_xml=build_dcc(document)))
            prefix = HERE / source.stem
            subprocess.run(
                ["pdftoppm", "-r", "80", "-f", "1", "-l", "2", "-png", str(pdf), str(prefix)],
                check=True,
            )
        print(
            source.name, "→", ", ".join(p.name for p in sorted(HERE.glob(f"{source.stem}-*.png")))
        )


if __name__ == "__main__":
    main()
