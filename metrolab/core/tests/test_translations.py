"""The Simplified Chinese catalogue is complete, compiled, and served by default.

The UI is written with English msgids; zh-hans is the default language. These tests fail when
someone adds a string without translating it (run `metrolab makemessages -l zh_Hans`, fill the
msgstr), or translates without compiling (run `metrolab compilemessages`). The source scan
extracts the messages as `makemessages` does, so a new `{% translate %}` or `_()` fails here
even before anyone has run `makemessages`.
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management.commands.makemessages import Command as MakeMessages
from django.utils.translation.template import templatize

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
    references: list[str] = field(default_factory=list)

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
            elif line.startswith("#:"):
                entry.references.extend(line[2:].split())
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


# --- every translatable string in the source is in the catalogue, translated --------------------
# The scan mirrors `metrolab makemessages -l zh_Hans --ignore=.venv --ignore=var
# --ignore=node_modules` run from the repository root: the same files (.py, .html, .txt; hidden
# folders and `locale/` skipped), templates turned into Python by Django's own `templatize`, and
# GNU xgettext with Django's keywords. Unlike makemessages it writes nothing into the work tree:
# the templatized copies go to a temporary folder and xgettext prints the .pot to stdout.

REPO_ROOT = Path(settings.BASE_DIR)
SCAN_EXTENSIONS = {".py", ".html", ".txt"}
SKIPPED_DIRS = {".venv", "var", "node_modules", "locale", "__pycache__"}
XGETTEXT_KEYWORDS = [  # django/core/management/commands/makemessages.py, domain "django"
    "--keyword=gettext_noop",
    "--keyword=gettext_lazy",
    "--keyword=ngettext_lazy:1,2",
    "--keyword=pgettext:1c,2",
    "--keyword=npgettext:1c,2,3",
    "--keyword=pgettext_lazy:1c,2",
    "--keyword=npgettext_lazy:1c,2,3",
]


def source_files(root: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
        found.extend(
            Path(dirpath, name)
            for name in sorted(filenames)
            if Path(name).suffix in SCAN_EXTENSIONS and not name.startswith(".")
        )
    return found


def extract_messages(root: Path, work_dir: Path) -> list[Entry]:
    """The messages `makemessages` would extract from the source under `root`, as .pot entries."""
    inputs, shown = [], {}
    for path in source_files(root):
        relative = path.relative_to(root)
        if path.suffix == ".py":
            inputs.append(str(path))
            shown[str(path)] = str(relative)
            continue
        templatized = work_dir / f"{relative}.py"  # what makemessages feeds xgettext
        templatized.parent.mkdir(parents=True, exist_ok=True)
        content = templatize(path.read_text(encoding="utf-8"), origin=str(relative))
        templatized.write_text(content, encoding="utf-8")
        inputs.append(str(templatized))
        shown[str(templatized)] = str(relative)
    files_from = work_dir / "files.txt"
    files_from.write_text("\n".join(inputs), encoding="utf-8")
    result = subprocess.run(
        [
            "xgettext",
            "-d",
            "django",
            "--language=Python",
            *XGETTEXT_KEYWORDS,
            "--output=-",
            "--files-from",
            str(files_from),
            *MakeMessages.xgettext_options,
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"xgettext failed:\n{result.stderr}"
    entries = parse_po(result.stdout) if result.stdout.strip() else []
    for e in entries:  # name the real file, as makemessages does: templates/x.html.py -> x.html
        e.references = [
            shown.get(path, path) + sep + line
            for path, sep, line in (ref.rpartition(":") for ref in e.references)
        ]
    return entries


@pytest.fixture
def xgettext_available():
    if shutil.which("xgettext") is None:
        reason = "GNU gettext's xgettext is not installed (apt-get install gettext)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must install it (.ci/run)")
        pytest.skip(reason)


def _key(e: Entry) -> tuple[str | None, str, str | None]:
    return (e.msgctxt, e.msgid, e.msgid_plural)


def missing_translations(source: list[Entry], catalogue: list[Entry]) -> list[str]:
    translated = {
        _key(e) for e in catalogue if "fuzzy" not in e.flags and e.msgstr and all(e.msgstr.values())
    }
    return [
        f"{', '.join(e.references) or '?'}: {e.msgid!r}"
        + (f" (context {e.msgctxt!r})" if e.msgctxt is not None else "")
        + (f" (plural {e.msgid_plural!r})" if e.msgid_plural is not None else "")
        for e in source
        if _key(e) not in translated
    ]


def test_every_source_string_is_in_the_catalogue(xgettext_available, po_entries, tmp_path):
    source = extract_messages(REPO_ROOT, tmp_path)
    assert len(source) > 100, f"the source scan found only {len(source)} messages"
    missing = missing_translations(source, po_entries)
    assert not missing, (
        "translatable strings missing from (or untranslated in) the zh_Hans catalogue; run "
        "`uv run metrolab makemessages -l zh_Hans --ignore=.venv --ignore=var "
        "--ignore=node_modules`, translate, then `uv run metrolab compilemessages`:\n"
        + "\n".join(missing)
    )


def test_source_scan_catches_a_new_template_string(xgettext_available, po_entries, tmp_path):
    """The scan itself works: a new string in a template is reported, a known one is not."""
    app = tmp_path / "src" / "app" / "templates"
    app.mkdir(parents=True)
    (app / "page.html").write_text(
        '{% load i18n %}<h1>{% translate "Audit log" %}</h1>'
        '<p>{% translate "A string nobody has translated yet" %}</p>'
        "{% blocktranslate count n=items|length %}{{ n }} widget{% plural %}"
        "{{ n }} widgets{% endblocktranslate %}",
        encoding="utf-8",
    )
    (tmp_path / "src" / "app" / "forms.py").write_text(
        "from django.utils.translation import gettext_lazy as _, pgettext_lazy\n"
        'A = _("Dashboard")\nB = pgettext_lazy("unit", "A brand new label")\n',
        encoding="utf-8",
    )
    (tmp_path / "work").mkdir()
    source = extract_messages(tmp_path / "src", tmp_path / "work")
    missing = missing_translations(source, po_entries)
    assert len(missing) == 3, missing
    assert any(
        m.startswith("app/templates/page.html:1: ") and "A string nobody has translated yet" in m
        for m in missing
    ), missing
    assert any("%(n)s widget" in m and "plural" in m for m in missing)
    assert any("A brand new label" in m and "context 'unit'" in m for m in missing)
