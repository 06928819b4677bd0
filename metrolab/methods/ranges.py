"""The instrument range as written on a commission line or item ("0-1.6 MPa", "-50~150 ℃",
"3200 g" for a maximum capacity), read as numbers so that it can be checked against the range
a method states (coverage.py) and the authorised range of the scope (R6.8: work only within
the authorised range; metrolab.qualifications, metrolab.tasks)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[-~～—]\s*(-?\d+(?:\.\d+)?)\s*(\S+)\s*$")
_MAXIMUM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(\S+)\s*$")


def stated_range(text: str, unit: str) -> tuple[Decimal | None, Decimal | None]:
    """(low, high) of a range written as text when it is stated in `unit`; (None, None) when it
    cannot be read or is in another unit (then the person assigning states it)."""
    text = (text or "").strip()
    try:
        if match := _RANGE.match(text):
            low, high, found = Decimal(match[1]), Decimal(match[2]), match[3]
        elif match := _MAXIMUM.match(text):
            low, high, found = Decimal(0), Decimal(match[1]), match[2]
        else:
            return None, None
    except InvalidOperation:
        return None, None
    if not unit or found != unit or low > high:
        return None, None
    return low, high
