"""Benchmark of the printed certificate (issue 15: issue 100 certificates, render + sign, goal
≤ 0.2 s per certificate), printed beside a baseline measured in the same run on the same
machine (never asserted in tests: machines here are shared and noisy).

    uv run python benchmarks/bench_certificate.py

The document is the verification sample of docs/certificates (a JJG 52 pressure gauge from the
demo lab: cover, two pages). Each of 100 certificates gets its own number, identifier and
verification code. Timed per certificate, median of 100 (after one warm-up):
1. baseline: a one-line Typst document compiled the same way (a temp folder with main.typ,
   the same fonts, PDF/A-3b);
2. build_dcc (the XML the PDF carries);
3. render_certificate (page data, QR code, temp folder, Typst, PDF/A-3b);
4. render + sign_pdf (PAdES with a throw-away lab key, no time-stamp);
then the throughput of render + sign over 100 certificates with one and with two processes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import typst  # noqa: E402
from django.test import override_settings  # noqa: E402

from metrolab.certificates import pki, render, signing  # noqa: E402
from metrolab.certificates.dcc import build_dcc  # noqa: E402

COUNT = 100
SAMPLE = ROOT / "docs" / "certificates" / "verification.json"
BASELINE = '#set document(title: "baseline")\n#set text(font: "Noto Serif SC")\n证书 Certificate\n'


def documents() -> list[dict]:
    base = json.loads(SAMPLE.read_text("utf-8"))
    out = []
    for i in range(1, COUNT + 1):
        document = json.loads(json.dumps(base))
        document["number"] = f"JD2026-{i:06d}"
        document["identifier"] = f"ML-2026-{i:06d}-{i * 7919 % 65536:04X}"
        document["verification_code"] = f"{i * 104729 % 10**8:08d}"
        document["verify_url"] = f"https://metrolab.example/verify/{document['identifier']}"
        out.append(document)
    return out


def per_item(function: Callable[[dict], object], items: list[dict]) -> float:
    """Median time of `function` over `items` (one warm-up call first), in seconds."""
    function(items[0])
    times = []
    for item in items:
        start = time.perf_counter()
        function(item)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def baseline(_item: dict) -> bytes:
    with tempfile.TemporaryDirectory(prefix="certificate-") as tmp:
        folder = Path(tmp)
        (folder / "main.typ").write_text(BASELINE, "utf-8")
        return render._compile(folder)


def render_one(document: dict) -> bytes:
    return render.render_certificate(document, dcc_xml=build_dcc(document))


def issue(document: dict) -> int:
    pdf = render_one(document)
    return len(signing.sign_pdf(pdf, reason="Certificate issue", location="示范市"))


def keys_settings(files: pki.PkiFiles, password: str) -> override_settings:
    return override_settings(
        METROLAB_SIGNING_P12=files.signing_p12,
        METROLAB_SIGNING_CA_CERT=files.ca_cert,
        METROLAB_SIGNING_P12_PASSWORD=password,
        METROLAB_TSA_URL="",
    )


def _worker(files: pki.PkiFiles, password: str) -> None:
    keys_settings(files, password).enable()
    render_one(documents()[0])  # warm-up: fonts loaded, template parsed


def throughput(items: list[dict], workers: int, files: pki.PkiFiles, password: str) -> float:
    """Certificates per second, render + sign, with `workers` processes (spawned: a process
    forked after Typst has run could inherit its threads' locks)."""
    if workers == 1:
        start = time.perf_counter()
        for item in items:
            issue(item)
        return len(items) / (time.perf_counter() - start)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, context, initializer=_worker, initargs=(files, password)
    ) as pool:
        list(pool.map(str, range(workers)))  # the workers are up and warm
        start = time.perf_counter()
        list(pool.map(issue, items, chunksize=5))
        return len(items) / (time.perf_counter() - start)


def main() -> None:
    items = documents()
    with tempfile.TemporaryDirectory() as keys:
        password = "bench-p12-password"  # a throw-away key for this run only
        with override_settings(METROLAB_SIGNING_P12_PASSWORD=password):
            files = pki.pki_init(Path(keys), lab_name="Benchmark Lab")
        settings = keys_settings(files, password)
        settings.enable()
        try:
            assert signing.verify_pdf(
                signing.sign_pdf(render_one(items[0]), reason="x", location="y")
            ).ok
            t_base = per_item(baseline, items)
            t_dcc = per_item(build_dcc, items)
            t_render = per_item(render_one, items)
            t_issue = per_item(issue, items)
            rate_1 = throughput(items, 1, files, password)
            rate_2 = throughput(items, 2, files, password)
        finally:
            settings.disable()

    print(
        f"Certificates: median of {COUNT} per certificate, typst {typst.__version__}, "
        f"{os.cpu_count()} cores (goal: render + sign ≤ 200 ms)"
    )
    rows = [
        ("baseline: one-line Typst document, same way", t_base),
        ("build_dcc (DCC XML)", t_dcc),
        ("render_certificate (PDF/A-3b, 2 pages)", t_render),
        ("render + sign_pdf (PAdES, no time-stamp)", t_issue),
    ]
    for name, seconds in rows:
        print(f"   {name:46} {seconds * 1000:8.1f} ms   ratio {seconds / t_base:6.2f}")
    print(f"   throughput render + sign, 1 process   {rate_1:8.1f} certificates/s")
    print(f"   throughput render + sign, 2 processes {rate_2:8.1f} certificates/s")


if __name__ == "__main__":
    main()
