"""Numbers on the calculator pages, written for people: plain notation, never 1.2e-05."""

from decimal import Decimal

from django import template

from metrolab.metrology import rounding

register = template.Library()


def plain_significant(value, digits=4) -> str:
    """`value` to `digits` significant digits in plain notation, trailing zeros dropped
    (0.0000196 rather than 1.96e-05, 100000 rather than 1e+05). For tables; reported results
    are rounded by the metrology library (`calculator.display`)."""
    if value is None or value == "":
        return ""
    try:
        number = rounding.round_significant(value, int(digits))
    except (rounding.RoundingError, TypeError, ValueError):
        return str(value)
    number = number.normalize()
    if number.as_tuple().exponent > 0:
        number = number.quantize(Decimal(1))
    return rounding.format_plain(number)


@register.filter
def sig(value, digits=4):
    return plain_significant(value, digits)
