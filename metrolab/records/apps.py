from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    """Electronic original records (原始记录): templates as data, records made from started
    tasks, automatic calculation, check and approval with signatures, the change trail
    (R6.2, R4.4, R6.12a)."""

    name = "metrolab.records"
    label = "records"
    verbose_name = _("Original records")
