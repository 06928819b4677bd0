from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalculatorConfig(AppConfig):
    """The metrology calculator: the library's calculations through the CLI, the API and a page
    (R6.2a, R8b); saved uncertainty evaluations (named, per measurement standard, audited)."""

    name = "metrolab.calculator"
    label = "calculator"
    verbose_name = _("Calculator")
