"""Forms of the item pages: receipt, photos and videos, tags, custody events, scan."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from metrolab.core.text import NAME, NOTE, REASON, REFERENCE, SHORT_TEXT
from metrolab.items.models import Item, StorageLocation

MEDIA_ACCEPT = "image/*,video/*"


class MultipleMediaInput(forms.ClearableFileInput):
    """A file input that takes several photos or videos, offering the phone's camera."""

    allow_multiple_selected = True

    def __init__(self, attrs=None):
        super().__init__({"accept": MEDIA_ACCEPT, "capture": "environment", **(attrs or {})})


class MultipleMediaField(forms.FileField):
    """Several files; each is checked by content in the service, not here."""

    widget = MultipleMediaInput

    def clean(self, data, initial=None):
        uploads = [d for d in (data if isinstance(data, list | tuple) else [data]) if d]
        if not uploads:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        return [super(MultipleMediaField, self).clean(d, initial) for d in uploads]


def _location_field(required: bool, label=None) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=label or _("Storage place"),
        queryset=StorageLocation.objects.filter(active=True).order_by("room", "shelf"),
        required=required,
        empty_label=_("— none —"),
    )


class ReceiveForm(forms.Form):
    """One item of a commission line arriving at the desk (R6.6a, R6.6c)."""

    line = forms.IntegerField(widget=forms.HiddenInput)
    serial_no = forms.CharField(label=_("Serial no."), max_length=REFERENCE, required=False)
    condition = forms.CharField(
        label=_("Condition on receipt"),
        max_length=NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Appearance, accessories, damage, seals."),
    )
    location = _location_field(required=False)
    promised_date = forms.DateField(
        label=_("Promised delivery"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    photos = MultipleMediaField(label=_("Photos or videos"), required=False)


class BatchReceiveForm(forms.Form):
    """Several identical pieces of one line arriving together (R6.6a): received in one step,
    numbered consecutively, with one label sheet."""

    line = forms.IntegerField(widget=forms.HiddenInput)
    count = forms.IntegerField(label=_("Number of items"), min_value=1)
    serial_nos = forms.CharField(
        label=_("Serial nos."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional: one per line, in the order of the items."),
    )
    condition = forms.CharField(
        label=_("Condition on receipt"),
        max_length=NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Appearance, accessories, damage, seals."),
    )
    location = _location_field(required=False)
    promised_date = forms.DateField(
        label=_("Promised delivery"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, remaining: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if remaining is not None:
            self.fields["count"].max_value = remaining
            self.fields["count"].widget.attrs["max"] = remaining

    def clean_serial_nos(self) -> list[str]:
        lines = [s.strip() for s in self.cleaned_data["serial_nos"].splitlines() if s.strip()]
        for serial in lines:
            if len(serial) > REFERENCE:
                raise forms.ValidationError(
                    _("A serial no. has at most %(max)d characters.") % {"max": REFERENCE}
                )
        return lines


class MediaForm(forms.Form):
    files = MultipleMediaField(label=_("Photos or videos"), required=True)
    caption = forms.CharField(label=_("Caption"), max_length=SHORT_TEXT, required=False)


class TagForm(forms.Form):
    uid = forms.CharField(
        label=_("Tag UID"),
        max_length=NAME,  # as read, separators included
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        help_text=_("Read the tag with a reader or a phone, or type its UID."),
    )


CUSTODY_CHOICES = [
    (Item.State.MOVED, _("Put in storage")),
    (Item.State.IN_TESTING, _("Take for testing")),
    (Item.State.AWAITING_RETURN, _("Ready for return")),
    (Item.State.RETURNED, _("Returned to the customer")),
    (Item.State.DISPOSED, _("Disposed of")),
]


class CustodyForm(forms.Form):
    """A custody event (R6.6d, R6.6f); the service says which are possible now."""

    event = forms.ChoiceField(label=_("Event"), choices=CUSTODY_CHOICES)
    location = _location_field(required=False)
    collected_by = forms.CharField(
        label=_("Collected by"),
        max_length=NAME,
        required=False,
        help_text=_("Name (and ID or phone) of who took the item back."),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=SHORT_TEXT,
        required=False,
        help_text=_("Required when disposing of an item: why."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to return or dispose of an item whose work is still open."),
    )


class ScanForm(forms.Form):
    code = forms.CharField(
        label=_("Item number or tag UID"),
        max_length=NAME,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "enterkeyhint": "search",
                "inputmode": "text",
            }
        ),
    )


class ItemFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=NAME)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("any")), *Item.State.choices]
    )
