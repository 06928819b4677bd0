"""Template filters of the equipment pages."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def plain(value):
    """A stored decimal without its trailing zeros and never in exponent form:
    Decimal("10.000000000") → "10", Decimal("0.002500000") → "0.0025"."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Decimal):
        try:
            value = Decimal(str(value))
        except ArithmeticError:
            return value
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text
