"""The Simplified Chinese catalogue is complete, compiled, and served by default.

The UI is written with English msgids; zh-hans is the default language. These tests fail when
someone adds a string without translating it (run `metrolab makemessages -l zh_Hans`, fill the
msgstr), or translates without compiling (run `metrolab compilemessages`).
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"\s*$')


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), s)


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    obsolete: bool = False

    @property
    def label(self) -> str:
        ctx = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"django.po:{self.line}: {ctx}{self.msgid!r}"


def parse_po(text: str) -> list[Entry]:
    """A minimal .po parser: enough for the files `makemessages` writes."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int | None] | None = None

    def append(key: tuple[str, int | None], value: str) -> None:
        name, index = key
        if name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + value
        else:
            setattr(entry, name, (getattr(entry, name) or "") + value)

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            entry, target = None, None
            continue
        if line.startswith("#~"):
            if entry is None or entry.msgstr:
                entry = Entry(line=lineno, obsolete=True)
                entries.append(entry)
            entry.obsolete = True
            continue
        if line.startswith("#"):
            if entry is None or entry.msgstr:
                entry = Entry(line=lineno)
                entries.append(entry)
            if line.startswith("#,"):
                entry.flags.update(f.strip() for f in line[2:].split(","))
            target = None
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, value = match.groups()
            if keyword in ("msgctxt", "msgid") and (entry is None or entry.msgstr):
                entry = Entry(line=lineno)
                entries.append(entry)
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index) if index is not None else 0)
                entry.msgstr.setdefault(target[1], "")
            else:
                target = (keyword, None)
                if keyword in ("msgctxt", "msgid_plural"):
                    setattr(entry, keyword, "")
            append(target, _unescape(value))
        elif line.startswith('"') and line.endswith('"') and target is not None:
            append(target, _unescape(line[1:-1]))
        else:
            raise ValueError(f"django.po:{lineno}: cannot parse {raw!r}")
    return [e for e in entries if not e.obsolete and (e.msgid or e.msgctxt is not None)]


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    assert PO_FILE.exists(), f"{PO_FILE} is missing: run `metrolab makemessages -l zh_Hans`"
    entries = parse_po(PO_FILE.read_text(encoding="utf-8"))
    assert entries, f"{PO_FILE} holds no messages"
    return entries


def test_po_header_is_not_fuzzy():
    text = PO_FILE.read_text(encoding="utf-8")
    header = text.split('msgid ""', 1)[0]
    assert "fuzzy" not in header, "the .po header is marked fuzzy: remove the `#, fuzzy` flag"


def test_every_message_is_translated(po_entries):
    problems = []
    for e in po_entries:
        if "fuzzy" in e.flags:
            problems.append(f"{e.label} is marked fuzzy")
        if not e.msgstr or any(not s for s in e.msgstr.values()):
            problems.append(f"{e.label} has no translation")
    assert not problems, "zh_Hans catalogue is incomplete:\n" + "\n".join(problems)


def test_compiled_catalogue_matches_po(po_entries):
    assert MO_FILE.exists(), f"{MO_FILE} is missing: run `metrolab compilemessages`"
    with MO_FILE.open("rb") as fp:
        mo = gettext.GNUTranslations(fp)
    stale = []
    for e in po_entries:
        if e.msgid_plural is not None:  # zh_Hans has one plural form (nplurals=1): msgstr[0]
            got = (
                mo.npgettext(e.msgctxt, e.msgid, e.msgid_plural, 1)
                if e.msgctxt is not None
                else mo.ngettext(e.msgid, e.msgid_plural, 1)
            )
        else:
            got = mo.pgettext(e.msgctxt, e.msgid) if e.msgctxt is not None else mo.gettext(e.msgid)
        if got != e.msgstr.get(0):
            stale.append(f"{e.label}: .mo has {got!r}, .po has {e.msgstr.get(0)!r}")
    assert not stale, "django.mo is out of date, run `metrolab compilemessages`:\n" + "\n".join(
        stale
    )


def test_login_page_is_chinese_by_default(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "登录" in body
    assert '<html lang="zh-CN">' in body


def test_login_page_in_english_by_cookie(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sign in" in body
    assert "登录" not in body


def test_browser_language_does_not_override_the_chinese_default(client, db):
    """Chinese is the lab's language; English only by the user's choice (the switch)."""
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    assert "登录" in response.content.decode()
