from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstrumentsConfig(AppConfig):
    """Intelligent standard devices (R8, R5.2, R6.2a, R6.9d): instruments driven over VISA /
    SCPI, Modbus and serial lines by documented procedures that fill original records."""

    name = "metrolab.instruments"
    label = "instruments"
    verbose_name = _("Instruments")

    def ready(self):
        # The equipment card shows the connection, its checks and runs (R8a).
        from metrolab.instruments import panels

        panels.register()

        # Procedures: the menu entry and the demo's built-ins (R8b).
        from metrolab.instruments.procedure_registry import register_procedures

        register_procedures()
