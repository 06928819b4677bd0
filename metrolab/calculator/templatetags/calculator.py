from django import template

register = template.Library()


@register.filter
def sig(value, digits=4):
    """A number with `digits` significant digits, for tables (not for reported results, which
    are rounded by the metrology library)."""
    if value is None:
        return ""
    try:
        return f"{float(value):.{int(digits)}g}"
    except (TypeError, ValueError):
        return value
