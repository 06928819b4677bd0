from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    """Electronic original records (原始记录): templates as data, records made from started
    tasks, automatic calculation, check and approval with signatures, the change trail
    (R6.2, R4.4, R6.12a)."""

    name = "metrolab.records"
    label = "records"
    verbose_name = _("Original records")

    def ready(self):
        from metrolab.core.context_processors import NavItem, register_modules
        from metrolab.core.demo import register_demo
        from metrolab.core.guards import register_guards
        from metrolab.records import demo, guards, template_demo
        from metrolab.records.selectors import records_using
        from metrolab.risk.trace import trace_extenders

        # Record templates and their designer (R6.2d).
        register_modules(
            NavItem("record_templates:list", _("Record templates"), "▥", group="quality")
        )
        # The built-in templates, after the libraries (30) and before the tasks flow (40).
        register_demo(template_demo.demo_load_builtin_templates, order=35)
        # The test-only flush lifts the records' database guards with the audit log's.
        register_guards("records", install=guards.install_guards, remove=guards.remove_guards)
        # Reverse traceability finds the records made with a piece of equipment (R4.5).
        if records_using not in trace_extenders:
            trace_extenders.append(records_using)
        # The demo's original records in every state, after the tasks flow (40) and the
        # monitored rooms (50).
        register_demo(demo.demo_seed_records, order=60)
        # The records' queues in the menu, with the tasks (group "items & tasks").
        register_modules(NavItem("records:list", _("Original records"), "✎", group="work"))
