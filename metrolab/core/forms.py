"""Forms of the core pages, and the form renderer of every page."""

import copy

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.forms.renderers import DjangoTemplates
from django.utils.translation import gettext_lazy as _

from metrolab.core.apps import SELECT_PLACEHOLDER  # noqa: F401 - the apps' forms take it here
from metrolab.core.models import OrganisationProfile
from metrolab.core.roles import ROLES
from metrolab.core.services import ORGANISATION_FIELDS
from metrolab.core.text import CODE, NAME, SHORT_TEXT

# The only value formats the browser's date and time inputs take, whatever the language:
# a localised value (2026/12/07 in Chinese) shows as an empty field, and saving the form
# untouched would erase the stored date.
HTML_INPUT_FORMATS = {
    "date": "%Y-%m-%d",
    "time": "%H:%M",
    "datetime-local": "%Y-%m-%dT%H:%M",
}


class BoundField(forms.BoundField):
    """Django's bound field, rendering a date, time or datetime-local input's value in the
    format the browser takes (HTML_INPUT_FORMATS) in every language and form."""

    def as_widget(self, widget=None, attrs=None, only_initial=False):
        widget = widget or self.field.widget
        html_format = HTML_INPUT_FORMATS.get(getattr(widget, "input_type", ""))
        if (
            html_format
            and isinstance(widget, forms.widgets.DateTimeBaseInput)
            and widget.format != html_format
        ):
            widget = copy.copy(widget)
            widget.format = html_format
        return super().as_widget(widget, attrs, only_initial)


class FormRenderer(DjangoTemplates):
    """Django's renderer, writing a text field's limit as `data-maxlength` instead of
    `maxlength` (settings.FORM_RENDERER). Browsers cut text pasted into a field with a
    maxlength, without a word; without it the form refuses over-long text with a message
    naming the limit (R7.2), and core/app.js counts the characters as they are typed.
    Its forms' fields are `BoundField`s: date and time inputs get ISO values."""

    bound_field_class = BoundField

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        attrs = widget.get("attrs") if isinstance(widget, dict) else None
        if attrs and "maxlength" in attrs:
            attrs = dict(attrs)
            attrs["data-maxlength"] = attrs.pop("maxlength")
            context = {**context, "widget": {**widget, "attrs": attrs}}
        return super().render(template_name, context, request)


class LoginForm(AuthenticationForm):
    """Django's login form. A wrong password, a name that is no account's and an attempt
    delayed by the sign-in throttle get one and the same answer (no user-name enumeration)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "Wrong user name or password. After repeated failed sign-ins, signing in from "
            "this device is paused for a few minutes."
        ),
    }


class TotpForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "pattern": "[0-9]{6}",
            }
        ),
    )


class OrganisationForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Reason for the change"), required=False, max_length=SHORT_TEXT
    )

    class Meta:
        model = OrganisationProfile
        fields = ORGANISATION_FIELDS


class ApiTokenForm(forms.Form):
    username = forms.CharField(label=_("User"), max_length=150)
    name = forms.CharField(label=_("Token name"), max_length=NAME)
    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        choices=[(c, r.label) for c, r in ROLES.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    expires_at = forms.DateTimeField(
        label=_("Expires at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Actor"), required=False, max_length=NAME)
    action = forms.CharField(label=_("Action"), required=False, max_length=NAME)
    object_type = forms.CharField(
        label=_("Object type"),
        required=False,
        max_length=NAME,
        widget=forms.TextInput(attrs={"list": "object-types"}),
    )
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=CODE)
    since = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = forms.DateTimeField(
        label=_("To"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
