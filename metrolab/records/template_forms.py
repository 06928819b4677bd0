"""Forms of the record template pages (R6.2d): the list's filters (the names of
`TemplateFilter`), a new template, the designer, and the review and approval of a version."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from metrolab.commissions.choices import Service
from metrolab.commissions.models import Discipline
from metrolab.core.text import CODE, NAME, NOTE
from metrolab.records.models import DEFAULT_RETENTION_YEARS, RecordTemplate

# Big enough for any real template (the built-ins are about 10 kB), small enough to refuse
# a paste gone wrong before it is parsed.
DEFINITION_LIMIT = 200_000


class TemplateFilterForm(forms.Form):
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
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("any")),
            ("approved", _("has an approved version")),
            ("in_progress", _("a version in progress")),
            ("none_approved", _("no approved version yet")),
        ],
    )
    builtin = forms.ChoiceField(
        label=_("Built in"),
        required=False,
        choices=[("", _("any")), ("yes", _("yes")), ("no", _("no"))],
    )


class TemplateCreateForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=CODE,
        help_text=_("Letters, digits, '.', '_' and '-'; the definition's code is the same."),
    )
    title = forms.CharField(label=_("Title"), max_length=NAME)
    service = forms.ChoiceField(label=_("Service"), choices=Service.choices)
    discipline = forms.ModelChoiceField(
        label=_("Discipline"),
        queryset=Discipline.objects.order_by("code"),
        required=False,
        empty_label=_("any"),
    )
    retention_years = forms.IntegerField(
        label=_("Retention period (years)"),
        min_value=1,
        max_value=100,
        initial=DEFAULT_RETENTION_YEARS,
    )
    start_from = forms.ModelChoiceField(
        label=_("Start from"),
        queryset=RecordTemplate.objects.order_by("code"),
        required=False,
        empty_label=_("a small starter template"),
        help_text=_("A copy of that template's latest version, with this code and service."),
    )


class DesignerForm(forms.Form):
    """The designer: the definition as JSON text, the note on what changed, and the sample
    context the preview evaluates in (JSON; empty: the generated sample)."""

    definition = forms.CharField(
        label=_("Definition (JSON)"),
        max_length=DEFINITION_LIMIT,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 30, "spellcheck": "false", "class": "code", "wrap": "off"}
        ),
    )
    note = forms.CharField(
        label=_("What changed"),
        required=False,
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    context = forms.CharField(
        label=_("Sample context (JSON)"),
        required=False,
        max_length=DEFINITION_LIMIT,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 8, "spellcheck": "false", "class": "code", "wrap": "off"}
        ),
        help_text=_(
            "What the header and the reference equipment give a record (item, customer, "
            "references with their calibration points, cmc). Only for the preview."
        ),
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("approve", _("reviewed: pass it to the technical manager")),
            ("return", _("return it to the author")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when you return it: what must change."),
    )
