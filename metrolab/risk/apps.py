from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    """The risk radar, daily risk alerts, reverse traceability and impact reviews (R4.5)."""

    name = "metrolab.risk"
    label = "risk"
    verbose_name = _("Risk")

    def ready(self):
        from metrolab.core.context_processors import NavItem, register_modules

        register_modules(
            NavItem("risk:radar", _("Risk radar"), "◔"),
            NavItem("risk:trace", _("Reverse traceability"), "⇆"),
        )
