"""Navigation: the modules that exist, shown only to those who may open them."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import resolve, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from metrolab.core.access import view_access
from metrolab.core.services import organisation_get


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    icon: str  # a short glyph shown beside the label on small screens


# Later apps append their modules here (in the order they appear in the menu).
MODULES: list[NavItem] = [
    NavItem("core:dashboard", _("Dashboard"), "◎"),
    NavItem("tasks:mine", _("My tasks"), "✓"),
    NavItem("items:scan", _("Scan"), "⊞"),
    NavItem("items:list", _("Items"), "▤"),
    NavItem("items:receive", _("Receive items"), "⇩"),
    NavItem("items:storage", _("Storage"), "▦"),
    NavItem("tasks:assign", _("Assign tasks"), "⇉"),
    NavItem("calculator:uncertainty", _("Uncertainty calculator"), "±"),
    NavItem("core:audit_log", _("Audit log"), "☰"),
    NavItem("core:organisation", _("Organisation"), "⌂"),
    NavItem("core:api_tokens", _("API tokens"), "◆"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "lab_name": organisation_get().name or "MetroLab"}
    current = request.resolver_match.view_name if request.resolver_match else ""
    items = []
    for item in MODULES:
        url = reverse(item.url_name)
        access = view_access(resolve(url).func)
        if access is not None and access.permits(user):
            items.append(
                {
                    "url": url,
                    "label": item.label,
                    "icon": item.icon,
                    "active": current == item.url_name,
                }
            )
    return {
        "nav_items": items,
        "lab_name": organisation_get().name or "MetroLab",
        "show_admin": user.is_staff,
    }
