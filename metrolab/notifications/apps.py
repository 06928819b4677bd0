from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Notifications to applicants and staff over pluggable channels with a delivery log (R6.1c)."""

    name = "metrolab.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from metrolab.core import notices
        from metrolab.core.context_processors import NavItem, register_modules
        from metrolab.notifications.services import notify

        # The core's own messages (the audit chain alert) go out as notifications (R7.2b).
        if notify not in notices.senders:
            notices.senders.append(notify)

        # The menu shows each entry only to those its view admits (core.context_processors).
        register_modules(
            NavItem("notifications:inbox", _("Notifications"), "✉"),
            NavItem("notifications:deliveries", _("Delivery log"), "⇄"),
        )
