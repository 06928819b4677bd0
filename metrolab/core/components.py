"""Server-owned UI components: the tone (colour) of every choice a badge shows.

A badge's label and colour both come from the choice it shows. The colour is declared once,
next to the choices class, in the app's models:

    register_tones(Equipment.Status, {
        Equipment.Status.IN_SERVICE: "green",
        Equipment.Status.LIMITED: "yellow",
        ...
    })

and templates render it with `{% load components %}{% badge equipment "status" %}` (a model
field with choices) or `{% badge method.status %}` (a choices member), never picking a colour
themselves. The tones are the badge classes of core/app.css.
"""

from __future__ import annotations

from enum import Enum

from django.db.models import Choices

# The badge tones of core/app.css; "neutral" is the plain grey-blue badge (no tone class).
TONES = ("neutral", "green", "yellow", "red", "grey", "blue", "purple")

_TONES: dict[type[Choices], dict[str, str]] = {}


def register_tones(choices: type[Choices], tones: dict) -> type[Choices]:
    """Declare the tone of every member of `choices` (all of them, each one of TONES)."""
    missing = [member for member in choices if member not in tones]
    if missing:
        raise ValueError(f"{choices.__qualname__}: no tone for {missing}")
    unknown = {tone for tone in tones.values() if tone not in TONES}
    if unknown:
        raise ValueError(f"{choices.__qualname__}: unknown tones {sorted(unknown)}")
    _TONES[choices] = {str(member.value): tones[member] for member in choices}
    return choices


def registered() -> dict[type[Choices], dict[str, str]]:
    return dict(_TONES)


def tone_of(member: Choices) -> str:
    """The tone of a choices member (a registered class's member)."""
    try:
        return _TONES[type(member)][str(member.value)]
    except KeyError:
        raise LookupError(f"no tone registered for {type(member).__qualname__}") from None


def choices_of_field(field) -> type[Choices]:
    """The registered choices class a model field's choices come from."""
    values = tuple(str(value) for value, _label in field.flatchoices)
    for choices in _TONES:
        if tuple(str(v) for v in choices.values) == values:
            return choices
    raise LookupError(f"no tones registered for the choices of {field}")


def member_of(value, field_name: str | None = None) -> Choices:
    """The choices member a badge shows: `value` itself, or the value of the model field
    `field_name` of the instance `value`."""
    if field_name is None:
        if isinstance(value, Enum) and type(value) in _TONES:
            return value
        raise LookupError(f"{value!r} is not a member of registered choices")
    field = value._meta.get_field(field_name)
    return choices_of_field(field)(getattr(value, field_name))
