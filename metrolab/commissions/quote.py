"""Commission lines checked and priced from the price list (收费标准): the quote a customer
sees before the commission is accepted (R6.1a).

`lines_checked` turns what a form or the API sent into clean line values, refusing the whole
request with a clear message on the first bad line (unknown service, quantity below 1, ...).
`quote` prices them: the active price-list entry for the same service whose instrument
category matches the line's instrument name (exactly, ignoring case), preferring the
discipline of the appointment. A line with no matching entry is quoted at 0 and marked
"price to be confirmed"; the lab sets its price at contract review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.commissions.choices import Service
from metrolab.commissions.models import CommissionLine, Discipline, PriceListEntry
from metrolab.core.service import ServiceError
from metrolab.core.text import too_long_message

# Text of a line, each refused beyond its model field's max_length (metrolab.core.text).
TEXT_FIELDS = (
    "instrument_name",
    "model_range",
    "accuracy_class",
    "serial_no",
    "manufacturer",
    "requested_method",
    "requirements",
)
# Instruments on one commission line: far above any real order, far below integer overflow.
MAX_LINE_QUANTITY = 100_000
LINE_FIELDS = frozenset({*TEXT_FIELDS, "quantity", "service", "promised_date", "price_entry"})


@dataclass
class QuotedLine:
    values: dict[str, Any]
    price_entry: PriceListEntry | None
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.values["quantity"]

    @property
    def priced(self) -> bool:
        return self.price_entry is not None


@dataclass
class Quote:
    lines: list[QuotedLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def complete(self) -> bool:
        """Every line has a price from the price list."""
        return all(line.priced for line in self.lines)


def _line_error(n: int, message: str, field_name: str) -> ServiceError:
    return ServiceError(
        _("Line %(n)s: %(message)s") % {"n": n, "message": message},
        field=f"lines.{n - 1}.{field_name}",
    )


def _quantity(n: int, value: Any) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise _line_error(n, _("the quantity must be a whole number."), "quantity")
    if value < 1:
        raise _line_error(n, _("the quantity must be at least 1."), "quantity")
    if value > MAX_LINE_QUANTITY:
        raise _line_error(
            n,
            _("the quantity must be at most %(max)s.") % {"max": MAX_LINE_QUANTITY},
            "quantity",
        )
    return value


def _date(n: int, value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise _line_error(n, _("the date is not valid."), "promised_date") from None
    if not isinstance(value, dt.date):
        raise _line_error(n, _("the date is not valid."), "promised_date")
    if value < timezone.localdate():
        raise _line_error(n, _("the promised date is in the past."), "promised_date")
    return value


def price_entry_checked(value: Any, service: str) -> PriceListEntry:
    """The active price-list entry `value` (pk or entry) for `service`, or a ServiceError."""
    pk = value.pk if isinstance(value, PriceListEntry) else value
    entry = PriceListEntry.objects.filter(pk=pk, active=True).first() if str(pk).isdigit() else None
    if entry is None:
        raise ServiceError(_("no such price-list entry."), field="price_entry")
    if entry.service != service:
        raise ServiceError(_("the price-list entry is for another service."), field="price_entry")
    return entry


def _price_entry(n: int, value: Any, service: str) -> PriceListEntry | None:
    if value in (None, ""):
        return None
    try:
        return price_entry_checked(value, service)
    except ServiceError as exc:
        raise _line_error(n, exc.message, "price_entry") from None


def lines_checked(lines: Any) -> list[dict[str, Any]]:
    """Clean line values, or a ServiceError naming the first bad line (nothing is written)."""
    if not isinstance(lines, list | tuple) or not lines:
        raise ServiceError(_("A commission needs at least one line."), field="lines")
    checked = []
    for n, raw in enumerate(lines, start=1):
        if not isinstance(raw, dict):
            raise ServiceError(_("Line %(n)s is not valid.") % {"n": n}, field=f"lines.{n - 1}")
        unknown = set(raw) - LINE_FIELDS
        if unknown:
            raise _line_error(
                n, _("unknown field: %s") % ", ".join(sorted(unknown)), sorted(unknown)[0]
            )
        values: dict[str, Any] = {}
        for name in TEXT_FIELDS:
            text = raw.get(name) or ""
            if not isinstance(text, str):
                raise _line_error(n, _("this must be text."), name)
            text = text.strip()
            field = CommissionLine._meta.get_field(name)
            if len(text) > field.max_length:
                message = too_long_message(field.verbose_name, field.max_length, len(text))
                raise _line_error(n, message, name)
            values[name] = text
        if not values["instrument_name"]:
            raise _line_error(n, _("name the instrument."), "instrument_name")
        service = raw.get("service")
        if service not in Service.values:
            raise _line_error(
                n,
                _("unknown service “%(service)s”; choose one of: %(choices)s.")
                % {"service": service or "", "choices": ", ".join(Service.values)},
                "service",
            )
        values["service"] = service
        values["quantity"] = _quantity(n, raw.get("quantity", 1))
        values["promised_date"] = _date(n, raw.get("promised_date"))
        values["price_entry"] = _price_entry(n, raw.get("price_entry"), service)
        checked.append(values)
    return checked


def price_match(
    instrument_name: str, service: str, discipline: Discipline | None = None
) -> PriceListEntry | None:
    """The active price-list entry for this instrument and service (see the module docstring)."""
    entries = PriceListEntry.objects.filter(
        active=True, service=service, instrument__iexact=instrument_name.strip()
    ).order_by("discipline__code", "pk")
    if discipline is not None:
        preferred = entries.filter(discipline=discipline).first()
        if preferred is not None:
            return preferred
    return entries.first()


def quote(lines: list[dict[str, Any]], discipline: Discipline | None = None) -> Quote:
    """Price checked lines (from `lines_checked`)."""
    result = Quote()
    for values in lines:
        entry = values.get("price_entry") or price_match(
            values["instrument_name"], values["service"], discipline
        )
        unit_price = entry.unit_price if entry is not None else Decimal("0.00")
        result.lines.append(QuotedLine(values=values, price_entry=entry, unit_price=unit_price))
    return result
