from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Notifications to applicants and staff over pluggable channels with a delivery log (R6.1c)."""

    name = "metrolab.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from metrolab.core.context_processors import MODULES, NavItem

        # The menu shows each entry only to those its view admits (core.context_processors).
        present = {item.url_name for item in MODULES}
        for item in (
            NavItem("notifications:inbox", _("Notifications"), "✉"),
            NavItem("notifications:deliveries", _("Delivery log"), "⇄"),
        ):
            if item.url_name not in present:
                MODULES.append(item)
