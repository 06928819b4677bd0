"""Forms of the customer pages. They only collect input; the services validate and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from metrolab.core.text import NAME
from metrolab.customers.models import Contact, Customer, Instrument
from metrolab.customers.services import CONTACT_FIELDS, CUSTOMER_FIELDS, INSTRUMENT_FIELDS


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = CUSTOMER_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = CONTACT_FIELDS
        widgets = {"phone": forms.TextInput(attrs={"inputmode": "tel"})}


class PortalAccountForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Tell it to the contact; they can sign in and use the portal at once."),
    )


class InstrumentForm(forms.ModelForm):
    class Meta:
        model = Instrument
        fields = INSTRUMENT_FIELDS
        widgets = {
            "last_service_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "next_due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=NAME)
