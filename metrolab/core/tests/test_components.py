"""Server-owned UI components (issue 13 §3): one `{% badge %}` whose label and colour come from
the choice it shows (tones registered next to each choices class), one home for the shared
CSS components (core/app.css), app stylesheets loaded in <head>, and no status literals where
an enum exists (templates, views, selectors)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from metrolab.commissions.choices import CommissionStatus
from metrolab.core.components import TONES, register_tones, registered, tone_of
from metrolab.equipment.models import Equipment
from metrolab.items.models import Item
from metrolab.methods.models import Method

ROOT = Path(__file__).resolve().parents[2]  # metrolab/
TEMPLATES = sorted(ROOT.glob("*/templates/**/*.html"))
APP_CSS = sorted(p for p in ROOT.glob("*/static/*/*.css") if p.parent.name != "core")


def _name(path: Path) -> str:
    return "/".join(path.parts[path.parts.index("templates") + 1 :])


def _render(source: str, **context) -> str:
    return Template("{% load components %}" + source).render(Context(context))


# --- the badge ----


def test_badge_shows_the_label_and_the_registered_tone_of_a_model_field():
    scrapped = Equipment(pk=7, status=Equipment.Status.SCRAPPED)
    limited = Equipment(pk=8, status=Equipment.Status.LIMITED)
    with translation.override("zh-hans"):
        html = _render('{% badge e "status" %}', e=scrapped)
        assert html == (
            f'<span class="badge red" data-status="scrapped">'
            f"{Equipment.Status.SCRAPPED.label}</span>"
        )
        assert "报废" in html
        html = _render('{% badge e "status" class="status-label" testid="s" %}', e=limited)
    assert html.startswith('<span class="badge status-label yellow" data-status="limited"')
    assert 'data-testid="s"' in html and "准用" in html


def test_badge_of_a_choices_member_and_a_neutral_tone():
    with translation.override("zh-hans"):
        html = _render('{% badge s name="status" %}', s=Method.Status.NOT_YET_EFFECTIVE)
        assert html == (
            '<span class="badge yellow" data-status="not_yet_effective">'
            f"{Method.Status.NOT_YET_EFFECTIVE.label}</span>"
        )
        plain = _render("{% badge s %}", s=CommissionStatus.APPLIED)
    assert plain.startswith('<span class="badge" data-value="applied">')


def test_item_states_keep_their_colours():
    tones = {state: tone_of(state) for state in Item.State}
    assert tones == {
        Item.State.RECEIVED: "blue",
        Item.State.MOVED: "green",
        Item.State.IN_TESTING: "yellow",
        Item.State.AWAITING_RETURN: "purple",
        Item.State.RETURNED: "grey",
        Item.State.DISPOSED: "grey",
    }


def test_every_registered_choice_has_a_known_tone():
    tones = registered()
    assert {Equipment.Status, Method.Status, Item.State, CommissionStatus} <= set(tones)
    for choices, by_value in tones.items():
        assert set(by_value) == set(choices.values), choices
        assert set(by_value.values()) <= set(TONES), choices


def test_a_choices_class_without_a_tone_for_every_member_is_refused():
    with pytest.raises(ValueError, match="no tone"):
        register_tones(Method.Status, {Method.Status.CURRENT: "green"})
    with pytest.raises(ValueError, match="unknown tones"):
        register_tones(Method.Status, dict.fromkeys(Method.Status, "pink"))


def test_a_value_outside_registered_choices_is_not_shown_as_a_badge():
    with pytest.raises(LookupError):
        _render("{% badge v %}", v="scrapped")


# Colour switches in a badge's class attribute, and status literals, in templates.
COLOUR_SWITCH = re.compile(
    r'class="badge[^"]*\{%\s*(el)?if [^%]*\.(status|state|review|kind|source)\b'
)
STATUS_LITERAL = re.compile(r"\{%\s*(el)?if [^%]*\.(status|review)\s*(==|!=)\s*['\"]")


def test_no_template_picks_the_colour_of_a_choice():
    found = [
        f"{_name(p)}: {m.group(0)}"
        for p in TEMPLATES
        for m in COLOUR_SWITCH.finditer(p.read_text())
    ]
    assert not found, "use {% badge %}:\n" + "\n".join(found)


def test_no_template_compares_a_status_with_a_literal():
    found = [
        f"{_name(p)}: {m.group(0)}"
        for p in TEMPLATES
        for m in STATUS_LITERAL.finditer(p.read_text())
    ]
    assert not found, "compare with the choices member (obj.Status.X):\n" + "\n".join(found)


def test_template_enum_comparison_renders_like_the_literal_did():
    """`{% if obj.status == obj.Status.X %}`: the nested choices class resolves in templates."""
    html = Template("{% if e.status == e.Status.SCRAPPED %}gone{% else %}here{% endif %}").render(
        Context({"e": Equipment(status=Equipment.Status.SCRAPPED)})
    )
    assert html == "gone"


# --- status literals in views and selectors ----

LITERAL_ATTRS = {"status", "state", "review"}


def _status_literals(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        if not any(isinstance(s, ast.Attribute) and s.attr in LITERAL_ATTRS for s in sides):
            continue
        values = []
        for side in sides:
            values += side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
        if any(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_literal_check_finds_a_status_compared_with_a_string():
    assert _status_literals('if e.status == "scrapped": pass')
    assert _status_literals('ok = e.state in ("returned", "disposed")')
    assert not _status_literals("if e.status == Equipment.Status.SCRAPPED: pass")
    assert not _status_literals('if kind == "x": pass')


def test_no_view_or_selector_compares_a_status_with_a_string_literal():
    modules = [
        p
        for p in ROOT.rglob("*.py")
        if p.name in ("views.py", "selectors.py") or p.parent.name in ("views", "selectors")
    ]
    assert len(modules) > 10
    found = [
        f"{p.relative_to(ROOT)}:{hit}" for p in modules for hit in _status_literals(p.read_text())
    ]
    assert not found, "compare with the choices member:\n" + "\n".join(found)


# --- stylesheets ----

SHARED = (
    ".badge",
    "a.button",
    ".section-head",
    "ul.plain",
    "form.inline",
    ".actions.wrap",
    ".row-between",
    ".num",
    ".nowrap",
    ".hidden",
    ".sr-only",
)


def _selectors(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out = []
    for prelude in re.findall(r"([^{}]+)\{", css):
        if prelude.strip().startswith("@"):
            continue
        out += [s.strip() for s in prelude.split(",") if s.strip()]
    return out


def _redefines(selector: str) -> str | None:
    """The shared component a selector redefines: it starts with that component (or a variant
    of it) and styles the component or its plain elements (`.section-head h2`). Placing a
    component (`.disciplines .badge`) or another one inside it (`.section-head .button`) is
    page layout, and fine."""
    compounds = [c for c in re.split(r"\s+|>|\+|~", selector.strip()) if c]
    first, subject = compounds[0], compounds[-1]
    if len(compounds) > 1 and not re.fullmatch(r"[a-z0-9]+(:[\w-]+(\(.*\))?)*", subject):
        return None
    for shared in SHARED:
        if first == shared or (first.startswith(shared) and first[len(shared)] in ".:[#"):
            return shared
    return None


def test_shared_components_are_defined_in_core_app_css():
    core = _selectors((ROOT / "core/static/core/app.css").read_text())
    for shared in SHARED:
        assert shared in core, shared
    for tone in set(TONES) - {"neutral"}:
        assert f".badge.{tone}" in core, tone


def test_no_app_stylesheet_redefines_a_shared_component():
    assert len(APP_CSS) >= 7
    found = [
        f"{p.relative_to(ROOT)}: {s}"
        for p in APP_CSS
        for s in _selectors(p.read_text())
        if _redefines(s)
    ]
    assert not found, "defined once in core/static/core/app.css:\n" + "\n".join(found)
    assert _redefines(".badge.grey") and _redefines(".section-head h2")
    assert _redefines("ul.plain li:last-child")
    assert not _redefines(".disciplines .badge") and not _redefines(".numbers")
    assert not _redefines(".section-head .button")


STYLES_BLOCK = re.compile(r"\{% block styles %\}(.*?)\{% endblock %\}", re.S)
STYLESHEET = re.compile(r'rel="stylesheet"|\{% include "\w+/_assets\.html"')


def test_app_stylesheets_are_loaded_in_the_styles_block_of_the_head():
    base = (ROOT / "core/templates/core/base.html").read_text()
    head = base[base.index("<head>") : base.index("</head>")]
    assert "{% block styles %}{% endblock %}" in head
    assert "{% block styles" not in base.replace(head, "")
    users = 0
    outside = []
    for path in TEMPLATES:
        name = _name(path)
        if name == "core/base.html" or path.name == "_assets.html":
            continue
        text = path.read_text()
        blocks = "".join(STYLES_BLOCK.findall(text))
        users += bool(STYLESHEET.search(blocks))
        outside += [
            f"{name}: {m.group(0)}" for m in STYLESHEET.finditer(STYLES_BLOCK.sub("", text))
        ]
    assert not outside, "load app stylesheets in {% block styles %}:\n" + "\n".join(outside)
    assert users > 30


PAGES = [
    ("equipment:list", "metrologist", "equipment/equipment.css"),
    ("methods:list", "checker", "methods/methods.css"),
    ("items:list", "receptionist", "items/items.css"),
    ("risk:radar", "quality_manager", "risk/risk.css"),
    ("environment:alarms", "metrologist", "environment/environment.css"),
    ("commissions:create", "receptionist", "commissions/commissions.css"),
    ("tasks:mine", "metrologist", "items/items.css"),
]


@pytest.mark.parametrize(("url", "who", "sheet"), PAGES)
def test_rendered_pages_link_their_stylesheet_in_the_head_only(cast, client, url, who, sheet):
    from metrolab.customers.services import customer_create

    customer = customer_create(
        data={"code": "C001", "name": "示范客户"}, actor=cast["receptionist"]
    )
    query = f"?customer={customer.pk}" if url == "commissions:create" else ""
    client.force_login(cast[who], backend="metrolab.core.auth.ThrottledModelBackend")
    response = client.get(reverse(url) + query, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-CN">' in html
    head, body = html.split("</head>", 1)
    assert f'href="/static/{sheet}"' in head
    assert 'rel="stylesheet"' not in body
