"""Forms of the commission pages. They only collect input; the services validate and write."""

from __future__ import annotations

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from metrolab.commissions import selectors
from metrolab.commissions.choices import CommissionStatus, Service
from metrolab.commissions.models import AppointmentSlot, Commission, PriceListEntry
from metrolab.commissions.quote import MAX_LINE_QUANTITY
from metrolab.core.forms import SELECT_PLACEHOLDER
from metrolab.core.text import CODE, NAME, NOTE, REFERENCE, SHORT_TEXT
from metrolab.customers.models import Contact

DATE = {"type": "date"}


class LineForm(forms.Form):
    """One instrument (or several alike) and the service asked for."""

    instrument_name = forms.CharField(label=_("Instrument name"), max_length=NAME)
    model_range = forms.CharField(label=_("Model / range"), max_length=NAME, required=False)
    accuracy_class = forms.CharField(label=_("Accuracy class"), max_length=NAME, required=False)
    serial_no = forms.CharField(label=_("Serial no."), max_length=REFERENCE, required=False)
    manufacturer = forms.CharField(label=_("Manufacturer"), max_length=NAME, required=False)
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=MAX_LINE_QUANTITY, initial=1
    )
    # An empty first choice, so that a line added and left blank counts as unchanged.
    service = forms.ChoiceField(
        label=_("Service"), choices=[("", SELECT_PLACEHOLDER), *Service.choices]
    )
    requested_method = forms.CharField(label=_("Requested method"), max_length=NAME, required=False)
    requirements = forms.CharField(
        label=_("Special requirements"),
        required=False,
        max_length=NOTE,
        widget=forms.TextInput(),
    )


LineFormSet = forms.formset_factory(
    LineForm, extra=0, min_num=1, validate_min=True, max_num=50, validate_max=True
)


def line_values(formset) -> list[dict]:
    """The filled-in lines of a valid formset, as the service takes them."""
    return [form.cleaned_data for form in formset.forms if form.cleaned_data]


class SlotChoiceField(forms.ModelChoiceField):
    """The slots offered: ahead (not past in the lab's time zone) and with places left."""

    default_error_messages = {
        "invalid_choice": _(
            "This appointment slot is no longer open (its half-day is over or it is full); "
            "choose another one."
        ),
    }

    def label_from_instance(self, slot: AppointmentSlot) -> str:
        remaining = getattr(slot, "remaining", None)
        label = _("%(date)s %(period)s · %(discipline)s") % {
            "date": formats.date_format(slot.date, "Y-m-d (D)"),
            "period": slot.get_period_display(),
            "discipline": slot.discipline,
        }
        if remaining is not None:
            label += " · " + str(_("%(n)s places left") % {"n": remaining})
        return label


def _slot_field(required: bool, discipline=None) -> SlotChoiceField:
    available = selectors.slot_list_available(discipline=discipline)
    field = SlotChoiceField(
        label=_("Appointment"),
        queryset=AppointmentSlot.objects.filter(pk__in=[s.pk for s in available]),
        required=required,
        widget=forms.RadioSelect if required else forms.Select,
        empty_label=None if required else _("no appointment"),
    )
    # Show the slots with their remaining places, in date order.
    field.choices = [] if required else [("", _("no appointment"))]
    field.choices += [(s.pk, field.label_from_instance(s)) for s in available]
    return field


class _CommissionFields(forms.Form):
    contact = forms.ModelChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False
    )
    promised_date = forms.DateField(
        label=_("Promised delivery"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    requirements = forms.CharField(
        label=_("Special requirements"),
        required=False,
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.order_by("-is_primary", "name")


class CommissionForm(_CommissionFields):
    """At the desk or on site (R6.1a, R6.12b): the slot is optional."""

    channel = forms.ChoiceField(label=_("Channel"))

    field_order = ["channel", "contact", "slot", "promised_date", "requirements"]

    def __init__(self, *args, channels: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [
            (value, label) for value, label in Commission.Channel.choices if value in channels
        ]
        self.fields["slot"] = _slot_field(required=False)
        self.order_fields(self.field_order)


class ApplyForm(_CommissionFields):
    """Online (R9.1): the customer books an appointment slot with room left, of the discipline
    chosen above the form."""

    field_order = ["slot", "contact", "promised_date", "requirements"]

    def __init__(self, *args, discipline=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"] = _slot_field(required=True, discipline=discipline)
        self.order_fields(self.field_order)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Commission.Review.ACCEPTED, _("accept")),
            (Commission.Review.REJECTED, _("reject")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Conditions or reason"),
        required=False,
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Conditions of the acceptance, if any; the reason is required to reject."),
    )


class LinePricesForm(forms.Form):
    """The price of each line, confirmed or set at contract review (R6.1a): a price-list entry
    of the line's service (its price), or a unit price set by hand with the reason. Left
    empty, a line keeps the price-list price it was quoted at."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        entries: dict[str, list] = {}
        for entry in PriceListEntry.objects.filter(active=True).select_related("discipline"):
            entries.setdefault(entry.service, []).append(entry)
        self.rows = []
        for n, line in enumerate(self.lines, start=1):
            choices = [("", _("— set by hand —"))] + [
                (
                    e.pk,
                    f"{e.discipline} · {e.instrument}"
                    + (f" ({e.range_text})" if e.range_text else "")
                    + f" · {e.unit_price}",
                )
                for e in entries.get(line.service, [])
            ]
            self.fields[f"entry_{line.pk}"] = forms.TypedChoiceField(
                label=_("Price list"),
                choices=choices,
                coerce=int,
                empty_value=None,
                required=False,
                initial=line.price_entry_id,
            )
            self.fields[f"price_{line.pk}"] = forms.DecimalField(
                label=_("Unit price (CNY)"),
                required=False,
                min_value=0,
                max_digits=10,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
            )
            self.fields[f"reason_{line.pk}"] = forms.CharField(
                label=_("Reason for the price set by hand"), required=False, max_length=SHORT_TEXT
            )
            self.rows.append(
                {
                    "n": n,
                    "line": line,
                    "entry": self[f"entry_{line.pk}"],
                    "price": self[f"price_{line.pk}"],
                    "reason": self[f"reason_{line.pk}"],
                }
            )

    def prices(self) -> list[dict]:
        """The lines' prices as `commission_review` takes them (after is_valid)."""
        data = self.cleaned_data
        return [
            {
                "line": line.pk,
                "price_entry": data.get(f"entry_{line.pk}"),
                "unit_price": data.get(f"price_{line.pk}"),
                "reason": data.get(f"reason_{line.pk}", ""),
            }
            for line in self.lines
        ]


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the cancellation"), max_length=SHORT_TEXT)


class CommissionFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=NAME)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("any")), *CommissionStatus.choices]
    )
    review = forms.ChoiceField(
        label=_("Contract review"),
        required=False,
        choices=[("", _("any")), *Commission.Review.choices],
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(DATE))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(DATE))
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)


class PublicStatusForm(forms.Form):
    number = forms.CharField(
        label=_("Commission no."),
        max_length=CODE,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    code = forms.CharField(
        label=_("Query code"),
        max_length=CODE,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        help_text=_("Printed on your commission receipt."),
    )
