"""The audit log shows translated action and object names; the codes stay in the API and in a
details toggle on the page (R7.2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

from metrolab.core import audit_names

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1]
    return re.findall(r"<tr>.*?</tr>\s*(?=<tr>|</tbody>)", body, re.DOTALL)


def test_the_page_shows_translated_names_and_keeps_the_codes_in_a_toggle(cast, login):
    client = login(cast["quality_manager"])
    user = cast["quality_manager"]
    html = client.get("/audit/", {"action": "auth.login"}).content.decode()
    row = _rows(html)[0]
    assert '<span data-testid="audit-action">登录</span>' in row
    assert f'data-testid="audit-object">用户 #{user.pk}</a>' in row
    assert "<summary>代码</summary>" in row
    assert '<code data-testid="audit-action-code">auth.login</code>' in row
    assert f'<code data-testid="audit-object-code">core.user:{user.pk}</code>' in row
    # The cast's users were created by a service: its name, and the user model's fields.
    html = client.get("/audit/", {"action": "user.create"}).content.decode()
    assert '<span data-testid="audit-action">创建用户</span>' in html
    assert 'label="用户"' in html  # the object-type suggestions name the types too


def test_the_api_returns_codes_and_names(cast, login):
    client = login(cast["quality_manager"])
    user = cast["quality_manager"]
    body = client.get("/api/v1/audit/events", {"action": "auth.login"}).json()
    event = body["items"][0]
    assert event["action"] == "auth.login"
    assert event["action_name"] == "登录"
    assert event["object_type"] == "core.user"
    assert event["object_type_name"] == "用户"
    assert event["object_id"] == str(user.pk)
    assert login(cast["receptionist"]).get("/api/v1/audit/events").status_code == 403


def test_model_events_outside_services_are_named_from_the_model():
    with translation.override("zh-hans"):
        assert audit_names.action_name("customers.customer.update") == "客户：修改"
        assert audit_names.action_name("no.such.code") == "no.such.code"
        assert audit_names.object_type_name("auth.group") == "组"


def test_every_service_action_has_a_translated_name():
    codes = set()
    for path in ROOT.rglob("*.py"):
        if "tests" in path.parts:
            continue
        codes |= set(re.findall(r'@service\(\s*"([a-z_]+\.[a-z_.]+)"', path.read_text()))
    assert codes, "no services found"
    missing = sorted(code for code in codes if code not in audit_names.ACTIONS)
    assert missing == []
    with translation.override("zh-hans"):
        untranslated = sorted(
            code
            for code, name in audit_names.ACTIONS.items()
            if re.search("[A-Za-z]{3}", str(name).replace("API", ""))
        )
    assert untranslated == []
