"""Template filters of the qualification pages."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def num(value) -> str:
    """A stored decimal as people write it: 0.600000000 → 0.6, 60.000000000 → 60."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Decimal):
        return str(value)
    return format(value.normalize(), "f")
