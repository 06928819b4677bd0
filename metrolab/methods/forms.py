"""Forms of the methods pages. They only collect input; the services validate and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from metrolab.commissions.choices import Service
from metrolab.commissions.models import Discipline
from metrolab.core.forms import SELECT_PLACEHOLDER
from metrolab.core.text import CODE, NAME, NOTE, SHORT_TEXT, UNIT
from metrolab.methods.models import Deviation, InstrumentCategory, Method

DATE = {"type": "date"}


class MethodChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, method: Method) -> str:
        return method.designation


class MethodForm(forms.Form):
    """A regulation or specification of the library (R6.7a)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Method.Kind.choices)
    code = forms.CharField(label=_("Code"), max_length=CODE, help_text=_("e.g. JJG 52"))
    year = forms.CharField(label=_("Year / version"), max_length=CODE, help_text=_("e.g. 2013"))
    title = forms.CharField(label=_("Title"), max_length=SHORT_TEXT)
    title_en = forms.CharField(label=_("Title (English)"), max_length=SHORT_TEXT, required=False)
    published_date = forms.DateField(
        label=_("Published"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    # The service requires it too, with the same message.
    effective_date = forms.DateField(
        label=_("Effective from"),
        widget=forms.DateInput(attrs=DATE),
        error_messages={"required": _("Give the date the method takes effect.")},
    )
    abolished_date = forms.DateField(
        label=_("Abolished on"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    superseded_by = MethodChoiceField(
        label=_("Superseded by"),
        queryset=Method.objects.none(),
        required=False,
        empty_label=_("— none —"),
        help_text=_("The newer version that replaces this one once it takes effect."),
    )
    services = forms.MultipleChoiceField(
        label=_("Services"),
        choices=Service.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    disciplines = forms.ModelMultipleChoiceField(
        label=_("Disciplines"),
        queryset=Discipline.objects.order_by("code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    categories = forms.ModelMultipleChoiceField(
        label=_("Instrument categories"),
        queryset=InstrumentCategory.objects.order_by("code"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    accuracy_classes = forms.CharField(
        label=_("Accuracy classes covered"),
        max_length=NAME,
        required=False,
        help_text=_("Comma-separated, e.g. 1.0, 1.6, 2.5, 4.0 (empty: any class)."),
    )
    range_low = forms.DecimalField(
        label=_("Range covered from"), required=False, max_digits=20, decimal_places=9
    )
    range_high = forms.DecimalField(
        label=_("Range covered to"), required=False, max_digits=20, decimal_places=9
    )
    range_unit = forms.CharField(
        label=_("Unit of the range covered"),
        max_length=UNIT,
        required=False,
        help_text=_("e.g. MPa (empty range: any)."),
    )
    file = forms.FileField(
        label=_("Text of the method (PDF)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=NOTE, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, method: Method | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        successors = Method.objects.order_by("kind", "code", "-year")
        if method is not None:
            successors = successors.exclude(pk=method.pk)
            self.fields["file"].help_text = (
                _("Current file: %(name)s. A new file replaces the link to it.")
                % {"name": method.file_name}
                if method.has_file
                else ""
            )
        self.fields["superseded_by"].queryset = successors

    @staticmethod
    def initial_for(method: Method) -> dict:
        return {
            "kind": method.kind,
            "code": method.code,
            "year": method.year,
            "title": method.title,
            "title_en": method.title_en,
            "published_date": method.published_date,
            "effective_date": method.effective_date,
            "abolished_date": method.abolished_date,
            "superseded_by": method.superseded_by_id,
            "services": [s for s in method.services.split(",") if s],
            "disciplines": list(method.disciplines.all()),
            "categories": list(method.categories.all()),
            "accuracy_classes": method.accuracy_classes,
            "range_low": method.range_low,
            "range_high": method.range_high,
            "range_unit": method.range_unit,
            "notes": method.notes,
        }

    def data_for_service(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "file"}
        data["services"] = ",".join(data["services"])
        return data


class MethodFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=NAME)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("any")), *Method.Kind.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("any")), *Method.Status.choices]
    )
    discipline = forms.ModelChoiceField(
        label=_("Discipline"),
        queryset=Discipline.objects.order_by("code"),
        required=False,
        empty_label=_("any"),
    )
    category = forms.ModelChoiceField(
        label=_("Instrument category"),
        queryset=InstrumentCategory.objects.order_by("code"),
        required=False,
        empty_label=_("any"),
    )


class CategoryForm(forms.Form):
    """An instrument category (器具类别)."""

    code = forms.CharField(label=_("Code"), max_length=CODE)
    name = forms.CharField(label=_("Name"), max_length=NAME)
    name_en = forms.CharField(label=_("Name (English)"), max_length=NAME, required=False)
    discipline = forms.ModelChoiceField(
        label=_("Discipline"),
        queryset=Discipline.objects.order_by("code"),
        required=False,
        empty_label=_("— none —"),
    )


class DeviationRequestForm(forms.Form):
    """A deviation from a method for one commission line, with its justification (R6.7c)."""

    method = MethodChoiceField(
        label=_("Method departed from"),
        queryset=Method.objects.order_by("kind", "code", "-year"),
        empty_label=SELECT_PLACEHOLDER,
    )
    description = forms.CharField(
        label=_("Deviation"),
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What is done differently from the method (points, conditions, procedure)."),
    )
    justification = forms.CharField(
        label=_("Technical justification"),
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Why the result stays valid: evidence, uncertainty, the customer's need."),
    )


class DecisionForm(forms.Form):
    """The technical manager's decision."""

    decision = forms.ChoiceField(
        label=_("Decision of the technical manager"),
        choices=[("authorise", _("authorise")), ("refuse", _("refuse"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Conditions of the authorisation, if any; the reason is required to refuse."),
    )


class ResponseForm(forms.Form):
    """The customer's answer in the portal."""

    answer = forms.ChoiceField(
        label=_("Your answer"),
        choices=[("accept", _("accept the deviation")), ("decline", _("decline the deviation"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )


class AcceptanceUploadForm(forms.Form):
    """The customer's signed acceptance, scanned or photographed."""

    file = forms.FileField(
        label=_("Signed acceptance (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE)


class DeviationFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=NAME)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("any")), *Deviation.State.choices]
    )


class CommissionLookupForm(forms.Form):
    commission = forms.CharField(
        label=_("Commission no."),
        max_length=CODE,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
