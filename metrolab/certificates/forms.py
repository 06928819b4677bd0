"""Forms of the certificate pages: the list's filter (its rows are filtered by
`filters.CertificateFilter`), revoking and replacing with a reason and a confirmation, and
choosing the approved records whose certificates to issue in a batch. They only collect
input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from metrolab.certificates.models import Certificate
from metrolab.core.text import REASON

DATE = {"type": "date"}


class CertificateFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("Number, identifier, customer, item or record")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("any")), *Certificate.Status.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("any")), *Certificate.Kind.choices]
    )
    since = forms.DateField(
        label=_("Issued from"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    until = forms.DateField(
        label=_("Issued to"), required=False, widget=forms.DateInput(attrs=DATE)
    )

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The period ends before it starts."))
        return data


class CertificateReasonForm(forms.Form):
    """Revoke (作废) or replace (更正): the reason, and the confirmation that it is meant."""

    reason = forms.CharField(
        label=_("Reason"), max_length=REASON, widget=forms.Textarea({"rows": 3, "required": True})
    )
    confirm = forms.BooleanField(label=_("I confirm this"), required=True)


class BatchIssueForm(forms.Form):
    """The approved records (ids) whose certificates to queue."""

    records = forms.TypedMultipleChoiceField(label=_("Records"), coerce=int, choices=())

    def __init__(self, *args, record_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["records"].choices = [(pk, pk) for pk in record_ids]
        self.fields["records"].error_messages["required"] = _("Choose at least one record.")
