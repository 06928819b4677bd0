"""Writes of original records (R6.2, R4.4, R6.8c, R6.12a; issue 14). Every step is a service
(one transaction, audited); a refusal raises ServiceError, lists every reason, and changes
nothing.

The life of a record::

    record_create (the task's assignee, task in progress, eligible to perform)
      → record_write … (cells; readings refused while the environment does not hold)
      → record_submit  [signs "measured"]  task in progress → checking, equipment usage closed
      → record_check   [signs "checked"]   a checker, not the measurer
      → record_approve [signs "approved"]  an approver, neither measurer nor checker:
                                           locked; task → done; instrument register;
                                           `record_approved_listeners`
    record_return (checker / approver, with a reason) → draft; task checking → in progress
    record_cancel (measurer or lab manager, with a reason, before approval) → cancelled;
                  task → assigned (a lab manager may reassign it)
    record_amend (an approved record) → a new draft record, revision + 1, amending it; the
                  old one becomes superseded when the amendment is approved. The task stays
                  done meanwhile (its work is finished; the amendment corrects the record of
                  it); the amendment's approval updates the instrument register again and runs
                  the listeners again (the certificates issue reissues the certificate).
    record_delete (lab manager, after the retention period only)

The signing steps take the signer's password (and TOTP code where enabled): `record_submit`,
`record_check` and `record_approve` check who may do the step, then re-authenticate
(services/signatures.py, outside the transaction so that a failure is recorded), then run the
step's service.

Room rule (`room_for`): the room given; else the room whose code is the location of the
task's equipment, when they name exactly one; else the only active laboratory room of the
template's discipline; else none (the record then says that no room is pinned and is not
blocked by conditions).

Equipment roles: each piece of the task's equipment holds at most one role of the template
(`calculation.roles_of`: declared in the template's "roles" with what fits them, or named by
its header fields and rules), each role at most one piece. The measurer gives them
(`record_create(roles=…)`, `record_set_roles`); when not given, `equipment_roles` assigns a
role only when it is unambiguous — the role has exactly one fitting piece among the task's
equipment (`Role.fits`: the declared kind, one of the declared words in the name or model; a
role declaring nothing fits any piece) and that piece is the single fitting piece of no other
role — and leaves the rest without a role rather than guess. A role no piece holds is a
problem of the record: its submission is refused (ROLE_MISSING) until the measurer sets it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import holds, require_person
from metrolab.core.service import ServiceError, service
from metrolab.core.text import CODE, NAME, SHORT_TEXT
from metrolab.customers.services import instrument_served
from metrolab.environment import selectors as environment
from metrolab.environment.models import Quantity, Room
from metrolab.equipment.models import Equipment
from metrolab.metrology import rounding
from metrolab.metrology.record_template import Role, add_months
from metrolab.qualifications.eligibility import (
    APPROVE,
    CHECK,
    PERFORM,
    task_eligibility_problems,
)
from metrolab.records import calculation
from metrolab.records.errors import RecordRefusal
from metrolab.records.labels import role_label
from metrolab.records.models import (
    Record,
    RecordChange,
    RecordEquipment,
    RecordNumberCounter,
    RecordSignature,
    RecordTransition,
    TemplateVersion,
)
from metrolab.records.roles import APPROVERS, CHECKERS, RECORD_DEVICES, RECORD_MANAGERS
from metrolab.records.services.signatures import reauthenticate, sign
from metrolab.records.template_selectors import fitting_templates
from metrolab.tasks.models import Task
from metrolab.tasks.services import (
    task_finish,
    task_return_to_work,
    task_stop,
    task_submit_for_check,
)

# Records not yet finished: a task has at most one.
OPEN = (Record.Status.DRAFT, Record.Status.SUBMITTED, Record.Status.CHECKED)
# The environment must have held over this window before a reading is written (R6.8c).
CONDITIONS_WINDOW = dt.timedelta(minutes=10)
# Readings of each quantity kept with the record (the smallest and largest always among them).
CONDITION_READINGS_KEPT = 500
# The longest value a cell holds.
CELL_TEXT = SHORT_TEXT

# Called with (record=, actor=) once a record is approved, inside the approval's transaction
# (the certificates issue appends its listener here, in its AppConfig.ready()).
RecordListener = Callable[..., None]
record_approved_listeners: list[RecordListener] = []


# --- helpers ---------------------------------------------------------------------------------


def _refusal(message: str, problems: list[str], *, code: str, field: str | None = None):
    return ServiceError(
        " ".join([message, *problems]) if problems else message,
        code=code,
        field=field,
        errors={field or "": problems or [message]},
    )


def _locked(record: Record) -> Record:
    return (
        Record.objects.select_for_update(of=("self",))
        .select_related(
            "task__item__commission__customer",
            "task__item__line",
            "template_version__template",
            "method",
            "room",
            "amends",
        )
        .get(pk=record.pk)
    )


def _transition(record: Record, source: str, target: str, user, reason: str = "") -> None:
    RecordTransition.objects.create(
        record=record, source=source, target=target, by=user, at=timezone.now(), reason=reason
    )


def _require_reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(message, code=RecordRefusal.REASON_REQUIRED, field="reason")
    return reason


def _plain(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = value.normalize()  # the database's fixed places are not significant
    try:
        return rounding.format_plain(value)
    except (rounding.RoundingError, ValueError):
        return str(value)


def _day(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value)
    return value.isoformat()


def _next_number(day: dt.date) -> str:
    """ "JL" + year + a six-digit count of the year (one locked counter row per year)."""
    counters = RecordNumberCounter.objects.select_for_update()
    counter = counters.filter(year=day.year).first()
    if counter is None:
        try:
            with transaction.atomic():
                counter = RecordNumberCounter.objects.create(year=day.year, last=0)
        except IntegrityError:  # made meanwhile by another record
            counter = counters.get(year=day.year)
    counter.last += 1
    counter.save(update_fields=["last", "updated_at"])
    return f"JL{day.year}{counter.last:06d}"


# --- choosing the template, the room, the equipment's roles ----------------------------------


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", (text or "").lower())


def templates_for(task: Task) -> list[TemplateVersion]:
    """The newest approved version of each template fitting the task
    (`template_selectors.fitting_templates`: its service, its discipline); when several
    templates fit, those naming the task's method in their code or title."""
    newest: dict[int, TemplateVersion] = {}
    for version in fitting_templates(task).order_by("template__code", "-number"):
        newest.setdefault(version.template_id, version)
    found = list(newest.values())
    if len(found) > 1 and task.method_id:
        code = _squash(task.method.code)
        named = [
            v
            for v in found
            if code and (code in _squash(v.template.code) or code in _squash(v.template.title))
        ]
        found = named or found
    return found


