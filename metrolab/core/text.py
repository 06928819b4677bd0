"""How long text may be: one limit per kind of text, for the models, the forms and the API
(R7.2 robustness).

Every CharField / TextField that a person or a client system writes takes its `max_length`
from the constants below; ModelForms inherit it, hand-written form fields name the same
constant, and the API input schemas use the annotated types at the end of this module, so
that a page, the API and a service refuse the same text at the same length. Text that is too
long is refused with a message naming the field and the limit: it is never cut (the form
renderer keeps browsers from cutting pasted text, `core.forms.FormRenderer`), and never copied
into the append-only audit log, which records every saved value and every service's reason.

A TextField's `max_length` is not a database constraint; `AuditedModel.save()` enforces it,
with every other text limit, for every write (`refuse_too_long`), and the `@service`
decorator bounds the reason of a change (`REASON`).

Limits were chosen so that no existing field became shorter (a stored value never turns
invalid): a kind's limit is the longest limit its fields had.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from pydantic import StringConstraints

# --- the kinds of text ----------------------------------------------------------------------

#: An identifier the lab or its devices assign and people type or scan: customer, room,
#: sensor, discipline, category and storage-location codes, asset and employee numbers,
#: regulation codes (JJG 52), RFID tag UIDs, and choice values sent by API clients.
CODE = 64
#: A number issued by someone else and copied from their paper: serial numbers, certificate
#: numbers, authorisation and accreditation numbers.
REFERENCE = 100
#: A name or a short phrase on one line: people, organisations, instruments, rooms,
#: instrument categories, calibrating bodies; models, ranges, accuracy classes, measurands,
#: manufacturers, topics of training; a sensor's or an actuator's protocol address.
NAME = 200
#: One line of text: titles, postal addresses, captions, short notes on an event, and the
#: one-line reasons asked for by a field of their own (cancellation, revocation, command).
SHORT_TEXT = 300
#: Free text of several lines: remarks, special requirements (特殊要求), descriptions,
#: justifications, conditions of a contract review, comments on an alarm.
NOTE = 5000
#: The reason for a change that every service takes (`reason=`) and the audit log keeps in
#: each of its events. Pages pass notes as reasons, hence the same limit as NOTE.
REASON = NOTE
#: A short report written into one field: the conclusion of an impact review (risk), which
#: lists the certificates and items concerned and what was decided for each.
DOCUMENT_TEXT = 10_000
#: A unit symbol: °C, %RH, MPa, mm²/s.
UNIT = 20
#: A telephone number, with its country code, extension and separators.
PHONE = 40

LIMITS = {
    "CODE": CODE,
    "REFERENCE": REFERENCE,
    "NAME": NAME,
    "SHORT_TEXT": SHORT_TEXT,
    "NOTE": NOTE,
    "DOCUMENT_TEXT": DOCUMENT_TEXT,
    "UNIT": UNIT,
    "PHONE": PHONE,
}


# --- refusing text that is too long ---------------------------------------------------------


def too_long_message(label: Any, limit: int, length: int) -> str:
    """ "Special requirements: at most 5000 characters (10000 given)." in the user's language."""
    return _("%(field)s: at most %(limit)s characters (%(length)s given).") % {
        "field": capfirst(label),
        "limit": limit,
        "length": length,
    }


def text_checked(value: str, *, limit: int, field: str, label: Any = None) -> str:
    """`value` when it has at most `limit` characters, else a ServiceError naming the field."""
    from metrolab.core.errors import CoreRefusal
    from metrolab.core.service import ServiceError

    if len(value) > limit:
        raise ServiceError(
            too_long_message(label or field, limit, len(value)),
            code=CoreRefusal.TOO_LONG,
            field=field,
        )
    return value


def field_checked(model: type[models.Model], name: str, value: str, *, field: str = "") -> str:
    """`value` when it fits the model field `name`, else a ServiceError naming the field (as
    `field` when the form or the API calls it otherwise)."""
    model_field = model._meta.get_field(name)
    return text_checked(
        value, limit=model_field.max_length, field=field or name, label=model_field.verbose_name
    )


def refuse_too_long(
    instance: models.Model,
    *,
    unchanged: dict[str, Any] | None = None,
    only: set[str] | None = None,
) -> None:
    """Refuse (ServiceError naming the field and its limit) a text field of `instance` longer
    than its max_length. Values equal to those in `unchanged` (attribute name → value as
    loaded) and fields outside `only` (attribute names) are not written and not checked: a
    value stored before its field had a limit does not block unrelated changes."""
    deferred = instance.get_deferred_fields()
    unchanged = unchanged or {}
    for field in instance._meta.concrete_fields:
        if not isinstance(field, models.CharField | models.TextField) or not field.max_length:
            continue
        if field.attname in deferred or (only is not None and field.attname not in only):
            continue
        value = getattr(instance, field.attname)
        if field.attname in unchanged and unchanged[field.attname] == value:
            continue
        if isinstance(value, str) and len(value) > field.max_length:
            text_checked(value, limit=field.max_length, field=field.name, label=field.verbose_name)


def excerpt(value: str, limit: int) -> str:
    """The start of `value`, marked "…" when shortened, within `limit` characters.

    Only for a summary the platform composes from text it keeps in full elsewhere (the
    status history quoting a calibration's confirmation note); never for what a person typed
    into the field itself, which is refused instead."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- the same kinds for the API input schemas -----------------------------------------------

Code = Annotated[str, StringConstraints(max_length=CODE)]
Reference = Annotated[str, StringConstraints(max_length=REFERENCE)]
Name = Annotated[str, StringConstraints(max_length=NAME)]
ShortText = Annotated[str, StringConstraints(max_length=SHORT_TEXT)]
Note = Annotated[str, StringConstraints(max_length=NOTE)]
Reason = Annotated[str, StringConstraints(max_length=REASON)]
DocumentText = Annotated[str, StringConstraints(max_length=DOCUMENT_TEXT)]
Unit = Annotated[str, StringConstraints(max_length=UNIT)]
Phone = Annotated[str, StringConstraints(max_length=PHONE)]
