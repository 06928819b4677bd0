from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.core.forms import SELECT_PLACEHOLDER
from metrolab.methods.coverage import coverage_gaps, instrument_of_item
from metrolab.tasks import selectors


class TaskSetupForm(forms.Form):
    """The assignment of one task: what the work is done under (authorised item, method,
    measurement standard, equipment, the instrument's range) and who does it (R6.4e, R6.7d).
    Everything but the person may be left empty: given an authorised item, the service fills
    in its current method, its standard and the standard's usable equipment."""

    scope = forms.ModelChoiceField(
        label=_("Authorised item"), queryset=None, required=False, empty_label=SELECT_PLACEHOLDER
    )
    method = forms.ModelChoiceField(
        label=_("Technical basis"), queryset=None, required=False, empty_label=SELECT_PLACEHOLDER
    )
    standard = forms.ModelChoiceField(
        label=_("Measurement standard"),
        queryset=None,
        required=False,
        empty_label=SELECT_PLACEHOLDER,
    )
    equipment = forms.ModelMultipleChoiceField(
        label=_("Equipment"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Hold Ctrl / ⌘ to choose several. Empty: the standard's equipment."),
    )
    range_low = forms.DecimalField(
        label=_("Instrument range from"), required=False, max_digits=20, decimal_places=9
    )
    range_high = forms.DecimalField(
        label=_("Instrument range to"),
        required=False,
        max_digits=20,
        decimal_places=9,
        help_text=_("In the unit of the authorised item."),
    )
    assignee = forms.ModelChoiceField(
        label=_("Assign to"), queryset=None, required=False, empty_label=SELECT_PLACEHOLDER
    )

    def __init__(self, *args, task, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        self.fields["scope"].queryset = selectors.scopes_for(task)
        self.fields["scope"].label_from_instance = _scope_label
        self.fields["method"].queryset = selectors.methods_for(task)
        instrument = instrument_of_item(task.item)

        def method_label(method):
            label = _method_label(method)
            if coverage_gaps(method, instrument):
                return f"{label} · ⚠ {_('does not cover this instrument')}"
            return label

        self.fields["method"].label_from_instance = method_label
        self.fields["standard"].queryset = selectors.standards_for(task)
        self.fields["standard"].label_from_instance = _standard_label
        self.fields["equipment"].queryset = selectors.equipment_for(task)
        self.fields["equipment"].label_from_instance = _equipment_label
        self.fields["assignee"].queryset = selectors.assignable_people()

    def clean(self):
        data = super().clean()
        low, high = data.get("range_low"), data.get("range_high")
        if low is not None and high is not None and low > high:
            self.add_error(
                "range_high", _("The upper end of the range must not be below its lower end.")
            )
        return data

    def annotate_people(self, verdicts) -> None:
        """Label each person ✓ (may take the task as proposed) or ✗ with the first reason."""
        by_pk = {v.person.pk: v for v in verdicts}

        def label(person):
            verdict = by_pk.get(person.pk)
            if verdict is None:
                return str(person)
            if verdict.eligible:
                return f"✓ {person} ({verdict.person.open_tasks})"
            more = len(verdict.problems) - 1
            reason = verdict.problems[0].message
            suffix = f" (+{more})" if more else ""
            return f"✗ {person} — {reason}{suffix}"

        self.fields["assignee"].label_from_instance = label


class AssignManyForm(forms.Form):
    """Several tasks for one person with one set-up (R6.4e): ticked in the list of tasks to
    assign. The set-up is an authorised item, done under its current method, its standard
    and that standard's usable equipment (the service's defaults); left empty, each task
    keeps the set-up it has. Each task's eligibility is checked on its own. (The API takes
    the method, standard and equipment too.)"""

    tasks = forms.ModelMultipleChoiceField(
        label=_("Tasks"), queryset=None, widget=forms.MultipleHiddenInput
    )
    assignee = forms.ModelChoiceField(
        label=_("Assign to"), queryset=None, empty_label=SELECT_PLACEHOLDER
    )
    scope = forms.ModelChoiceField(
        label=_("Authorised item"), queryset=None, required=False, empty_label=SELECT_PLACEHOLDER
    )

    def __init__(self, *args, **kwargs):
        from metrolab.qualifications.models import AuthorisedItem
        from metrolab.tasks.models import Task

        super().__init__(*args, **kwargs)
        self.fields["tasks"].queryset = Task.objects.all()
        self.fields["assignee"].queryset = selectors.assignable_people()
        self.fields["scope"].queryset = AuthorisedItem.objects.select_related("category").order_by(
            "code"
        )
        self.fields["scope"].label_from_instance = _scope_label


def _scope_label(scope):
    unit = f" {scope.unit}" if scope.unit else ""
    rng = scope.range_text or (
        f"{_plain(scope.range_low)}–{_plain(scope.range_high)}{unit}"
        if scope.range_low is not None or scope.range_high is not None
        else ""
    )
    return f"{scope.code} {scope.name}" + (f" ({rng})" if rng else "")


def _method_label(method):
    return f"{method.code}-{method.year} {method.title} · {method.get_status_display()}"


def _standard_label(standard):
    return f"{standard.name} ({standard.certificate_no}, {standard.certificate_expiry:%Y-%m-%d})"


def _equipment_label(equipment):
    """Asset no., name, status and calibration: "… · calibration overdue since 2026-10-21"."""
    label = f"{equipment.asset_no} {equipment.name} · {equipment.get_status_display()}"
    due = equipment.calibration_due()
    if due is None:
        calibration = _("no confirmed calibration")
    elif due < timezone.localdate():
        calibration = _("calibration overdue since %(date)s") % {"date": due.isoformat()}
    else:
        calibration = _("calibrated until %(date)s") % {"date": due.isoformat()}
    return f"{label} · {calibration}"


def _plain(value):
    if value is None:
        return "…"
    return format(value.normalize(), "f")
