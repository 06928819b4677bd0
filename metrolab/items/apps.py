from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ItemsConfig(AppConfig):
    """Items under test (样品): numbering, labels, RFID tags, photos, custody and storage (R6.6)."""

    name = "metrolab.items"
    label = "items"
    verbose_name = _("Items")
