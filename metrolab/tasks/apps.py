from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    """Tasks: one item x service, assigned to a qualified person (R6.1, R6.4e)."""

    name = "metrolab.tasks"
    label = "tasks"
    verbose_name = _("Tasks")

    def ready(self):
        from metrolab.commissions import status
        from metrolab.core.demo import register_demo
        from metrolab.items import services as item_services
        from metrolab.methods import selectors as method_selectors
        from metrolab.qualifications.eligibility import assignment_check
        from metrolab.tasks import demo, selectors, services

        # The one eligibility service gates task assignment and start (R6.7d, R6.4e).
        if assignment_check not in services.assignment_checks:
            services.assignment_checks.append(assignment_check)
        # A received item gets its task, one per item x service (R6.1).
        if services.tasks_create_for_item not in item_services.receipt_listeners:
            item_services.receipt_listeners.append(services.tasks_create_for_item)
        # A commission's status asks its tasks how far they are (R6.1b).
        if selectors.commission_status_limit not in status.status_limits:
            status.status_limits.append(selectors.commission_status_limit)
        # Custody follows the work: an item with open tasks leaves only with a reason.
        if selectors.item_open_tasks not in item_services.open_work_checks:
            item_services.open_work_checks.append(selectors.item_open_tasks)
        # "My methods" include those of the person's open tasks (R6.7b).
        if selectors.open_task_methods not in method_selectors.method_sources:
            method_selectors.method_sources.append(selectors.open_task_methods)
        # The demo's items and tasks, after the libraries they are assigned under.
        register_demo(demo.demo_seed_flow, order=40)
