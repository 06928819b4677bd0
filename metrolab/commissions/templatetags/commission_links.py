"""`{% load commission_links %}`: `{{ url|qr_svg }}`, an inline SVG QR code of a link (the
status link carried by the applicant's notifications, R6.1b)."""

from django import template

from metrolab.commissions import links

register = template.Library()


@register.filter
def qr_svg(url: str):
    if not url or not str(url).startswith(("http://", "https://")):
        return ""
    return links.qr_svg(str(url), scale=2)
