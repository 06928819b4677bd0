"""The one eligibility service (R6.7d, R6.4e): may this person do (check, approve) this work,
under this authorised item, with this method, measurement standard and equipment, on this
day? It answers with EVERY reason it may not, each in the user's words naming the thing and
its date, so that a refusal can be put right in one go.

It gates task assignment and the start of a task (`metrolab.tasks.services`, through
`assignment_checks`), and the records issue calls it for each signature (capacity check /
approve). It only reads: the models of methods, equipment and qualifications.

Dates are inclusive: a certificate, authorisation or calibration is valid ON its expiry / due
date and invalid the day after. A calibration (校准) may depart from its method or scope when a
deviation in force covers it (R6.7c: authorised by the technical manager and accepted by the
customer, for the commission line and the method); a verification (检定) never may.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.commissions.choices import Service
from metrolab.equipment.models import Equipment
from metrolab.equipment.services import out_of_control_reason
from metrolab.methods.models import Deviation, Method
from metrolab.qualifications.models import Authorisation, AuthorisedItem

PERFORM, CHECK, APPROVE = "perform", "check", "approve"  # = Authorisation.Capacity values
CAPACITIES = (PERFORM, CHECK, APPROVE)

# The problems a deviation may cover (departures from the method or the scope, R6.7c).
DEVIABLE = frozenset({"range_outside_scope", "method_not_current", "method_not_in_scope"})


@dataclass(frozen=True)
class Problem:
    """One reason why a person may not do a piece of work."""

    code: str  # stable machine code
    message: str  # in the user's language, names the thing and the date
    deviable: bool  # True only for method / scope departures a deviation may cover


def _problem(code: str, message: str) -> Problem:
    return Problem(code=code, message=message, deviable=code in DEVIABLE)


def as_day(on: dt.date | dt.datetime | None) -> dt.date:
    """The local date of `on` (a datetime or a date; default today)."""
    if on is None:
        return timezone.localdate()
    if isinstance(on, dt.datetime):
        return timezone.localdate(on) if timezone.is_aware(on) else on.date()
    return on


def _date(day: dt.date) -> str:
    return day.isoformat()


def _number(value: Decimal) -> str:
    """60.000000000 → "60", 0.250 → "0.25": how a range is written."""
    text = format(Decimal(value).normalize(), "f")
    return text


def _scope_range(scope: AuthorisedItem) -> str:
    if scope.range_text:
        return scope.range_text
    low = _number(scope.range_low) if scope.range_low is not None else "…"
    high = _number(scope.range_high) if scope.range_high is not None else "…"
    return f"{low}–{high} {scope.unit}".strip()


def _capacity_label(capacity: str) -> str:
    return str(Authorisation.Capacity(capacity).label)


# --- the checks ---------------------------------------------------------------------------


def _scope_problems(scope, *, service, day, range_low, range_high) -> list[Problem]:
    if scope is None:
        return [
            _problem(
                "no_scope",
                _(
                    "No authorised item is chosen: choose the item of the lab's scope this work "
                    "is done under."
                ),
            )
        ]
    problems = []
    if scope.valid_from is not None and day < scope.valid_from:
        problems.append(
            _problem(
                "scope_not_valid",
                _("Authorised item %(item)s is valid only from %(date)s.")
                % {"item": scope, "date": _date(scope.valid_from)},
            )
        )
    elif scope.valid_until is not None and day > scope.valid_until:
        problems.append(
            _problem(
                "scope_not_valid",
                _("Authorised item %(item)s was valid until %(date)s.")
                % {"item": scope, "date": _date(scope.valid_until)},
            )
        )
    if service and scope.service != service:
        problems.append(
            _problem(
                "scope_service_mismatch",
                _("Authorised item %(item)s covers %(scope_service)s, not %(service)s.")
                % {
                    "item": scope,
                    "scope_service": scope.get_service_display(),
                    "service": Service(service).label,
                },
            )
        )
    if not scope.covers_range(range_low, range_high):
        low = range_low if range_low is not None else range_high
        high = range_high if range_high is not None else range_low
        problems.append(
            _problem(
                "range_outside_scope",
                _(
                    "The instrument range %(range)s lies outside the authorised range "
                    "%(scope_range)s of %(item)s."
                )
                % {
                    "range": f"{_number(low)}–{_number(high)} {scope.unit}".strip(),
                    "scope_range": _scope_range(scope),
                    "item": scope,
                },
            )
        )
    return problems


def _method_problems(method, scope, *, day) -> list[Problem]:
    if method is None:
        return [_problem("method_missing", _("No method is chosen."))]
    problems = []
    status = method.status_on(day)
    if status == Method.Status.NOT_YET_EFFECTIVE:
        problems.append(
            _problem(
                "method_not_current",
                _("Method %(method)s takes effect only on %(date)s.")
                % {"method": method, "date": _date(method.effective_date)},
            )
        )
    elif status == Method.Status.ABOLISHED:
        problems.append(
            _problem(
                "method_not_current",
                _("Method %(method)s was abolished on %(date)s.")
                % {"method": method, "date": _date(method.abolished_date)},
            )
        )
    elif status == Method.Status.SUPERSEDED:
        successor = method.superseded_by
        problems.append(
            _problem(
                "method_not_current",
                _("Method %(method)s was superseded by %(successor)s on %(date)s.")
                % {
                    "method": method,
                    "successor": successor,
                    "date": _date(successor.effective_date),
                },
            )
        )
    if scope is not None and not scope.methods.filter(pk=method.pk).exists():
        problems.append(
            _problem(
                "method_not_in_scope",
                _("Method %(method)s is not a method of authorised item %(item)s.")
                % {"method": method, "item": scope},
            )
        )
    return problems


def _standard_problems(standard, scope, *, day) -> list[Problem]:
    problems = []
    expected = scope.standard if scope is not None and scope.standard_id else None
    if expected is not None and standard is None:
        problems.append(
            _problem(
                "standard_missing",
                _(
                    "Authorised item %(item)s is done with measurement standard %(standard)s; "
                    "none is chosen."
                )
                % {"item": scope, "standard": expected},
            )
        )
    if standard is None:
        return problems
    if expected is not None and standard.pk != expected.pk:
        problems.append(
            _problem(
                "standard_not_of_scope",
                _(
                    "Measurement standard %(standard)s is not the standard of authorised item "
                    "%(item)s (%(expected)s)."
                )
                % {"standard": standard, "item": scope, "expected": expected},
            )
        )
    if standard.certificate_expiry < day:
        problems.append(
            _problem(
                "standard_certificate_expired",
                _(
                    "The certificate %(number)s of measurement standard %(standard)s was valid "
                    "until %(date)s."
                )
                % {
                    "number": standard.certificate_no,
                    "standard": standard,
                    "date": _date(standard.certificate_expiry),
                },
            )
        )
    if not standard.active:
        problems.append(
            _problem(
                "standard_inactive",
                _("Measurement standard %(standard)s is no longer in use.")
                % {"standard": standard},
            )
        )
    return problems


def _equipment_problems(item: Equipment, *, day) -> list[Problem]:
    problems = []
    name = str(item)
    if item.out_of_control:
        # The out-of-control state is kept by the equipment services (one rule): restricted
        # until an intermediate check is back in control or the equipment is recalibrated.
        problems.append(
            _problem(
                "equipment_check_failed",
                _("Equipment %(equipment)s is %(status)s: %(reason)s")
                % {
                    "equipment": name,
                    "status": item.get_status_display(),
                    "reason": out_of_control_reason(item.out_of_control_check),
                },
            )
        )
    elif item.status not in Equipment.USABLE:
        problems.append(
            _problem(
                "equipment_not_in_service",
                _("Equipment %(equipment)s is %(status)s.")
                % {"equipment": name, "status": item.get_status_display()},
            )
        )
    # The calibration that counts on that day, in force or not (R6.5; the one rule:
    # EquipmentCalibration.objects.counting), and the latest awaiting confirmation.
    current = item.calibrations.counting(day).first()
    pending = item.calibrations.unconfirmed().done_by(day).latest_first().first()
    if current is None or current.due_date < day:
        if current is None:
            message = _("Equipment %(equipment)s has no confirmed calibration.") % {
                "equipment": name
            }
        else:
            message = _("Equipment %(equipment)s was due for calibration on %(date)s.") % {
                "equipment": name,
                "date": _date(current.due_date),
            }
        if pending is not None and (current is None or pending.date >= current.date):
            message += " " + _(
                "Its calibration %(certificate)s of %(date)s awaits confirmation."
            ) % {"certificate": pending.certificate_no, "date": _date(pending.date)}
        problems.append(_problem("equipment_calibration_overdue", message))
    return problems


def _authorisation_problem(auth: Authorisation, *, name, capacity, scope, day) -> Problem:
    """Why an authorisation that exists is not valid on `day`."""
    values = {"name": name, "capacity": _capacity_label(capacity), "item": scope}
    if auth.revoked:
        return _problem(
            "qualification_expired",
            _("%(name)s's authorisation to %(capacity)s %(item)s was revoked.") % values,
        )
    certificate = auth.certificate
    if certificate is not None and certificate.expiry_date and day > certificate.expiry_date:
        return _problem(
            "qualification_expired",
            _(
                "%(name)s's certificate %(number)s, on which the authorisation to %(capacity)s "
                "%(item)s rests, was valid until %(date)s."
            )
            % {**values, "number": certificate.number, "date": _date(certificate.expiry_date)},
        )
    if auth.valid_until is not None and day > auth.valid_until:
        return _problem(
            "qualification_expired",
            _("%(name)s's authorisation to %(capacity)s %(item)s was valid until %(date)s.")
            % {**values, "date": _date(auth.valid_until)},
        )
    start = max(d for d in (auth.valid_from, certificate.issue_date if certificate else None) if d)
    return _problem(
        "not_qualified",
        _("%(name)s's authorisation to %(capacity)s %(item)s starts only on %(date)s.")
        % {**values, "date": _date(start)},
    )


def _person_problems(person, authorisations, *, capacity, scope, day) -> list[Problem]:
    if scope is None:
        return []
    if person is None:
        return [_problem("not_qualified", _("No person is chosen."))]
    name = str(person)
    if any(a.valid_on(day) for a in authorisations):
        return []
    if not authorisations:
        return [
            _problem(
                "not_qualified",
                _("%(name)s is not authorised to %(capacity)s %(item)s.")
                % {"name": name, "capacity": _capacity_label(capacity), "item": scope},
            )
        ]
    latest = max(authorisations, key=lambda a: (a.valid_from, a.pk))
    return [_authorisation_problem(latest, name=name, capacity=capacity, scope=scope, day=day)]


def _authorisations(people_pks: Iterable[int], *, scope, capacity) -> dict[int, list]:
    found: dict[int, list] = {pk: [] for pk in people_pks}
    if scope is None or not found:
        return found
    rows = Authorisation.objects.filter(
        item=scope, capacity=capacity, person_id__in=list(found)
    ).select_related("certificate")
    for row in rows:
        found[row.person_id].append(row)
    return found


def _deviation_covers(*, service, line, method) -> bool:
    """A calibration with a deviation in force for its commission line and method."""
    if service != Service.CALIBRATION or line is None or method is None:
        return False
    return Deviation.objects.filter(
        line=line, method=method, state=Deviation.State.ACCEPTED, authorised_by__isnull=False
    ).exists()


def _check_capacity(capacity: str) -> None:
    if capacity not in CAPACITIES:
        raise ValueError(f"unknown capacity {capacity!r}")


# --- the service --------------------------------------------------------------------------


def people_eligibility(
    people: Iterable[Any],
    *,
    capacity: str,
    service: str,
    scope: AuthorisedItem | None,
    method: Method | None = None,
    standard=None,
    equipment: Iterable[Equipment] = (),
    on: dt.date | dt.datetime | None = None,
    line=None,
    range_low: Decimal | None = None,
    range_high: Decimal | None = None,
) -> dict[int, list[Problem]]:
    """`eligibility_problems` for several people at once, by user pk: the set-up (scope,
    method, standard, equipment) is checked once, then each person's authorisation."""
    _check_capacity(capacity)
    day = as_day(on)
    people = list(people)
    setup = [
        *_scope_problems(
            scope, service=service, day=day, range_low=range_low, range_high=range_high
        ),
        *_method_problems(method, scope, day=day),
    ]
    later = [*_standard_problems(standard, scope, day=day)]
    for item in equipment:
        later.extend(_equipment_problems(item, day=day))
    covered = _deviation_covers(service=service, line=line, method=method)
    held = _authorisations((p.pk for p in people if p is not None), scope=scope, capacity=capacity)
    verdicts = {}
    for person in people:
        problems = [
            *setup,
            *_person_problems(
                person,
                held.get(getattr(person, "pk", None), []),
                capacity=capacity,
                scope=scope,
                day=day,
            ),
            *later,
        ]
        if covered:
            problems = [p for p in problems if not p.deviable]
        verdicts[getattr(person, "pk", None)] = problems
    return verdicts


