from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstrumentsConfig(AppConfig):
    """Intelligent standard devices (R8, R5.2, R6.2a, R6.9d): instruments driven over VISA /
    SCPI, Modbus and serial lines by documented procedures that fill original records."""

    name = "metrolab.instruments"
    label = "instruments"
    verbose_name = _("Instruments")

    def ready(self):
        from metrolab.core.context_processors import NavItem, register_modules
        from metrolab.core.demo import register_demo
        from metrolab.instruments import (
            demo,
            panels,
            selectors,  # noqa: F401 - the badges' tones
        )
        from metrolab.instruments.procedure_registry import register_procedures

        # The equipment card shows the connection, its checks and runs (R8a).
        panels.register()
        # The procedure runs in the menu, with the records (group "items & tasks").
        register_modules(NavItem("instruments:run_list", _("Procedure runs"), "▶", group="work"))
        # The demo's calibrator connected to the simulated bench (run beside the server) and a
        # DMM waiting for its automatic calibration: after the records, before the certificates.
        register_demo(demo.demo_seed_instruments, order=65, children=demo.demo_children)
        # Procedures: the menu entry and the demo's built-ins (R8b).
        register_procedures()
