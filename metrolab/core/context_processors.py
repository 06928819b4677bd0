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
    group: str = ""  # a key of GROUPS; by default the group of the URL's app (APP_GROUPS)


# The menu's groups, in order: each opens as a drop-down on a desk and is a titled section of
# the menu on a phone. A group holding a single permitted entry is shown as that entry.
GROUPS: dict[str, str | Promise] = {
    "business": _("Business"),
    "work": _("Items & tasks"),
    "resources": _("Resources"),
    "quality": _("Quality"),
    "tools": _("Tools"),
    "system": _("System"),
}
APP_GROUPS = {
    "customers": "business",
    "commissions": "business",
    "items": "work",
    "tasks": "work",
    "methods": "resources",
    "equipment": "resources",
    "qualifications": "resources",
    "risk": "quality",
    "environment": "resources",
    "calculator": "tools",
    "notifications": "tools",
}


# Later apps append their modules here (in the order they appear in the menu).
MODULES: list[NavItem] = [
    NavItem("core:dashboard", _("Dashboard"), "◎", group="top"),
    NavItem("tasks:mine", _("My tasks"), "✓"),
    NavItem("items:scan", _("Scan"), "⊞"),
    NavItem("items:list", _("Items"), "▤"),
    NavItem("items:receive", _("Receive items"), "⇩"),
    NavItem("items:storage", _("Storage"), "▦"),
    NavItem("tasks:assign", _("Assign tasks"), "⇉"),
    NavItem("calculator:uncertainty", _("Uncertainty calculator"), "±"),
    NavItem("core:audit_log", _("Audit log"), "☰", group="quality"),
    NavItem("core:organisation", _("Organisation"), "⌂", group="system"),
    NavItem("core:api_tokens", _("API tokens"), "◆", group="system"),
]


def register_modules(*items: NavItem) -> None:
    """Add an app's menu entries (from its AppConfig.ready), once each."""
    present = {item.url_name for item in MODULES}
    for item in items:
        if item.url_name not in present:
            MODULES.append(item)
            present.add(item.url_name)


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
                    "group": item.group or APP_GROUPS.get(item.url_name.split(":")[0], "tools"),
                }
            )
    items.append(
        {
            "url": reverse("api-1:openapi-view"),
            "label": _("API"),
            "icon": "⟨⟩",
            "active": False,
            "group": "system",
        }
    )
    if user.is_staff:
        items.append(
            {
                "url": reverse("admin:index"),
                "label": _("Back office"),
                "icon": "⚙",
                "active": False,
                "group": "system",
            }
        )
    return {
        "nav_items": items,
        "nav_groups": _grouped(items),
        "lab_name": organisation_get().name or "MetroLab",
        "show_admin": user.is_staff,
    }


def _grouped(items: list[dict]) -> list[dict]:
    """The permitted entries by group, in GROUPS order ("top" entries first, on their own)."""
    groups = [
        {"key": "top", "label": "", "items": [i for i in items if i["group"] == "top"]},
        *(
            {"key": key, "label": label, "items": [i for i in items if i["group"] == key]}
            for key, label in GROUPS.items()
        ),
    ]
    result = []
    for group in groups:
        if not group["items"]:
            continue
        group["active"] = any(i["active"] for i in group["items"])
        group["single"] = group["key"] == "top" or len(group["items"]) == 1
        result.append(group)
    return result
