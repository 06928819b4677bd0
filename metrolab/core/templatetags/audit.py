"""Presentation of audit events on the audit page."""

import re

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from metrolab.core import audit_names

register = template.Library()

ACTOR_TYPES = {
    "user": _("user"),
    "token": _("API token"),
    "system": _("system"),
    "anonymous": _("anonymous"),
}


@register.filter
def actor_type(code: str) -> str:
    return ACTOR_TYPES.get(code, code)


class Structured(str):
    """A recorded value that is a structure (a JSON object such as a sensor's configuration):
    shown as code, its keys being identifiers rather than words."""

    is_code = True


class Code(str):
    """A recorded value that is an identifier (lowercase ASCII without spaces: a role, a
    source, a result code such as "pass"), not a word of the interface: shown as code."""

    is_code = True


_IDENTIFIER = re.compile(r"[a-z][a-z0-9_.+-]*")


def _text(value) -> str:
    if isinstance(value, Code):
        return value
    if isinstance(value, dict) or (
        isinstance(value, list) and any(isinstance(v, dict) for v in value)
    ):
        return Structured(_plain(value))
    return _plain(value)


def _plain(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return str(value)


@register.filter
def action_name(code: str) -> str:
    return audit_names.action_name(code)


@register.filter
def object_type_name(code: str) -> str:
    return audit_names.object_type_name(code)


def _field(object_type: str, name: str):
    """The model field a recorded change names, or None."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return None
    for candidate in (name, name.removesuffix("_id")):
        try:
            return model._meta.get_field(candidate)
        except FieldDoesNotExist:
            continue
    return None


def _label(field, name: str) -> str:
    """A recorded field's verbose name (`status` → 状态); the name when the model has none."""
    return str(getattr(field, "verbose_name", name)) if field is not None else name


def _shown(field, value):
    """A recorded value as the page shows it: a choice by its label, a yes/no in words."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    choices = dict(getattr(field, "flatchoices", None) or ())
    if isinstance(value, list):
        return [_shown(field, v) for v in value]
    if isinstance(value, str | int) and value in choices:
        return str(choices[value])
    if isinstance(value, str) and _IDENTIFIER.fullmatch(value):
        return Code(value)
    return value


@register.filter
def change_rows(event_or_changes) -> list[tuple[str, str, str]]:
    """(field, before, after) rows for an event's recorded changes, fields named as their
    models label them."""
    changes = getattr(event_or_changes, "changes", event_or_changes)
    object_type = getattr(event_or_changes, "object_type", "")
    rows = []
    for code, value in (changes or {}).items():
        field = _field(object_type, code) if object_type else None
        name = _label(field, code)
        if isinstance(value, dict) and set(value) == {"before", "after"}:
            rows.append(
                (name, _text(_shown(field, value["before"])), _text(_shown(field, value["after"])))
            )
        elif isinstance(value, dict) and set(value) <= {"added", "removed"}:
            rows.append(
                (
                    name,
                    _text(_shown(field, value.get("removed", []))) if "removed" in value else "",
                    _text(_shown(field, value.get("added", []))) if "added" in value else "",
                )
            )
        else:
            rows.append((name, "", _text(_shown(field, value))))
    return rows
