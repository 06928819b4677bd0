"""No English where a user looks (zh-Hans is the default language): every page the menu offers
each demo role, and every page those link to within the site, one level deep, is read with the
test client (GET only) and its visible text searched for English words.

Allowed: codes and identifiers (inside <code>, or with digits, dots, underscores), units,
standard numbers (JJG 52-2013), acronyms, single-letter quantity symbols, proper names of the
product and of standards bodies, and the demo data's own Latin names (user names, e-mail and web
addresses, the organisation's English name).
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

# Words a zh-Hans page may show: names, units, symbols and codes that are not translated.
ALLOWED = {
    # the product and names
    "MetroLab",
    "Metrology",
    "Demo",
    "City",
    "Institute",
    "of",
    "and",
    "Testing",
    "WeChat",
    "Modbus",
    "Monte",
    "Carlo",
    "Chromium",
    "Playwright",
    "Django",
    "ninja",
    "Swagger",
    "OpenAPI",
    "Excel",
    "Word",
    "English",  # the language switch offers English by its name
    "JavaScript",
    "Ctrl",  # keyboard hints
    "Mac",
    "metrolab",  # the command line, quoted
    "calc",
    "Webhook",
    "Max",  # demo data: a range "Max ≤ 5 kg"
    "simulated",  # an ingestion channel's code (http / mqtt / modbus / simulated)
    "True",  # the back office's yes / no icons (alt text of Django's own images)
    "False",
    "Search",  # likewise the back office's search icon
    # units and symbols
    "mm",
    "cm",
    "km",
    "kg",
    "mg",
    "kPa",
    "MPa",
    "Pa",
    "bar",
    "hPa",
    "mV",
    "kV",
    "mA",
    "kHz",
    "MHz",
    "Hz",
    "ms",
    "min",
    "lx",
    "dB",
    "ppm",
    "rpm",
    "Ohm",
    "mK",
    "Rtp",
    "kWh",
    "mL",
    "RH",
    "cos",
    "sin",
    "tan",
    "atan",
    "sqrt",
    "exp",
    "ln",
    "log",
    "abs",
    "pi",
    "max",
    # standards and documents
    "GB",
    "JJG",
    "JJF",
    "GUM",
    "JCGM",
    "ISO",
    "IEC",
    "ILAC",
    "CNAS",
    "CMA",
    "OIML",
    "DCC",
    "PDF",
    "QR",
    "RFID",
    "NFC",
    "API",
    "JSON",
    "CSV",
    "XML",
    "HTTP",
    "HTTPS",
    "URL",
    "MQTT",
    "SMTP",
    "TOTP",
    "ID",
    "IP",
    "UTC",
    "Bearer",
    "Token",
}
SKIP_ELEMENTS = {"script", "style", "template", "code", "kbd", "samp", "pre", "svg", "textarea"}
SEEN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
# Links that are not pages to read: signing out, files, the API's own docs, other languages.
SKIP_LINK = re.compile(
    r"^/(static|media|api|logout|i18n|admin/logout)/|/(download|pdf|export|file|photo|media)/"
    r"|\.(pdf|csv|xlsx|png|jpe?g|svg|zip|json)$"
)
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Runs of text that are identifiers, not words: e-mail and web addresses, paths, dotted and
# underscored codes, anything with a digit in it, formulas.
NOT_WORDS = re.compile(
    r"\S+@\S+|https?://\S+|www\.\S+|\S*/\S*/\S*|\S*[._][A-Za-z]\S*"
    r"|\"[^\"]*\"|\S*\d\S*|[A-Za-z]+\s*=|\([A-Za-z, ]+\)|\S*[A-Z]\S*-[A-Z]\S*"
)


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in SKIP_ELEMENTS:
            self.skip += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if not self.skip:
            self.parts.extend(attrs[name] for name in SEEN_ATTRIBUTES if attrs.get(name))
            if tag == "input" and attrs.get("type") in {"submit", "button"} and attrs.get("value"):
                self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in SKIP_ELEMENTS and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.parts.append(data)


def english_runs(text: str, allowed: set[str]) -> list[str]:
    """Runs of English words in `text` (allowed words and identifiers removed)."""
    text = NOT_WORDS.sub(" ", text)
    found = []
    for run in re.split(r"[^A-Za-z'’ -]+", text):
        words = [
            w for w in WORD.findall(run) if w not in allowed and len(w) > 1 and not w.isupper()
        ]
        if words:
            found.append(" ".join(words))
    return found


def _demo_data_names() -> set[str]:
    """The demo data's Latin names, shown as data and not as UI text: user names, the English
    titles of standards and instrument categories, makers and models of equipment, codes
    (e.g. of record templates)."""
    from django.apps import apps
    from django.db import models

    names = set()
    for model in apps.get_models():
        if not model.__module__.startswith("metrolab."):
            continue
        fields = [
            f.name
            for f in model._meta.get_fields()
            if isinstance(f, models.CharField)
            and (f.name.endswith("_en") or f.name in {"username", "manufacturer", "model", "code"})
        ]
        for field in fields:
            for value in model.objects.values_list(field, flat=True):
                names |= set(WORD.findall(value or ""))
    return names


def _internal(href: str) -> str | None:
    href = urldefrag(href)[0]
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if SKIP_LINK.search(parts.path):
        return None
    return href


def _pattern(url: str) -> str:
    """Pages of one kind (the same view for another object, page or filter) are read once."""
    return re.sub(r"[A-Z]*\d+", "N", urlsplit(url).path)


def _read(client: Client, url: str):
    response = client.get(url)
    if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
        return None
    parser = VisibleText()
    parser.feed(response.content.decode())
    return parser


def _menu(parser: VisibleText, html_nav: str) -> list[str]:
    return [u for u in (_internal(h) for h in re.findall(r'href="([^"]+)"', html_nav)) if u]


@pytest.fixture
def demo_lab_in_chinese(demo_lab, settings):
    """The shared demo lab (seeded once per test run), read in the default language."""
    settings.LANGUAGE_CODE = "zh-hans"
    return demo_lab


def test_no_english_on_any_page_a_demo_role_reaches(demo_lab_in_chinese):
    from metrolab.core.demo import DEMO_USERS
    from metrolab.core.models import User

    started = time.monotonic()
    allowed = ALLOWED | _demo_data_names()
    findings: dict[str, set[str]] = defaultdict(set)
    read: set[tuple[frozenset, str]] = set()
    pages = 0
    for username, _name, role_codes in DEMO_USERS:
        client = Client()
        client.force_login(
            User.objects.get(username=username), backend="metrolab.core.auth.ThrottledModelBackend"
        )
        home = client.get("/")
        if home.status_code != 200:
            continue
        nav = re.search(r'<nav id="nav".*?</nav>', home.content.decode(), re.DOTALL)
        menu = ["/", *(_menu(None, nav.group(0)) if nav else [])]
        roles_key = frozenset(role_codes)
        queue = [(url, 0) for url in dict.fromkeys(menu)]
        while queue:
            url, depth = queue.pop(0)
            key = (roles_key, _pattern(url))
            if key in read:
                continue
            read.add(key)
            parser = _read(client, url)
            if parser is None:
                continue
            pages += 1
            for run in english_runs("\n".join(parser.parts), allowed):
                findings[run].add(f"{username} {url}")
            if depth == 0:
                for link in dict.fromkeys(filter(None, map(_internal, parser.links))):
                    queue.append((link, 1))
    elapsed = time.monotonic() - started
    report = {run: sorted(where)[:3] for run, where in sorted(findings.items())}
    listing = "\n".join(f"{run!r}: {', '.join(where)}" for run, where in report.items())
    assert not report, f"{len(report)} English runs on {pages} pages:\n{listing}"
    assert pages > 50
    # About 35 s on an idle two-core machine (pages of one kind are read once per role).
    assert elapsed < 120
