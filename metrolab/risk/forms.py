"""Forms of the risk pages. They only collect input; the services validate and write."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.core.text import DOCUMENT_TEXT, NAME, NOTE
from metrolab.risk.radar import Bucket, Kind


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


MAX_PERIOD_DAYS = 3660  # ten years: a trace longer than that is a typing error


class RadarFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    bucket = forms.ChoiceField(label=_("Horizon"), required=False)
    on = forms.DateField(label=_("As of"), required=False, widget=_date_input())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds")), *Kind.choices()]
        self.fields["bucket"].choices = [("", _("All (up to 90 days)")), *Bucket.choices()]


class PeriodForm(forms.Form):
    """A period of whole days, both ends included."""

    start = forms.DateField(label=_("From"), widget=_date_input())
    end = forms.DateField(label=_("Until"), widget=_date_input())

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The period must end on or after its first day."))
            elif (end - start).days > MAX_PERIOD_DAYS:
                self.add_error("end", _("The period may not exceed ten years."))
        return data


class TraceForm(PeriodForm):
    """Choose the equipment (asset no. or search) and the period to trace."""

    q = forms.CharField(label=_("Equipment"), required=False, max_length=NAME)
    equipment = forms.IntegerField(required=False, widget=forms.HiddenInput)

    field_order = ["q", "equipment", "start", "end"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"placeholder": _("asset no., name or serial no."), "type": "search"}
        )
        self.fields["start"].required = False
        self.fields["end"].required = False


class ReviewOpenForm(PeriodForm):
    """The review covers the equipment and period just traced (hidden fields)."""

    equipment = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("e.g. found out of tolerance at its calibration on …"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("start", "end"):
            self.fields[name].widget = forms.HiddenInput()


class ReviewCloseForm(forms.Form):
    conclusion = forms.CharField(
        label=_("Conclusion"), max_length=DOCUMENT_TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )


def default_period(equipment) -> tuple[dt.date, dt.date]:
    """Since the equipment was last known good (the date of its current confirmed
    calibration), else the last 90 days, up to today."""
    today = timezone.localdate()
    calibration = equipment.current_calibration() if equipment is not None else None
    start = calibration.date if calibration is not None else today - dt.timedelta(days=90)
    return min(start, today), today
