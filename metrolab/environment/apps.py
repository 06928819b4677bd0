from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnvironmentConfig(AppConfig):
    """Environment monitoring and regulation: rooms, requirements, sensors, readings (R6.11)."""

    name = "metrolab.environment"
    label = "environment"
    verbose_name = _("Environment")

    def ready(self):
        from metrolab.core.context_processors import NavItem, register_modules
        from metrolab.core.demo import register_demo
        from metrolab.environment import alarms, control, demo
        from metrolab.environment.ingest import ingest_listeners

        # Every stored batch, whichever channel brought it, is judged by the alarms first,
        # then by the automatic control rules.
        for listener in (alarms.on_readings, control.on_readings):
            if listener not in ingest_listeners:
                ingest_listeners.append(listener)
        # The demo's monitored rooms with a day of history, last; their simulated sensors keep
        # reporting and the alarms are watched beside the demo server.
        register_demo(demo.demo_seed_environment, order=50, children=demo.demo_children)

        register_modules(
            NavItem("environment:rooms", _("Environment"), "☀"),
            NavItem("environment:alarms", _("Environmental alarms"), "⚠"),
        )
