"""Forms of the notification pages (R6.1c)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from metrolab.notifications.models import Delivery


class DeliveryFilterForm(forms.Form):
    """Filters of the delivery log."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("any")), *Delivery.Status.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("any")), *Delivery.Channel.choices]
    )