def _template_version(task: Task, given: TemplateVersion | None) -> TemplateVersion:
    if given is not None:
        given = TemplateVersion.objects.select_related("template").get(pk=given.pk)
        problems = []
        if given.status != TemplateVersion.Status.APPROVED:
            problems.append(
                _("Version %(number)s of template %(code)s is not approved.")
                % {"number": given.number, "code": given.template.code}
            )
        if given.template.service != task.service:
            problems.append(
                _("Template %(code)s is for another service than this task's.")
                % {"code": given.template.code}
            )
        if problems:
            raise _refusal(
                _("This template cannot be used:"),
                problems,
                code=RecordRefusal.NO_TEMPLATE,
                field="template_version",
            )
        return given
    found = templates_for(task)
    if not found:
        raise ServiceError(
            _("No approved record template fits this task (%(service)s). Ask for one to be made.")
            % {"service": task.get_service_display()},
            code=RecordRefusal.NO_TEMPLATE,
            field="template_version",
        )
    if len(found) > 1:
        raise ServiceError(
            _("Several record templates fit this task; choose one: %(codes)s.")
            % {"codes": ", ".join(v.template.code for v in found)},
            code=RecordRefusal.NO_TEMPLATE,
            field="template_version",
        )
    return found[0]


def room_for(task: Task, template, given: Room | None = None) -> Room | None:
    """The room a record is measured in (see the module docstring for the rule)."""
    if given is not None:
        return given
    locations = {e.location for e in task.equipment.all() if e.location}
    rooms = list(Room.objects.filter(code__in=locations, active=True)[:2])
    if len(rooms) == 1:
        return rooms[0]
    if template.discipline_id:
        rooms = list(
            Room.objects.filter(
                discipline_id=template.discipline_id, active=True, kind=Room.Kind.LAB
            )[:2]
        )
        if len(rooms) == 1:
            return rooms[0]
    return None


def equipment_roles(equipment: list[Equipment], roles: Sequence[Role]) -> dict[int, str]:
    """{equipment pk: role or ""}: the roles assigned when the measurer gives none, only where
    unambiguous (see the module docstring)."""
    fitting = {
        role.name: [e for e in equipment if role.fits(kind=e.kind, texts=(e.name, e.model))]
        for role in roles
    }
    chosen: dict[int, str] = {}
    for role in roles:
        found = fitting[role.name]
        if len(found) != 1:
            continue
        piece = found[0]
        if sum(1 for other in fitting.values() if other == [piece]) == 1:
            chosen[piece.pk] = role.name
    return {e.pk: chosen.get(e.pk, "") for e in equipment}


def _role_names(roles: Sequence[Role]) -> str:
    return ", ".join(role_label(r.name, r.label) for r in roles) or "—"


def checked_roles(
    given: Any, *, pieces: Mapping[int, Any], current: Mapping[int, str], roles: Sequence[Role]
) -> dict[int, str]:
    """The roles given ({equipment pk: role, "" for none}), every fault at once: equipment
    not among `pieces` (pk → Equipment), a role the template does not name, a role held by
    several pieces once `given` is laid over `current`. Refuses with ROLES_INVALID."""
    if not isinstance(given, Mapping):
        raise ServiceError(_("Send the roles as equipment → role."), field="roles")
    problems: list[str] = []
    names = {role.name for role in roles}
    clean: dict[int, str] = {}
    for key, value in given.items():
        try:
            pk = int(key)
        except (TypeError, ValueError):
            pk = None
        if pk is None or pk not in pieces:
            problems.append(_("Equipment %(id)s is not equipment of this task.") % {"id": key})
            continue
        role = value.strip() if isinstance(value, str) else None
        if role is None or (role and role not in names):
            problems.append(
                _("%(role)s is not a role of this template (its roles: %(roles)s).")
                % {"role": value, "roles": _role_names(roles)}
            )
            continue
        clean[pk] = role
    merged = {**current, **clean}
    holders: dict[str, list[int]] = {}
    for pk, role in merged.items():
        if role:
            holders.setdefault(role, []).append(pk)
    for role, pks in holders.items():
        if len(pks) > 1:
            problems.append(
                _("The role %(role)s is given to several pieces of equipment: %(assets)s.")
                % {
                    "role": role_label(role),
                    "assets": ", ".join(sorted(pieces[pk].asset_no for pk in pks)),
                }
            )
    if problems:
        raise _refusal(
            _("These equipment roles cannot be given:"),
            problems,
            code=RecordRefusal.ROLES_INVALID,
            field="roles",
        )
    return clean


