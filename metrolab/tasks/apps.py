from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    """Tasks: one item x service, assigned to a qualified person (R6.1, R6.4e)."""

    name = "metrolab.tasks"
    label = "tasks"
    verbose_name = _("Tasks")
