"""The public status query's link (R6.1b, R9.1): the absolute URL that opens the status of
one commission (its number and query code in the query string), and its QR code, for the
receipt, the notifications to the applicant and the portal.

The site's address is METROLAB_SITE_URL (e.g. https://lab.example.cn): links written where
there is no request (notifications) need it. Without it, a page uses the address the
request came in on, and a notification the first of ALLOWED_HOSTS in production
(https) or http://localhost:8000 in development.
"""

from __future__ import annotations

import segno
from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

DEVELOPMENT_SITE_URL = "http://localhost:8000"


def site_base_url() -> str:
    """The site's address without a trailing slash, for links written outside a request."""
    base = (getattr(settings, "METROLAB_SITE_URL", "") or "").strip().rstrip("/")
    if base:
        return base
    if getattr(settings, "PRODUCTION", False):
        for host in settings.ALLOWED_HOSTS:
            host = host.lstrip(".")
            if host and "*" not in host:
                return f"https://{host}"
    return DEVELOPMENT_SITE_URL


def absolute_url(path: str, request=None) -> str:
    """`path` as an absolute URL: METROLAB_SITE_URL wins, then the request's address."""
    if not getattr(settings, "METROLAB_SITE_URL", "") and request is not None:
        return request.build_absolute_uri(path)
    return site_base_url() + path


def status_path(commission) -> str:
    query = urlencode({"number": commission.number, "code": commission.query_code})
    return f"{reverse('commissions:public_status')}?{query}"


def status_url(commission, request=None) -> str:
    """The absolute link that opens this commission's public status page, already filled in."""
    return absolute_url(status_path(commission), request)


def qr_svg(url: str, scale: int = 3) -> SafeString:
    """An inline SVG QR code of `url` (segno's own markup of our URL)."""
    return mark_safe(segno.make(url, error="m").svg_inline(scale=scale))  # noqa: S308