def calibration_snapshot(equipment: Equipment, calibration) -> dict[str, Any]:
    """The equipment and its calibration in force as they are today (kept with the record)."""
    snap: dict[str, Any] = {
        "asset_no": equipment.asset_no,
        "name": equipment.name,
        "model": equipment.model,
        "serial_no": equipment.serial_no,
        "certificate_no": None,
        "due_date": None,
        "points": [],
    }
    if calibration is not None:
        snap.update(
            certificate_no=calibration.certificate_no,
            body=calibration.body,
            date=_day(calibration.date),
            due_date=_day(calibration.due_date),
            points=[
                {
                    "nominal": _plain(p.nominal),
                    "unit": p.unit,
                    "correction": _plain(p.correction),
                    "expanded_uncertainty": _plain(p.expanded_uncertainty),
                    "coverage_factor": _plain(p.coverage_factor),
                }
                for p in calibration.points.order_by("unit", "nominal", "pk")
            ],
        )
    return snap


def header_context(task: Task) -> dict[str, Any]:
    """The header data frozen with the record: item, commission, customer, method, CMC."""
    item = task.item
    commission = item.commission
    customer = commission.customer
    method = task.method
    scope = task.scope
    cmc = None
    if scope is not None and scope.cmc_value is not None:
        cmc = {
            "value": _plain(scope.cmc_value),
            "unit": scope.cmc_unit,
            "relative": scope.cmc_unit in ("%", "ppm"),
        }
    return {
        "item": {
            "number": item.number,
            "name": item.name,
            "serial_no": item.serial_no,
            "model_range": item.model_range,
            "range_low": _plain(task.range_low),
            "range_high": _plain(task.range_high),
            "accuracy_class": item.accuracy_class,
            "manufacturer": item.manufacturer,
        },
        "commission": {
            "number": commission.number,
            "date": _day(commission.created_at),
            "received_on": _day(item.received_at),
            "promised_date": _day(commission.promised_date),
        },
        "customer": {"name": customer.name, "address": customer.address},
        "method": {
            "code": str(method) if method else "",
            "title": method.title if method else "",
            "version": method.year if method else "",
        },
        "scope": {"code": scope.code, "name": scope.name} if scope else None,
        "cmc": cmc,
    }


# --- creating a record -----------------------------------------------------------------------


@service("record.create")
def record_create(
    *,
    task: Task,
    actor: Any,
    template_version: TemplateVersion | None = None,
    room: Room | None = None,
    roles: Mapping[int, str] | None = None,
    reason: str = "",
) -> Record:
    """The task's assignee opens the record of a started task (R6.2): it passes the
    eligibility service (perform, today) with every reason listed; it is pinned to an
    approved template version, the method, the room, the equipment with its calibration in
    force today and its role ({equipment pk: role, "" for none}: `roles` as given — a piece
    not named holds none — checked by `checked_roles`; when not given, `equipment_roles`),
    and the header data as they are now; it is kept `retention_years` of its template from
    today (R6.12a)."""
    user = require_person(actor)
    task = (
        Task.objects.select_for_update(of=("self",))
        .select_related("item__commission__customer", "method", "scope")
        .get(pk=task.pk)
    )
    if task.assignee_id != user.pk:
        raise ServiceError(
            _("Only the person the task is assigned to makes its record."),
            code=CoreRefusal.FORBIDDEN,
        )
    if task.status != Task.Status.IN_PROGRESS:
        raise ServiceError(
            _("This task is %(status)s; a record is made once the task has started.")
            % {"status": task.get_status_display()},
            code=CoreRefusal.INVALID_TRANSITION,
        )
    open_record = task.records.filter(status__in=OPEN).first()
    if open_record is not None:
        raise ServiceError(
            _("This task has an open record already: %(number)s.") % {"number": open_record.number},
            code=RecordRefusal.OPEN_RECORD,
        )
    today = timezone.localdate()
    problems = task_eligibility_problems(task, user, capacity=PERFORM, on=today)
    if problems:
        raise _refusal(
            _("The record cannot be made now:"),
            [p.message for p in problems],
            code=RecordRefusal.NOT_ELIGIBLE,
        )
    version = _template_version(task, template_version)
    template = version.template
    equipment = list(task.equipment.order_by("asset_no"))
    template_roles = calculation.roles_of(version)
    if roles is None:
        assigned = equipment_roles(equipment, template_roles)
    else:
        given = checked_roles(
            roles,
            pieces={e.pk: e for e in equipment},
            current={e.pk: "" for e in equipment},
            roles=template_roles,
        )
        assigned = {e.pk: given.get(e.pk, "") for e in equipment}
    now = timezone.now()
    record = Record.objects.create(
        number=_next_number(today),
        task=task,
        template_version=version,
        method=task.method,
        room=room_for(task, template, room),
        measured_by=user,
        started_at=now,
        context=header_context(task),
        retain_until=add_months(today, 12 * template.retention_years),
    )
    for item in equipment:
        calibration = item.calibration_in_force(today)
        RecordEquipment.objects.create(
            record=record,
            equipment=item,
            role=assigned[item.pk],
            calibration=calibration,
            snapshot=calibration_snapshot(item, calibration),
        )
    _evaluate_into(record)
    record.save(update_fields=["results", "decision", "complete", "updated_at"])
    _transition(record, "", Record.Status.DRAFT, user, reason)
    return record


def _evaluate_into(record: Record, cells: Mapping[str, str] | None = None):
    evaluation = calculation.evaluate(record, cells)
    record.results = evaluation.as_json()
    record.decision = evaluation.decision or ""
    record.complete = evaluation.complete
    return evaluation


# --- the environment (R6.8c) -----------------------------------------------------------------


def _number_text(value: Any) -> str:
    return environment.plain_number(value) if value is not None else ""


def limits_text(low, high, unit: str) -> str:
    """ "20 ± 2 ℃" for symmetric limits, "18 … 22 ℃", "≥ 18 ℃", "≤ 22 ℃"."""
    if low is not None and high is not None:
        centre, half = (low + high) / 2, (high - low) / 2
        if centre == centre.to_integral_value() or half == half.to_integral_value():
            return f"{_number_text(centre)} ± {_number_text(half)} {unit}".strip()
        return f"{_number_text(low)} … {_number_text(high)} {unit}".strip()
    if low is not None:
        return f"≥ {_number_text(low)} {unit}".strip()
    if high is not None:
        return f"≤ {_number_text(high)} {unit}".strip()
    return ""


