from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MethodsConfig(AppConfig):
    """The methods library (技术依据库): regulations, specifications and deviations (R6.7)."""

    name = "metrolab.methods"
    label = "methods"
    verbose_name = _("Methods")

    def ready(self):
        from metrolab.commissions.panels import detail_extenders
        from metrolab.core.context_processors import NavItem, register_modules
        from metrolab.methods.selectors import commission_deviations

        # A commission's page shows its deviations from methods (R6.7c).
        if commission_deviations not in detail_extenders:
            detail_extenders.append(commission_deviations)

        register_modules(
            NavItem("methods:list", _("Methods"), "§"),
            NavItem("methods:mine", _("My methods"), "✎"),
            NavItem("methods:deviations", _("Deviations"), "≠"),
        )
