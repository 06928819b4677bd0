from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ItemsConfig(AppConfig):
    """Items under test (样品): numbering, labels, RFID tags, photos, custody and storage (R6.6)."""

    name = "metrolab.items"
    label = "items"
    verbose_name = _("Items")

    def ready(self):
        from metrolab.commissions import status
        from metrolab.core import request_limits
        from metrolab.items import files, selectors

        # A commission's status asks its items how far they are (R6.1b).
        if selectors.commission_status_limit not in status.status_limits:
            status.status_limits.append(selectors.commission_status_limit)
        # An upload request may carry the largest file an item takes (R7.2a).
        if files.largest_upload_bytes not in request_limits.upload_limits:
            request_limits.upload_limits.append(files.largest_upload_bytes)
