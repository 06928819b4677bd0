"""Forms of the equipment pages. They only collect input; the services validate and write."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.commissions.models import Discipline
from metrolab.core.roles import LAB_STAFF
from metrolab.core.text import NAME, NOTE, REFERENCE, SHORT_TEXT
from metrolab.equipment.models import (
    LOCATION_LENGTH,
    MAX_POINTS,
    CalibrationPoint,
    Equipment,
    IntermediateCheckPlan,
    MaintenanceRecord,
    MeasurementStandard,
    normalise_tag_uid,
)

DATE = {"type": "date"}
DATETIME = {"type": "datetime-local"}
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
DOCUMENT_ACCEPT = "application/pdf,image/jpeg,image/png"


def _date_field(label, required=True, **kw) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs=DATE), **kw)


def _datetime_field(label, required=True, **kw) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=forms.DateTimeInput(attrs=DATETIME, format=DATETIME_FORMAT),
        **kw,
    )


def lab_people():
    User = get_user_model()
    return (
        User.objects.filter(is_active=True, groups__name__in=LAB_STAFF)
        .distinct()
        .order_by("display_name", "username")
    )


def _document_field(label=None) -> forms.FileField:
    return forms.FileField(
        label=label or _("Certificate (PDF or image)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": DOCUMENT_ACCEPT}),
    )


class ServiceCheckedModelForm(forms.ModelForm):
    """A model form: the model's field rules and clean() show on their fields here; the
    service checks them again with uniqueness and the constraints, in the lab's words."""

    def validate_unique(self):
        pass

    def validate_constraints(self):
        pass


# --- the register ---------------------------------------------------------------------------

CALIBRATION_FILTERS = [
    ("", _("any")),
    ("30", _("due within 30 days")),
    ("60", _("due within 60 days")),
    ("90", _("due within 90 days")),
    ("overdue", _("overdue")),
    ("none", _("no confirmed calibration")),
]


class EquipmentFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=NAME)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("all but scrapped")), *Equipment.Status.choices],
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("any")), *Equipment.Kind.choices]
    )
    discipline = forms.ModelChoiceField(
        label=_("Discipline"),
        required=False,
        queryset=Discipline.objects.order_by("code"),
        empty_label=_("any"),
    )
    calibration = forms.ChoiceField(
        label=_("Calibration"), required=False, choices=CALIBRATION_FILTERS
    )

    # Shows the fields; the rows are filtered by equipment.filters.EquipmentFilter.


