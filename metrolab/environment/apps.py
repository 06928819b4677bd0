from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnvironmentConfig(AppConfig):
    """Environment monitoring and regulation: rooms, requirements, sensors, readings (R6.11)."""

    name = "metrolab.environment"
    label = "environment"
    verbose_name = _("Environment")
