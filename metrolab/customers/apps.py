from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    """Customer organisations, contacts, portal accounts and instrument register (R9.1)."""

    name = "metrolab.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from metrolab.core.context_processors import NavItem, register_modules

        # The menu shows each entry only to those its view admits (core.context_processors).
        register_modules(
            NavItem("customers:list", _("Customers"), "☷"),
            NavItem("customers:mine", _("My organisation"), "☷"),
            NavItem("customers:due", _("Due for recalibration"), "◷"),
        )