class EquipmentForm(ServiceCheckedModelForm):
    """The register entry of an item of equipment (status and location have their own forms
    once it exists)."""

    class Meta:
        model = Equipment
        fields = [
            "asset_no",
            "name",
            "kind",
            "model",
            "serial_no",
            "manufacturer",
            "range_text",
            "accuracy_text",
            "discipline",
            "custodian",
            "rfid_uid",
            "purchase_date",
            "commissioning_date",
            "calibration_interval_months",
            "notes",
        ]
        widgets = {
            "purchase_date": forms.DateInput(attrs=DATE),
            "commissioning_date": forms.DateInput(attrs=DATE),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["custodian"].queryset = lab_people()
        self.fields["discipline"].queryset = Discipline.objects.order_by("code")
        self.fields["purchase_date"].widget.format = "%Y-%m-%d"
        self.fields["commissioning_date"].widget.format = "%Y-%m-%d"

    def clean_rfid_uid(self):
        """The tag UID as the model keeps it (separators dropped, upper case)."""
        return normalise_tag_uid(self.cleaned_data.get("rfid_uid") or "") or None

    def values(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


class EquipmentCreateForm(EquipmentForm):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[c for c in Equipment.Status.choices if c[0] != Equipment.Status.SCRAPPED],
        initial=Equipment.Status.IN_SERVICE,
    )
    location = forms.CharField(label=_("Location"), max_length=LOCATION_LENGTH, required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Equipment.Status.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=SHORT_TEXT,
        widget=forms.TextInput(),
        help_text=_("Kept in the audit log and shown in the status history."),
    )


class LocationForm(forms.Form):
    location = forms.CharField(
        label=_("Location"),
        max_length=LOCATION_LENGTH,
        help_text=_("Room, bench or cabinet where it is now."),
    )


# --- calibrations ---------------------------------------------------------------------------


class CalibrationForm(forms.Form):
    certificate_no = forms.CharField(label=_("Certificate no."), max_length=REFERENCE)
    body = forms.CharField(label=_("Calibrating body"), max_length=NAME)
    date = _date_field(_("Calibrated on"))
    due_date = _date_field(_("Valid until"))
    result_summary = forms.CharField(
        label=_("Result"),
        max_length=SHORT_TEXT,
        required=False,
        help_text=_("e.g. 符合 0.05 级 / corrections below"),
    )
    file = _document_field()


class PointForm(forms.ModelForm):
    """One calibrated point: nominal value, unit, correction, U and k. The limits are the
    model's (`CalibrationPoint`: digits, U > 0, k from 1 to 10 with 2 decimals), shown on
    their field; an empty row is no point."""

    class Meta:
        model = CalibrationPoint
        fields = ["nominal", "unit", "correction", "expanded_uncertainty", "coverage_factor"]
        labels = {
            "nominal": _("Nominal value"),
            "unit": _("Unit"),
            "correction": _("Correction"),
            "expanded_uncertainty": _("U"),
            "coverage_factor": _("k"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
        self.fields["coverage_factor"].initial = 2

    def clean(self):
        data = super().clean()
        typed = [
            name
            for name in ("nominal", "unit", "correction", "expanded_uncertainty")
            if (self.data.get(self.add_prefix(name)) or "").strip()
        ]
        if typed and len(typed) < 4:
            raise forms.ValidationError(
                _("Give the nominal value, unit, correction and U of each point.")
            )
        return data

    def validate_unique(self):
        pass

    def point(self) -> dict | None:
        data = self.cleaned_data
        if not data or data.get("nominal") is None:
            return None
        return {
            "nominal": data["nominal"],
            "unit": data["unit"],
            "correction": data["correction"],
            "expanded_uncertainty": data["expanded_uncertainty"],
            "coverage_factor": data.get("coverage_factor") or 2,
        }


PointFormSet = forms.formset_factory(
    PointForm, extra=0, max_num=MAX_POINTS, absolute_max=MAX_POINTS, validate_max=True
)


class ConfirmForm(forms.Form):
    note = forms.CharField(
        label=_("Confirmation"),
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("How the results meet the need, e.g. corrections within ±0.02 MPa."),
    )
    return_to_service = forms.BooleanField(
        label=_("Return it to service"),
        required=False,
        help_text=_("For equipment out of service or under repair."),
    )


# --- intermediate checks --------------------------------------------------------------------


class CheckPlanForm(ServiceCheckedModelForm):
    class Meta:
        model = IntermediateCheckPlan
        fields = [
            "quantity",
            "unit",
            "check_standard",
            "method",
            "interval_days",
            "first_due",
            "reference_value",
            "lower_limit",
            "upper_limit",
            "lower_warning",
            "upper_warning",
            "active",
        ]
        widgets = {
            "first_due": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "method": forms.Textarea(attrs={"rows": 2}),
        }

    def values(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


class CheckResultForm(forms.Form):
    date = _date_field(_("Date"), initial=timezone.localdate)
    value = forms.DecimalField(label=_("Value found"))
    note = forms.CharField(label=_("Note"), max_length=SHORT_TEXT, required=False)


# --- maintenance, usage, bookings -----------------------------------------------------------


class MaintenanceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=MaintenanceRecord.Kind.choices)
    date = _date_field(_("Date"), initial=timezone.localdate)
    description = forms.CharField(
        label=_("Description"), max_length=NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    take_out_of_service = forms.BooleanField(
        label=_("Take it out of service"),
        required=False,
        help_text=_("For a fault: stop its use at once (停用)."),
    )

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [
                c for c in MaintenanceRecord.Kind.choices if c[0] in kinds
            ]


class UsageForm(forms.Form):
    started_at = _datetime_field(_("From"))
    ended_at = _datetime_field(_("Until"), required=False)
    condition_before = forms.CharField(label=_("Condition before"), max_length=NAME, required=False)
    note = forms.CharField(label=_("Note"), max_length=SHORT_TEXT, required=False)


class UsageCloseForm(forms.Form):
    condition_after = forms.CharField(label=_("Condition after"), max_length=NAME, required=False)


class UsageFilterForm(forms.Form):
    date_from = _date_field(_("From"), required=False)
    date_to = _date_field(_("To"), required=False)


class BookingForm(forms.Form):
    equipment = forms.ModelChoiceField(
        label=_("Equipment"),
        queryset=Equipment.objects.filter(status__in=Equipment.USABLE).order_by("asset_no"),
    )
    starts_at = _datetime_field(_("From"))
    ends_at = _datetime_field(_("Until"))
    purpose = forms.CharField(label=_("Purpose"), max_length=SHORT_TEXT, required=False)

    def __init__(self, *args, equipment=None, **kwargs):
        super().__init__(*args, **kwargs)
        if equipment is not None:
            self.fields["equipment"].initial = equipment.pk
            self.fields["equipment"].widget = forms.HiddenInput()

    def clean(self):
        data = super().clean()
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end <= start:
            self.add_error("ends_at", _("The booking must end after it starts."))
        return data


# --- measurement standards ------------------------------------------------------------------


class StandardForm(ServiceCheckedModelForm):
    file = _document_field(_("Standard certificate (PDF or image)"))

    class Meta:
        model = MeasurementStandard
        fields = [
            "name",
            "certificate_no",
            "certificate_issuer",
            "certificate_issued",
            "certificate_expiry",
            "discipline",
            "measurands",
            "range_text",
            "uncertainty_text",
            "custodian",
            "active",
            "equipment",
            "methods",
        ]
        widgets = {
            "certificate_issued": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "certificate_expiry": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "equipment": forms.CheckboxSelectMultiple(attrs={"class": "checkbox-list"}),
            "methods": forms.CheckboxSelectMultiple(attrs={"class": "checkbox-list"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["custodian"].queryset = lab_people()
        self.fields["discipline"].queryset = Discipline.objects.order_by("code")
        self.fields["equipment"].queryset = Equipment.objects.exclude(
            status=Equipment.Status.SCRAPPED
        ).order_by("asset_no")
        if not self.fields["methods"].queryset.exists():
            self.fields["methods"].help_text = _("The methods library is empty.")

    def values(self) -> dict:
        return {
            name: self.cleaned_data.get(name)
            for name in self.Meta.fields
            if name not in ("equipment", "methods")
        }


class StandardFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=NAME)
    active = forms.ChoiceField(
        label=_("In use"),
        required=False,
        choices=[("", _("any")), ("1", _("active")), ("0", _("retired"))],
    )
