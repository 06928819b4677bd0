"""Forms of the procedure pages (R8b): the list's filters (the names of `ProcedureFilter`) and
the edit page (the definition as JSON or YAML text). The review and approval forms are the
record templates' (same life, same roles)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from metrolab.core.text import CODE, NAME, NOTE
from metrolab.records.template_forms import DEFINITION_LIMIT, NoteForm, ReviewForm

__all__ = ["EditForm", "NoteForm", "ProcedureFilterForm", "ReviewForm"]


class ProcedureFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=NAME)
    template = forms.CharField(label=_("Record template"), required=False, max_length=CODE)
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


class EditForm(forms.Form):
    """The draft's definition as JSON or YAML text, and the note on what changed."""

    definition = forms.CharField(
        label=_("Definition (JSON or YAML)"),
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
