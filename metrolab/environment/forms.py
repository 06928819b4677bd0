"""Forms of the environment pages: the filters of the alarm and command logs and of the
ingestion health page, acknowledging an alarm, and commanding an actuator by hand. They only
collect input; the services (`alarms.alarm_acknowledge`, `control.command_send`) decide."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.core.text import NOTE, SHORT_TEXT
from metrolab.environment.models import Actuator, Alarm, Command, Room

DATE = {"type": "date"}
OPEN, UNACKNOWLEDGED = "open", "unacknowledged"


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class _RoomFilter(forms.Form):
    room = forms.ModelChoiceField(
        label=_("Room"),
        queryset=Room.objects.order_by("code"),
        required=False,
        empty_label=_("any"),
    )


class PeriodMixin(forms.Form):
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs=DATE))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs=DATE))

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The period ends before it starts."))
        return data

    def period(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """[start, end) in the lab's time zone; the end day is included."""
        data = self.cleaned_data
        start = _day_start(data["since"]) if data.get("since") else None
        end = _day_start(data["until"] + dt.timedelta(days=1)) if data.get("until") else None
        return start, end


class AlarmFilterForm(PeriodMixin, _RoomFilter):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("any")),
            (OPEN, _("open (not cleared)")),
            (UNACKNOWLEDGED, _("not acknowledged")),
            *Alarm.Status.choices,
        ],
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("any")), *Alarm.Kind.choices]
    )
    field_order = ["room", "status", "kind", "since", "until"]
    # Shows the fields; the rows are filtered by environment.filters.AlarmFilter.


class CommandFilterForm(PeriodMixin, _RoomFilter):
    actuator = forms.ModelChoiceField(
        label=_("Actuator"),
        queryset=Actuator.objects.select_related("room").order_by("room__code", "code"),
        required=False,
        empty_label=_("any"),
    )
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("any")), *Command.Source.choices]
    )
    field_order = ["room", "actuator", "source", "since", "until"]

    def filter(self, commands):
        data = self.cleaned_data
        if data.get("room"):
            commands = commands.filter(actuator__room=data["room"])
        if data.get("actuator"):
            commands = commands.filter(actuator=data["actuator"])
        if data.get("source"):
            commands = commands.filter(source=data["source"])
        start, end = self.period()
        if start:
            commands = commands.filter(issued_at__gte=start)
        if end:
            commands = commands.filter(issued_at__lt=end)
        return commands


class SensorFilterForm(_RoomFilter):
    stale = forms.BooleanField(label=_("Only silent sensors"), required=False)


class AcknowledgeForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What was found and what was done."),
    )


class ManualCommandForm(forms.Form):
    """Command one of the room's actuators by hand (R6.11e): switch it on or off, or give an
    air conditioner a set-point; the reason is recorded with the command."""

    actuator = forms.ChoiceField(label=_("Actuator"))
    action = forms.ChoiceField(label=_("Action"), choices=Command.Action.choices)
    value = forms.DecimalField(
        label=_("Set-point"),
        required=False,
        max_digits=12,
        decimal_places=4,
        help_text=_("Only to set a set-point."),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=SHORT_TEXT)

    def __init__(self, *args, room: Room, **kwargs):
        super().__init__(*args, **kwargs)
        self.actuators = {
            a.code: a for a in Actuator.objects.filter(room=room, active=True).order_by("code")
        }
        self.fields["actuator"].choices = [
            (code, f"{code} {a.name}") for code, a in self.actuators.items()
        ]

    def clean(self):
        data = super().clean()
        if data.get("action") == Command.Action.SET and data.get("value") is None:
            self.add_error("value", _("Give the set-point."))
        return data

    def command(self) -> dict:
        data = self.cleaned_data
        return {
            "actuator": self.actuators[data["actuator"]],
            "action": data["action"],
            "value": data["value"] if data["action"] == Command.Action.SET else None,
            "reason": data["reason"],
        }
