"""Browser journey of the public certificate verification (issue 15, R9.1) on a 390 × 844 phone
in Chinese, signed in as nobody: the QR link shows a green "有效" with the summary at once; a
wrong code on the form gives a grey "未找到"; uploading the issued PDF is green again with its
signature; a changed copy is red "非原件". No sideways scrolling anywhere.

Arranged with the services. Screenshots: /tmp/e2e-verify-*.png.
"""

from __future__ import annotations

import pytest
from django.db import connections
from playwright.sync_api import expect

from e2e.conftest import PHONE, SCREENSHOTS
from metrolab.certificates.tests.conftest import *  # noqa: F403 - pytest fixtures used by name

pytestmark = pytest.mark.browser

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_verification_by_link_code_and_file_on_a_phone(
    live_server, issued_certificate, new_page, tmp_path
):
    from metrolab.certificates import services

    c = issued_certificate
    assert c.status == "issued", c.error
    pdf = services.read_file(c.pdf_sha256)
    good = tmp_path / "证书.pdf"
    good.write_bytes(pdf)
    changed = bytearray(pdf)
    changed[changed.index(b"Typst") + 1] ^= 0x01
    bad = tmp_path / "changed.pdf"
    bad.write_bytes(bytes(changed))
    connections.close_all()
    base = live_server.url
    page = new_page(viewport=PHONE)

    page.goto(f"{base}/verify/{c.identifier}/?code={c.verification_code}")
    verdict = page.locator("[data-testid=verify-result]")
    expect(verdict).to_have_attribute("data-result", "valid")
    expect(verdict).to_contain_text("有效")
    expect(verdict).to_contain_text(c.number)
    expect(verdict).to_contain_text(c.summary["customer"])
    colour = verdict.evaluate("e => getComputedStyle(e).borderLeftColor")
    assert colour == "rgb(30, 123, 52)", colour  # --green
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(SCREENSHOTS / "e2e-verify-link.png"), full_page=True)

    page.goto(f"{base}/verify/")
    page.fill("input[name=number]", c.number)
    page.fill("input[name=code]", "AAAAAAAA")
    page.click("[data-testid=verify-code-submit]")
    expect(verdict).to_have_attribute("data-result", "unknown")
    expect(verdict).to_contain_text("未找到")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(SCREENSHOTS / "e2e-verify-unknown.png"), full_page=True)

    page.set_input_files("input[name=file]", str(good))
    page.click("[data-testid=verify-file-submit]")
    expect(verdict).to_have_attribute("data-result", "valid")
    expect(page.locator("[data-testid=verify-signature]")).to_contain_text("完好，由本实验室签署")
    page.screenshot(path=str(SCREENSHOTS / "e2e-verify-file.png"), full_page=True)

    page.set_input_files("input[name=file]", str(bad))
    page.click("[data-testid=verify-file-submit]")
    expect(verdict).to_have_attribute("data-result", "tampered")
    expect(verdict).to_contain_text("非原件")
    colour = verdict.evaluate("e => getComputedStyle(e).borderLeftColor")
    assert colour == "rgb(179, 38, 30)", colour  # --red
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(SCREENSHOTS / "e2e-verify-tampered.png"), full_page=True)
