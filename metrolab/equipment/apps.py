from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EquipmentConfig(AppConfig):
    """Equipment, its calibrations and intermediate checks, measurement standards (R6.5)."""

    name = "metrolab.equipment"
    label = "equipment"
    verbose_name = _("Equipment")

    def ready(self):
        from metrolab.core.context_processors import NavItem, register_modules

        register_modules(
            NavItem("equipment:list", _("Equipment"), "⊡"),
            NavItem("equipment:calendar", _("Equipment bookings"), "▥"),
            NavItem("equipment:standards", _("Measurement standards"), "⚖"),
        )