def eligibility_problems(
    person,
    *,
    capacity: str,
    service: str,
    scope: AuthorisedItem | None,
    method: Method | None = None,
    standard=None,
    equipment: Iterable[Equipment] = (),
    on: dt.date | dt.datetime | None = None,
    line=None,
    range_low: Decimal | None = None,
    range_high: Decimal | None = None,
) -> list[Problem]:
    """Every reason why `person` may not work in `capacity` (perform / check / approve) on
    `service` under `scope` with this method, standard and equipment on the day `on`
    (default today); an empty list: they may. For a calibration, problems a deviation may
    cover are dropped when a deviation in force exists for `line` and `method`."""
    verdicts = people_eligibility(
        [person],
        capacity=capacity,
        service=service,
        scope=scope,
        method=method,
        standard=standard,
        equipment=equipment,
        on=on,
        line=line,
        range_low=range_low,
        range_high=range_high,
    )
    return verdicts[getattr(person, "pk", None)]


def task_setup(task) -> dict[str, Any]:
    """The keyword arguments of `eligibility_problems` that a task's set-up gives."""
    return {
        "service": task.service,
        "scope": task.scope,
        "method": task.method,
        "standard": task.standard,
        "equipment": list(task.equipment.all()) if task.pk else [],
        "line": task.item.line,
        "range_low": task.range_low,
        "range_high": task.range_high,
    }


def task_eligibility_problems(task, person, *, capacity: str = PERFORM, on=None) -> list[Problem]:
    """Every reason why `person` may not work on `task` in `capacity`, with the task's scope,
    method, standard, equipment and instrument range (R6.7d, R6.4e)."""
    return eligibility_problems(person, capacity=capacity, on=on, **task_setup(task))


def assignment_check(task, assignee) -> list[str]:
    """The check registered in `metrolab.tasks.services.assignment_checks`: the assignee must
    be eligible to perform the task."""
    return [p.message for p in task_eligibility_problems(task, assignee, capacity=PERFORM)]