def _required_by(requirement, room: Room) -> str:
    if requirement.method_id:
        return str(requirement.method)
    return _("room %(room)s") % {"room": f"{room.code} {room.name}"}


def measurement_blocked(record: Record, at: dt.datetime | None = None) -> list[str]:
    """Why readings may not be written now (empty: they may), in the user's words: each
    requirement of the room, and of the record's method for that room, that did not hold over
    the last `CONDITIONS_WINDOW` (a reading outside its limits, or none at all). A room
    without requirements, or a record without a room, is never blocked
    (`conditions_note` says so)."""
    room = record.room
    if room is None:
        return []
    end = at or timezone.now()
    conditions = environment.conditions_at(room, end - CONDITIONS_WINDOW, end, record.method)
    return unmet_requirements(conditions, room, window=CONDITIONS_WINDOW)


def unmet_requirements(conditions, room: Room, *, window: dt.timedelta | None = None) -> list[str]:
    """Each requirement that did not hold in `conditions` (environment.conditions_at), in the
    user's words: the last reading outside its limits, or no reading at all (in the last
    `window`, when the period is that window; else during the measurement)."""
    reasons = []
    minutes = int(window.total_seconds() // 60) if window else 0
    for name, quantity in conditions.quantities.items():
        label = Quantity(name).label if name in Quantity.values else name
        for check in quantity.checks:
            if check.held:
                continue
            req = check.requirement
            limits = limits_text(req.low, req.high, req.unit)
            source = _required_by(req, room)
            facts = {"quantity": label, "minutes": minutes, "limits": limits, "source": source}
            if not quantity.readings:
                reasons.append(
                    _(
                        "No %(quantity)s reading in the last %(minutes)s minutes "
                        "(%(limits)s required by %(source)s)."
                    )
                    % facts
                    if window
                    else _(
                        "No %(quantity)s reading during the measurement "
                        "(%(limits)s required by %(source)s)."
                    )
                    % facts
                )
                continue
            outside = [
                r for r in quantity.readings if not environment.within(r.value, req.low, req.high)
            ]
            value = outside[-1].value
            reasons.append(
                _("%(quantity)s %(value)s %(unit)s is outside %(limits)s required by %(source)s.")
                % {
                    "quantity": label,
                    "value": environment.plain_number(value),
                    "unit": quantity.unit,
                    "limits": limits,
                    "source": source,
                }
            )
    return reasons


def conditions_note(record: Record) -> str:
    """What the record says of its environment when it cannot check it."""
    if record.room_id is None:
        return _("No room is pinned to this record: its environmental conditions are not checked.")
    return ""


def thinned(readings: list[dict], limit: int = CONDITION_READINGS_KEPT) -> list[dict]:
    """At most `limit` readings, evenly spread, the smallest and the largest always kept."""
    if len(readings) <= limit:
        return readings
    last = len(readings) - 1
    keep = {
        min(range(len(readings)), key=lambda i: readings[i]["value"]),
        max(range(len(readings)), key=lambda i: readings[i]["value"]),
    }
    spread = max(2, limit - 2)
    keep |= {round(k * last / (spread - 1)) for k in range(spread)}
    return [readings[i] for i in sorted(keep)]


def stored_conditions(record: Record, end: dt.datetime) -> tuple[dict, bool | None, list[str]]:
    """The conditions over the measurement (from `CONDITIONS_WINDOW` before the record was
    opened, the window that had to hold, to `end`) as stored with the record: per quantity
    its unit, applied limits, min / max / mean, the number of readings, every requirement
    with held and the count outside, and the readings (at most
    `CONDITION_READINGS_KEPT`, min and max kept; "readings_total" tells how many there were).
    The raw readings are deleted after 31 days; these stay with the record. Also: each
    requirement that did not hold (`unmet_requirements`)."""
    if record.room is None:
        return {"room": None, "note": conditions_note(record)}, None, []
    start = record.started_at - CONDITIONS_WINDOW
    conditions = environment.conditions_at(record.room, start, max(end, start), record.method)
    data = conditions.as_dict()
    for quantity in data["quantities"].values():
        readings = quantity["readings"]
        quantity["readings_total"] = len(readings)
        quantity["readings"] = thinned(readings)
    return data, conditions.held, unmet_requirements(conditions, record.room)


# --- writing cells ---------------------------------------------------------------------------


def _is_device(user, record: Record) -> bool:
    return user.pk != record.measured_by_id and user.has_role(*RECORD_DEVICES)


def _require_draft(record: Record) -> None:
    if record.locked_at is not None:
        raise ServiceError(
            _("Record %(number)s is approved and locked; a correction is an amendment.")
            % {"number": record.number},
            code=RecordRefusal.LOCKED,
        )
    if record.status != Record.Status.DRAFT:
        raise ServiceError(
            _("Record %(number)s is %(status)s; only a draft can be changed.")
            % {"number": record.number, "status": record.get_status_display()},
            code=CoreRefusal.INVALID_TRANSITION,
        )


def _checked_values(record: Record, values: Any, *, device: bool) -> dict[str, str]:
    """The values, every fault at once: not text, too long, unknown or protected cells, and
    for a device anything but readings."""
    if not isinstance(values, Mapping):
        raise ServiceError(_("Send the values as cell → text."), field="values")
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not isinstance(value, str):
            errors.setdefault(str(key), []).append(_("A value is sent as text."))
        elif len(value) > CELL_TEXT:
            errors.setdefault(key, []).append(
                _("At most %(limit)s characters.") % {"limit": CELL_TEXT}
            )
        else:
            clean[key] = value.strip()
    if errors:
        raise ServiceError(
            _("Some values are not valid: %(cells)s.") % {"cells": ", ".join(errors)},
            field=next(iter(errors)),
            errors=errors,
        )
    merged = {**record.cells, **clean}
    known = calculation.input_cells(record, merged)
    protected_names = calculation.protected_names(record)
    protected = sorted(k for k in clean if calculation.is_protected(k, protected_names))
    if protected:
        raise ServiceError(
            _("These cells are fixed by the template and cannot be typed: %(cells)s.")
            % {"cells": ", ".join(protected)},
            code=RecordRefusal.PROTECTED_CELL,
            field=protected[0],
            errors={k: [_("Fixed by the template.")] for k in protected},
        )
    unknown = sorted(k for k in clean if k not in known)
    if unknown:
        raise ServiceError(
            _("The template has no cells %(cells)s.") % {"cells": ", ".join(unknown)},
            code=RecordRefusal.UNKNOWN_CELL,
            field=unknown[0],
            errors={k: [_("No such cell.")] for k in unknown},
        )
    if device:
        not_readings = sorted(k for k in clean if known[k].kind != "reading")
        if not_readings:
            raise ServiceError(
                _("A device writes readings only, not %(cells)s.")
                % {"cells": ", ".join(not_readings)},
                code=CoreRefusal.FORBIDDEN,
                field=not_readings[0],
            )
    return clean


def has_been_submitted(record: Record) -> bool:
    return record.submitted_at is not None


@service("record.write")
def record_write(
    *,
    record: Record,
    values: Mapping[str, str],
    actor: Any,
    reason: str = "",
    source: str = "page",
    taken_at: dt.datetime | None = None,
    instrument: str = "",
) -> Record:
    """Write cells of a draft record (R6.2c): the person who measures, or a device token
    acting for the task (readings only). A reading an instrument took in a procedure run
    (R8b) carries the moment it was taken (`taken_at`, kept as the change's time when it is
    not in the future) and the instrument's identity (`instrument`). Unknown and protected
    cells are refused; readings are refused while the environment does not hold
    (`measurement_blocked`). Every change of a cell leaves a RecordChange (old, new, who,
    when, the record's status, source); once the record has been submitted and came back, a
    reason is required. The template evaluates the cells and the results are stored."""
    user = require_person(actor)
    record = _locked(record)
    device = _is_device(user, record)
    if user.pk != record.measured_by_id and not device:
        raise ServiceError(
            _("Only the person who measures writes this record's values."),
            code=CoreRefusal.FORBIDDEN,
        )
    _require_draft(record)
    clean = _checked_values(record, values, device=device)
    changed = {k: v for k, v in clean.items() if (record.cells.get(k) or "") != v}
    if not changed:
        return record
    if has_been_submitted(record):
        _require_reason(reason, _("Say why the values are changed after the record's check."))
    merged_kinds = calculation.input_cells(record, {**record.cells, **changed})
    if any(merged_kinds[k].kind == "reading" for k in changed):
        blocked = measurement_blocked(record)
        if blocked:
            raise _refusal(
                _("Readings cannot be written while the conditions do not hold:"),
                blocked,
                code=RecordRefusal.CONDITIONS,
            )
    now = timezone.now()
    at = taken_at if taken_at is not None and taken_at <= now else now
    cells = dict(record.cells)
    for cell, new in changed.items():
        RecordChange.objects.create(
            record=record,
            cell=cell,
            old=cells.get(cell, ""),
            new=new,
            by=user,
            at=at,
            status=record.status,
            reason=(reason or "").strip(),
            source=(source or "")[:CODE],
            instrument=(instrument or "")[:NAME],
        )
        if new:
            cells[cell] = new
        else:
            cells.pop(cell, None)
    record.cells = cells
    _evaluate_into(record)
    record.save(update_fields=["cells", "results", "decision", "complete", "updated_at"])
    return record


ROLE_CELL = re.compile(r"^equipment\.(?P<asset_no>.+)\.role$")


def role_cell(asset_no: str) -> str:
    """The trail's name of a piece of equipment's role ("equipment.<asset no.>.role")."""
    return f"equipment.{asset_no}.role"


@service("record.set_roles")
def record_set_roles(
    *,
    record: Record,
    roles: Mapping[int, str],
    actor: Any,
    reason: str = "",
    source: str = "page",
) -> Record:
    """The person who measures changes the role of the record's equipment ({equipment pk:
    role, "" for none}; the pieces not named keep theirs) while it is a draft. Checked as at
    creation (`checked_roles`: template roles only, each at most once, the record's equipment
    only; every fault listed, nothing written). Each change leaves a RecordChange
    ("equipment.<asset no.>.role", old → new, the record's status, the reason — required
    once the record came back from its check); the record is evaluated again with the
    references of the new roles. Roles are part of the signed content: a change shows the
    signatures given before invalid."""
    user = require_person(actor)
    record = _locked(record)
    if user.pk != record.measured_by_id:
        raise ServiceError(
            _("Only the person who measures sets the roles of this record's equipment."),
            code=CoreRefusal.FORBIDDEN,
        )
    _require_draft(record)
    uses = {use.equipment_id: use for use in record.equipment_used.select_related("equipment")}
    clean = checked_roles(
        roles,
        pieces={pk: use.equipment for pk, use in uses.items()},
        current={pk: use.role for pk, use in uses.items()},
        roles=calculation.roles_of(record.template_version),
    )
    changed = {pk: role for pk, role in clean.items() if uses[pk].role != role}
    if not changed:
        return record
    if has_been_submitted(record):
        _require_reason(reason, _("Say why the roles are changed after the record's check."))
    now = timezone.now()
    for pk, role in sorted(changed.items(), key=lambda item: uses[item[0]].equipment.asset_no):
        use = uses[pk]
        RecordChange.objects.create(
            record=record,
            cell=role_cell(use.equipment.asset_no),
            old=use.role,
            new=role,
            by=user,
            at=now,
            status=record.status,
            reason=(reason or "").strip(),
            source=(source or "")[:64],
        )
        use.role = role
        use.save(update_fields=["role", "updated_at"])
    _evaluate_into(record)
    record.save(update_fields=["results", "decision", "complete", "updated_at"])
    return record


def record_preview(record: Record, values: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The evaluation of the record's cells with `values` laid over them, not saved (the live
    entry page): the engine's JSON with "results_table", the "cells" of the template for
    these parameters, and the readings' "blocked" reasons."""
    cells = {**record.cells, **{k: v for k, v in (values or {}).items() if isinstance(v, str)}}
    evaluation = calculation.evaluate(record, cells)
    return {
        **evaluation.as_json(),
        "results_table": evaluation.results_table(),
        "cells": [c.to_json() for c in calculation.input_cells(record, cells).values()],
    }


# --- who may sign --------------------------------------------------------------------------


def _step_problems(record: Record, user, step: str) -> tuple[list[str], str]:
    """(problems, refusal code) of `user` taking `step` ("submit", "check", "approve")."""
    problems: list[str] = []
    code = CoreRefusal.FORBIDDEN
    if step == "submit":
        if user.pk != record.measured_by_id:
            problems.append(_("Only the person who measured submits the record."))
        return problems, code
    roles, capacity, role_name = (
        (CHECKERS, CHECK, _("checker")) if step == "check" else (APPROVERS, APPROVE, _("approver"))
    )
    if user.pk == record.measured_by_id:
        code = RecordRefusal.SEGREGATION
        problems.append(
            _("You measured record %(number)s: someone else must check and approve it.")
            % {"number": record.number}
        )
    if step == "approve" and user.pk == record.checked_by_id:
        code = RecordRefusal.SEGREGATION
        problems.append(
            _("You checked record %(number)s: someone else must approve it.")
            % {"number": record.number}
        )
    if not holds(user, roles):
        problems.append(_("You do not hold the %(role)s role.") % {"role": role_name})
    eligibility = task_eligibility_problems(
        record.task, user, capacity=capacity, on=timezone.localdate()
    )
    if eligibility:
        if code == CoreRefusal.FORBIDDEN and holds(user, roles):
            code = RecordRefusal.NOT_ELIGIBLE
        problems += [p.message for p in eligibility]
    return problems, code


def _require_step(record: Record, user, step: str) -> None:
    problems, code = _step_problems(record, user, step)
    if problems:
        raise _refusal(_("You cannot sign this record:"), problems, code=code)


def _require_status(record: Record, *allowed: str) -> None:
    if record.status not in allowed:
        if record.locked_at is not None:
            _require_draft(record)
        raise ServiceError(
            _("Record %(number)s is %(status)s; this step is not possible now.")
            % {"number": record.number, "status": record.get_status_display()},
            code=CoreRefusal.INVALID_TRANSITION,
        )


def refuse_unless_may_sign(record: Record, actor: Any, step: str, *allowed: str) -> None:
    """The checks a signing step makes before asking for the password (read only): refuses,
    with every reason, unless `actor` may take `step` ("submit", "check", "approve") on the
    record in one of the `allowed` statuses now. The sign page asks it before showing the
    password field."""
    user = require_person(actor)
    current = Record.objects.select_related("task").get(pk=record.pk)
    _require_status(current, *allowed)
    _require_step(current, user, step)


def _signing_step(record: Record, actor: Any, step: str, status: str) -> tuple[Any, Record]:
    """(the signer, the record locked): inside a signing service, the checks again."""
    user = require_person(actor)
    record = _locked(record)
    _require_status(record, status)
    _require_step(record, user, step)
    return user, record


def _reauthenticated(signed, step: str, status: str, **kwargs) -> Record:
    """Run the signing service `signed` once the step is allowed and the signer proved who
    they are (outside its transaction, so that a failed proof is recorded)."""
    record, actor = kwargs["record"], kwargs["actor"]
    refuse_unless_may_sign(record, actor, step, status)
    _user, how = reauthenticate(actor=actor, password=kwargs["password"], otp=kwargs["otp"])
    return signed(record=record, actor=actor, authenticated_by=how, reason=kwargs["reason"])


# --- submit ----------------------------------------------------------------------------------


def _submit_problems(record: Record, evaluation) -> None:
    missing = calculation.missing_roles(record)
    if missing:
        raise _refusal(
            _("A role of the template is held by no equipment: set it before submitting."),
            [
                _("No equipment is the %(role)s of this record.")
                % {"role": role_label(role.name, role.label)}
                for role in missing
            ],
            code=RecordRefusal.ROLE_MISSING,
            field="roles",
        )
    below = [p for p in evaluation.problems if p.get("code") == "below_cmc"]
    if below:
        raise _refusal(
            _("An expanded uncertainty is smaller than the authorised CMC:"),
            [p["message"] for p in below],
            code=RecordRefusal.BELOW_CMC,
        )
    if evaluation.problems:
        raise _refusal(
            _("The record has problems to put right:"),
            [
                f"{p.get('cell') or p.get('field') or ''}: {p['message']}".lstrip(": ")
                for p in evaluation.problems
            ],
            code=RecordRefusal.INCOMPLETE,
        )
    if not evaluation.complete:
        raise ServiceError(
            _("The record is not complete: enter every reading and parameter first."),
            code=RecordRefusal.INCOMPLETE,
        )


@service("record.submit")
def record_submit_signed(
    *, record: Record, actor: Any, authenticated_by: str, reason: str = ""
) -> Record:
    """DRAFT → SUBMITTED, signed "measured" (call `record_submit`, which re-authenticates)."""
    user, record = _signing_step(record, actor, "submit", Record.Status.DRAFT)
    evaluation = calculation.evaluate(record)
    _submit_problems(record, evaluation)
    now = timezone.now()
    record.conditions, record.conditions_held, unmet = stored_conditions(record, now)
    if unmet and not reason.strip():
        # R6.8c: work done while a requirement did not hold is repeated, or submitted with
        # the measurer's explanation (kept with the transition and in the audit log).
        raise _refusal(
            _(
                "The environmental conditions did not hold during the measurement: repeat "
                "the affected readings, or give a remark explaining why the record stands."
            ),
            unmet,
            code=RecordRefusal.CONDITIONS,
            field="reason",
        )
    evaluation = _evaluate_into(record)  # the header shows the conditions now stored
    _submit_problems(record, evaluation)
    record.status = Record.Status.SUBMITTED
    record.submitted_at = now
    record.save(
        update_fields=[
            "conditions",
            "conditions_held",
            "results",
            "decision",
            "complete",
            "status",
            "submitted_at",
            "updated_at",
        ]
    )
    _transition(record, Record.Status.DRAFT, Record.Status.SUBMITTED, user, reason)
    sign(
        record,
        user=user,
        meaning=RecordSignature.Meaning.MEASURED,
        authenticated_by=authenticated_by,
    )
    if record.task.status == Task.Status.IN_PROGRESS:
        task_submit_for_check(task=record.task, actor=actor, ended_at=now)
    return record


def record_submit(
    *, record: Record, actor: Any, password: str, otp: str = "", reason: str = ""
) -> Record:
    """The person who measured submits the record for its check, signing it "measured"
    (re-authentication: services/signatures.py). It must be complete with no problems (an
    expanded uncertainty below the authorised CMC refuses with BELOW_CMC naming the point).
    The conditions over the measurement are stored with it; the task goes to checking and
    its equipment's usage entries are closed."""
    return _reauthenticated(
        record_submit_signed,
        "submit",
        Record.Status.DRAFT,
        record=record,
        actor=actor,
        password=password,
        otp=otp,
        reason=reason,
    )


# --- check and approve -----------------------------------------------------------------------


@service("record.check")
def record_check_signed(
    *, record: Record, actor: Any, authenticated_by: str, reason: str = ""
) -> Record:
    """SUBMITTED → CHECKED, signed "checked" (call `record_check`)."""
    user, record = _signing_step(record, actor, "check", Record.Status.SUBMITTED)
    record.status = Record.Status.CHECKED
    record.checked_by = user
    record.checked_at = timezone.now()
    record.save(update_fields=["status", "checked_by", "checked_at", "updated_at"])
    _transition(record, Record.Status.SUBMITTED, Record.Status.CHECKED, user, reason)
    sign(
        record,
        user=user,
        meaning=RecordSignature.Meaning.CHECKED,
        authenticated_by=authenticated_by,
    )
    return record


def record_check(
    *, record: Record, actor: Any, password: str, otp: str = "", reason: str = ""
) -> Record:
    """A checker (核验员) checks the submitted record and signs it "checked": not the person
    who measured, holding the checker role and eligible to check this work today."""
    return _reauthenticated(
        record_check_signed,
        "check",
        Record.Status.SUBMITTED,
        record=record,
        actor=actor,
        password=password,
        otp=otp,
        reason=reason,
    )


def _next_due(record: Record, evaluation, day: dt.date) -> dt.date | None:
    if record.decision in ("fail", "conditional_fail"):
        return None
    return evaluation.next_due(day)


@service("record.approve")
def record_approve_signed(
    *, record: Record, actor: Any, authenticated_by: str, reason: str = ""
) -> Record:
    """CHECKED → APPROVED and locked, signed "approved" (call `record_approve`)."""
    user, record = _signing_step(record, actor, "approve", Record.Status.CHECKED)
    now = timezone.now()
    record.status = Record.Status.APPROVED
    record.approved_by = user
    record.approved_at = now
    record.locked_at = now
    record.save(update_fields=["status", "approved_by", "approved_at", "locked_at", "updated_at"])
    _transition(record, Record.Status.CHECKED, Record.Status.APPROVED, user, reason)
    sign(
        record,
        user=user,
        meaning=RecordSignature.Meaning.APPROVED,
        authenticated_by=authenticated_by,
    )
    task = record.task
    if task.status == Task.Status.CHECKING:
        task_finish(task=task, actor=actor)
    if record.amends_id:
        old = Record.objects.select_for_update(of=("self",)).get(pk=record.amends_id)
        if old.status == Record.Status.APPROVED:
            old.status = Record.Status.SUPERSEDED
            old.save(update_fields=["status", "updated_at"])
            _transition(
                old,
                Record.Status.APPROVED,
                Record.Status.SUPERSEDED,
                user,
                _("Superseded by amendment %(number)s.") % {"number": record.number},
            )
    instrument = getattr(task.item.line, "instrument", None) if task.item.line_id else None
    if instrument is not None:
        served_on = timezone.localdate(now)
        evaluation = calculation.evaluate(record)
        instrument_served(
            instrument=instrument,
            served_on=served_on,
            next_due_date=_next_due(record, evaluation, served_on),
            actor=actor,
        )
    for listener in list(record_approved_listeners):
        listener(record=record, actor=actor)
    return record


def record_approve(
    *, record: Record, actor: Any, password: str, otp: str = "", reason: str = ""
) -> Record:
    """An approver (批准人) approves the checked record and signs it "approved": neither the
    person who measured nor the checker, holding the approver role and eligible to approve
    this work today. The record is locked; the task is done (the commission moves on); the
    customer's instrument register gets the service date and the next due date (the
    template's interval, none for a failed item); the listeners run (certificates)."""
    return _reauthenticated(
        record_approve_signed,
        "approve",
        Record.Status.CHECKED,
        record=record,
        actor=actor,
        password=password,
        otp=otp,
        reason=reason,
    )


# --- return, cancel, amend, delete -----------------------------------------------------------


@service("record.return")
def record_return(*, record: Record, actor: Any, reason: str) -> Record:
    """The checker (a submitted record) or the approver (a checked one) returns the record to
    its measurer with a reason: it is a draft again, the task in progress again. Signatures
    already given stay, and show invalid once the content changes."""
    user = require_person(actor)
    reason = _require_reason(reason, _("Say why the record is returned."))
    record = _locked(record)
    _require_status(record, Record.Status.SUBMITTED, Record.Status.CHECKED)
    roles = CHECKERS if record.status == Record.Status.SUBMITTED else (*CHECKERS, *APPROVERS)
    if user.pk == record.measured_by_id or not holds(user, roles):
        raise ServiceError(
            _("Only a checker or approver other than the measurer returns this record."),
            code=CoreRefusal.FORBIDDEN,
        )
    source = record.status
    record.status = Record.Status.DRAFT
    record.checked_by = None
    record.checked_at = None
    record.save(update_fields=["status", "checked_by", "checked_at", "updated_at"])
    _transition(record, source, Record.Status.DRAFT, user, reason)
    if record.task.status == Task.Status.CHECKING:
        task_return_to_work(task=record.task, actor=actor, reason=reason)
    return record


@service("record.cancel")
def record_cancel(*, record: Record, actor: Any, reason: str) -> Record:
    """The measurer or a lab manager cancels a record before its check ends (draft or
    submitted), with a reason: the task goes back to assigned (its equipment's usage closed),
    so that a lab manager may reassign it. An amendment's task stays done."""
    user = require_person(actor)
    reason = _require_reason(reason, _("Say why the record is cancelled."))
    record = _locked(record)
    if user.pk != record.measured_by_id and not holds(user, RECORD_MANAGERS):
        raise ServiceError(
            _("Only the person who measured or a lab manager cancels this record."),
            code=CoreRefusal.FORBIDDEN,
        )
    _require_status(record, Record.Status.DRAFT, Record.Status.SUBMITTED)
    source = record.status
    record.status = Record.Status.CANCELLED
    record.save(update_fields=["status", "updated_at"])
    _transition(record, source, Record.Status.CANCELLED, user, reason)
    task = record.task
    if task.status == Task.Status.CHECKING:
        task = task_return_to_work(task=task, actor=actor, reason=reason)
    if task.status == Task.Status.IN_PROGRESS:
        task_stop(task=task, actor=actor, reason=reason)
    return record


@service("record.amend")
def record_amend(*, record: Record, actor: Any, reason: str) -> Record:
    """A correction after approval (R6.2c): a new draft record amending the approved one
    (revision + 1, the same template version, method, room, equipment snapshots, header data
    and cells), measured by the actor (its measurer or a lab manager), with its own check and
    approval. The approved record stays locked; it is superseded once the amendment is
    approved. One open amendment at a time."""
    user = require_person(actor)
    reason = _require_reason(reason, _("Say what the amendment corrects."))
    record = _locked(record)
    if user.pk != record.measured_by_id and not holds(user, RECORD_MANAGERS):
        raise ServiceError(
            _("Only the person who measured or a lab manager amends this record."),
            code=CoreRefusal.FORBIDDEN,
        )
    if record.status != Record.Status.APPROVED:
        raise ServiceError(
            _("Record %(number)s is %(status)s; only an approved record is amended.")
            % {"number": record.number, "status": record.get_status_display()},
            code=CoreRefusal.INVALID_TRANSITION,
        )
    pending = record.amendments.filter(status__in=OPEN).first()
    if pending is not None:
        raise ServiceError(
            _("Amendment %(number)s of this record is open already.") % {"number": pending.number},
            code=RecordRefusal.OPEN_RECORD,
        )
    root = record.number.split("-R", 1)[0]
    revision = record.revision + 1
    today = timezone.localdate()
    amendment = Record.objects.create(
        number=f"{root}-R{revision}",
        task=record.task,
        template_version=record.template_version,
        method=record.method,
        room=record.room,
        amends=record,
        revision=revision,
        cells=dict(record.cells),
        results=record.results,
        decision=record.decision,
        complete=record.complete,
        context=record.context,
        measured_by=user,
        started_at=timezone.now(),
        retain_until=add_months(today, 12 * record.template_version.template.retention_years),
    )
    for use in record.equipment_used.all():
        RecordEquipment.objects.create(
            record=amendment,
            equipment_id=use.equipment_id,
            role=use.role,
            calibration_id=use.calibration_id,
            snapshot=use.snapshot,
        )
    _transition(amendment, "", Record.Status.DRAFT, user, reason)
    return amendment


@service("record.delete")
def record_delete(*, record: Record, actor: Any, reason: str) -> None:
    """A lab manager deletes a record, with its trail and signatures, once its retention
    period has ended (R6.12a): before, it is refused (RETAINED), and the database refuses
    it too."""
    reason = _require_reason(reason, _("Say why the record is deleted."))
    user = require_person(actor)
    if not holds(user, RECORD_MANAGERS):
        raise ServiceError(_("Only a lab manager deletes records."), code=CoreRefusal.FORBIDDEN)
    record = _locked(record)
    # The database's guard counts days in UTC: the later of the two dates must have passed.
    today = min(timezone.localdate(), timezone.now().astimezone(dt.UTC).date())
    if record.retain_until is None or record.retain_until >= today:
        raise ServiceError(
            _("Record %(number)s is kept until %(day)s and cannot be deleted before.")
            % {"number": record.number, "day": _day(record.retain_until) or "—"},
            code=RecordRefusal.RETAINED,
        )
    if record.amendments.exists():
        raise ServiceError(
            _("Record %(number)s has amendments; delete them first.") % {"number": record.number},
            code=CoreRefusal.CONFLICT,
        )
    for model in (RecordChange, RecordTransition, RecordSignature, RecordEquipment):
        for row in model.objects.filter(record=record):
            row.delete()
    record.delete()
