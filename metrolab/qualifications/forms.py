"""Forms of the qualification pages. They only collect input; the services validate and
write (R6.8a-c)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.commissions.choices import Service
from metrolab.commissions.models import Discipline
from metrolab.core.roles import LAB_STAFF, ROLES
from metrolab.core.text import NAME, SHORT_TEXT
from metrolab.equipment.models import MeasurementStandard
from metrolab.methods.models import InstrumentCategory, Method
from metrolab.qualifications import selectors
from metrolab.qualifications.models import (
    Authorisation,
    AuthorisedItem,
    PersonnelCertificate,
    StaffProfile,
    TrainingRecord,
)
from metrolab.qualifications.services import (
    CERTIFICATE_FIELDS,
    ITEM_FIELDS,
    PROFILE_FIELDS,
    TRAINING_FIELDS,
)

DOCUMENT_ACCEPT = "application/pdf,image/jpeg,image/png"


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _multi(size: int = 6) -> forms.SelectMultiple:
    return forms.SelectMultiple(attrs={"size": size})


class ItemChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class MethodChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} {obj.title}"


def _items_field(label, required=False) -> ItemChoiceField:
    return ItemChoiceField(
        label=label,
        queryset=AuthorisedItem.objects.order_by("code"),
        required=required,
        widget=_multi(),
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
    )


class AuthorisedItemForm(forms.ModelForm):
    """An item of the authorised scope (R6.8a)."""

    methods = MethodChoiceField(
        label=_("Methods"),
        queryset=Method.objects.order_by("kind", "code", "-year"),
        widget=_multi(8),
        help_text=_("At least one. Hold Ctrl (⌘ on a Mac) to choose several."),
    )

    class Meta:
        model = AuthorisedItem
        fields = [*ITEM_FIELDS, "methods"]
        widgets = {
            "valid_from": _date_input(),
            "valid_until": _date_input(),
            "range_low": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            "range_high": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            "cmc_value": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        }
        help_texts = {
            "range_text": _("As written in the scope, e.g. (0 ~ 60) MPa."),
            "unit": _("Required when a range is given, e.g. MPa, °C, V."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = InstrumentCategory.objects.order_by("code")
        self.fields["standard"].queryset = MeasurementStandard.objects.order_by("name")


class ItemFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=NAME)
    service = forms.ChoiceField(
        label=_("Service"), required=False, choices=[("", _("any")), *Service.choices]
    )
    discipline = forms.ModelChoiceField(
        label=_("Discipline"),
        queryset=Discipline.objects.order_by("code"),
        required=False,
        empty_label=_("any"),
    )
    validity = forms.ChoiceField(
        label=_("Validity"),
        required=False,
        choices=[
            ("", _("any")),
            ("valid", _("valid")),
            ("expiring", _("expiring soon")),
            ("expired", _("expired")),
            ("not_yet", _("not yet valid")),
        ],
    )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = StaffProfile
        fields = PROFILE_FIELDS
        widgets = {
            "joined": _date_input(),
            "phone": forms.TextInput(attrs={"inputmode": "tel"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class CertificateForm(forms.ModelForm):
    """A personnel certificate and the scanned document (R6.8c)."""

    items = _items_field(_("Items covered"))
    file = forms.FileField(
        label=_("Scanned certificate"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": DOCUMENT_ACCEPT}),
        help_text=_("PDF, JPEG or PNG. Leave empty to keep the file already attached."),
    )

    class Meta:
        model = PersonnelCertificate
        fields = [*CERTIFICATE_FIELDS, "items"]
        widgets = {"issue_date": _date_input(), "expiry_date": _date_input()}


class TrainingForm(forms.ModelForm):
    items = _items_field(_("Related items"))

    class Meta:
        model = TrainingRecord
        fields = [*TRAINING_FIELDS, "items"]
        widgets = {
            "date": _date_input(),
            "hours": forms.NumberInput(attrs={"step": "0.5", "min": "0", "inputmode": "decimal"}),
        }


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} ({obj.username})" if obj.display_name else obj.username


class AuthorisedItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class CertificateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        expiry = obj.expiry_date.isoformat() if obj.expiry_date else "—"
        return f"{obj.person} · {obj.get_kind_display()} {obj.number} (→ {expiry})"


class AuthorisationForm(forms.Form):
    """Authorise a person to perform, check or approve an item (R6.8c)."""

    person = PersonChoiceField(label=_("Person"), queryset=selectors.lab_staff_choices())
    item = AuthorisedItemChoiceField(
        label=_("Authorised item"), queryset=AuthorisedItem.objects.order_by("code")
    )
    capacity = forms.ChoiceField(label=_("Capacity"), choices=Authorisation.Capacity.choices)
    certificate = CertificateChoiceField(
        label=_("On the basis of"),
        queryset=PersonnelCertificate.objects.select_related("person").order_by(
            "person__display_name", "-issue_date"
        ),
        required=False,
        empty_label=_("— no certificate —"),
        help_text=_("The authorisation also ends when this certificate expires."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=_date_input())
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=_date_input())

    def __init__(self, *args, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["valid_from"].initial = timezone.localdate()
        if person is not None:
            # The person's own certificates only; others would be refused anyway.
            self.fields["certificate"].queryset = self.fields["certificate"].queryset.filter(
                person=person
            )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=SHORT_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the authorisation is withdrawn; it is kept in the audit log."),
    )


class PeopleFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=NAME)
    role = forms.ChoiceField(
        label=_("Role"),
        required=False,
        choices=[("", _("any")), *[(code, ROLES[code].label) for code in LAB_STAFF]],
    )
