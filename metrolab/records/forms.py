"""Forms of the record pages: the signature (re-authentication), a step's reason (return,
cancel, amend), the choice of a template when several fit a task, the replay moment. The
cells themselves are the template's (records/entry.py), not a Django form's fields."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.core.forms import SELECT_PLACEHOLDER
from metrolab.core.text import REASON
from metrolab.records.models import TemplateVersion

# The moment of a replay, as the datetime-local input sends it (and shows it: always ISO,
# whatever the page's language formats dates like).
MOMENT_FORMAT = "%Y-%m-%dT%H:%M"


class SignForm(forms.Form):
    """The signer proves again who they are: the password, and the authenticator's code
    where the account has the second factor on (R4.4; 21 CFR 11.200)."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    otp = forms.CharField(
        label=_("Authenticator code"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    reason = forms.CharField(
        label=_("Remark"), required=False, max_length=REASON, widget=forms.Textarea({"rows": 2})
    )

    def __init__(self, *args, totp: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not totp:
            del self.fields["otp"]
        else:
            self.fields["otp"].required = True


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=REASON, widget=forms.Textarea({"rows": 3, "required": True})
    )


class TemplateChoiceForm(forms.Form):
    template_version = forms.ModelChoiceField(
        label=_("Record template"),
        queryset=TemplateVersion.objects.none(),
        required=False,
        empty_label=SELECT_PLACEHOLDER,
    )

    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["template_version"]
        field.queryset = TemplateVersion.objects.filter(
            pk__in=[v.pk for v in versions]
        ).select_related("template")
        field.label_from_instance = lambda v: f"{v.template.code} v{v.number} · {v.template.title}"


def moment(text: str | None) -> dt.datetime | None:
    """The replay moment from `?at=` (YYYY-MM-DDTHH:MM[:SS], the lab's time zone), or None."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def moment_text(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime(MOMENT_FORMAT)
