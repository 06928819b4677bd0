"""Writes of equipment (R6.5, R8c, R6.8a). Every function here is a service
(metrolab.core.service): one transaction, audited, and a refusal (ServiceError) leaves nothing
written.

- the register: `equipment_create`, `equipment_update`, `equipment_set_status` (with a
  reason; scrapped is final);
- its own calibrations (溯源): `equipment_calibration_add` with the results as data (points)
  and the certificate, `equipment_calibration_confirm` (计量确认: "the results meet the need";
  only confirmed calibrations count, JJF 1069-2012 §5.3 / GB/T 27025-2019 §6.4.4);
- intermediate checks (期间核查, GB/T 27025-2019 §6.4.10): plans, and results judged by the
  control-chart tests (`control_chart`), alerting the equipment managers and the custodian;
- maintenance, faults and repairs; the usage log (automatic from tasks, and manual);
- bookings (overlaps refused under the equipment's row lock); location (staff or an RFID
  zone reader, R8c); measurement standards (计量标准装置, R6.8a).

A call without a person as `actor` (the system, the demo, another service) is trusted; a person
must hold the role the operation needs (roles.py), as the pages and the API also require.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from metrolab.core.documents import document_store
from metrolab.core.pages import holds
from metrolab.core.roles import EQUIPMENT_MANAGER, LAB_STAFF
from metrolab.core.service import ServiceError, service
from metrolab.core.text import SHORT_TEXT, excerpt, text_checked
from metrolab.equipment import charts, control_chart
from metrolab.equipment.models import (
    Booking,
    CalibrationPoint,
    Equipment,
    EquipmentCalibration,
    IntermediateCheckPlan,
    IntermediateCheckResult,
    LocationEvent,
    MaintenanceRecord,
    MeasurementStandard,
    UsageRecord,
)
from metrolab.equipment.roles import (
    BOOKERS,
    CHECK_RECORDERS,
    EQUIPMENT_EDITORS,
    FAULT_REPORTERS,
    LOCATORS,
    MAINTAINERS,
    USAGE_RECORDERS,
)

S = Equipment.Status

CHECK_FAILED_EVENT = "equipment.check_failed"
FAULT_EVENT = "equipment.fault_reported"
MAX_POINTS = 200
MAX_BOOKING = dt.timedelta(days=31)
# A reader reporting the same tag in the same zone again within this window writes nothing.
READER_REPEAT_WINDOW = dt.timedelta(minutes=10)
_UID_SEPARATORS = re.compile(r"[\s:\-]")
_UID_VALID = re.compile(r"[0-9A-Z]{4,64}")


# --- helpers --------------------------------------------------------------------------------


def _person(actor: Any):
    """The signed-in person behind `actor`, or None for the system."""
    return actor if getattr(actor, "is_authenticated", False) and actor.pk else None


def _check_roles(actor: Any, roles: Iterable[str]) -> None:
    """Refuse a person without one of `roles`; the system (no person) is trusted."""
    user = _person(actor)
    if user is not None and not holds(user, roles):
        raise ServiceError(_("You are not allowed to do this."), code="forbidden")


def _require_person(actor: Any, roles: Iterable[str]):
    user = _person(actor)
    if user is None:
        raise ServiceError(_("A signed-in person must record this."), code="forbidden")
    _check_roles(user, roles)
    return user


def _today() -> dt.date:
    return timezone.localdate()


def _local_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def _text(values: dict, name: str, model, *, required: bool = False, label: str = "") -> str:
    value = (values.get(name) or "").strip()
    field = model._meta.get_field(name)
    if required and not value:
        raise ServiceError(
            _("%(field)s is required.") % {"field": label or field.verbose_name}, field=name
        )
    if field.max_length and len(value) > field.max_length:
        raise ServiceError(
            _("%(field)s is at most %(n)d characters.")
            % {"field": field.verbose_name, "n": field.max_length},
            field=name,
        )
    return value


def decimal_value(value: Any, field: str, label: str) -> Decimal:
    """A decimal as the models keep them (at most 9 decimals, 11 integer digits)."""
    if isinstance(value, Decimal):
        number = value
    else:
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except (InvalidOperation, ValueError):
            number = None
    if number is None or not number.is_finite():
        raise ServiceError(_("%(field)s must be a number.") % {"field": label}, field=field)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -9:
        raise ServiceError(
            _("%(field)s has more than 9 decimal places.") % {"field": label}, field=field
        )
    if abs(number) >= Decimal(10) ** 11:
        raise ServiceError(_("%(field)s is too large.") % {"field": label}, field=field)
    return number


def _not_future(day: dt.date | None, field: str, label: str) -> None:
    if day is not None and day > _today():
        raise ServiceError(_("%(field)s cannot be in the future.") % {"field": label}, field=field)


def _not_scrapped(equipment: Equipment) -> None:
    if equipment.status == S.SCRAPPED:
        raise ServiceError(
            _("%(equipment)s is scrapped: nothing more can be recorded on it.")
            % {"equipment": equipment},
            code="scrapped",
        )


def _locked(equipment: Equipment) -> Equipment:
    """The equipment's row, locked until the transaction ends (PostgreSQL row lock; SQLite's
    IMMEDIATE transaction already holds the single write lock)."""
    return Equipment.objects.select_for_update().get(pk=equipment.pk)


def normalise_tag_uid(raw: str) -> str:
    """A tag UID as stored: separators dropped, upper case (as for item tags, R6.6a)."""
    return _UID_SEPARATORS.sub("", raw or "").upper()


def equipment_managers() -> list:
    """The active people holding the equipment manager role (alert recipients)."""
    User = get_user_model()
    return list(
        User.objects.filter(groups__name=EQUIPMENT_MANAGER, is_active=True)
        .distinct()
        .order_by("pk")
    )


def _alert(equipment: Equipment, *, event: str, subject: str, body: str, related) -> None:
    """Tell the equipment managers and the equipment's custodian (inbox and e-mail)."""
    from metrolab.notifications.services import notify

    recipients = {u.pk: u for u in equipment_managers()}
    if equipment.custodian_id and equipment.custodian.is_active:
        recipients.setdefault(equipment.custodian_id, equipment.custodian)
    url = reverse("equipment:detail", args=[equipment.pk])
    for user in recipients.values():
        notify(
            event=event,
            subject=subject,
            body=f"{body}\n{url}",
            recipient_user=user,
            channels={"email": user.email},
            payload={"equipment": equipment.asset_no, "url": url},
            related=related,
        )


# --- the register ---------------------------------------------------------------------------

EQUIPMENT_TEXT_FIELDS = (
    "asset_no",
    "name",
    "model",
    "serial_no",
    "manufacturer",
    "range_text",
    "accuracy_text",
    "notes",
)
EQUIPMENT_FIELDS = frozenset(
    {
        *EQUIPMENT_TEXT_FIELDS,
        "kind",
        "discipline",
        "rfid_uid",
        "custodian",
        "purchase_date",
        "commissioning_date",
        "calibration_interval_months",
    }
)


def _custodian_checked(user) -> None:
    if user is not None and not (user.is_active and user.has_role(*LAB_STAFF)):
        raise ServiceError(
            _("The custodian must be an active member of the lab."), field="custodian"
        )


def _equipment_values(values: dict, current: Equipment | None) -> dict:
    unknown = set(values) - EQUIPMENT_FIELDS
    if unknown:
        raise TypeError(f"unknown equipment fields: {sorted(unknown)}")
    merged = {
        name: getattr(current, name) if current is not None else None for name in EQUIPMENT_FIELDS
    }
    merged.update(values)
    clean: dict[str, Any] = {}
    for name in EQUIPMENT_TEXT_FIELDS:
        clean[name] = _text(merged, name, Equipment, required=name in ("asset_no", "name"))
    kind = merged.get("kind") or Equipment.Kind.STANDARD
    if kind not in Equipment.Kind.values:
        raise ServiceError(_("Choose a kind of equipment."), field="kind")
    clean["kind"] = kind
    clean["discipline"] = merged.get("discipline")
    custodian = merged.get("custodian")
    _custodian_checked(custodian)
    clean["custodian"] = custodian
    uid = normalise_tag_uid(merged.get("rfid_uid") or "")
    if uid and not _UID_VALID.fullmatch(uid):
        raise ServiceError(
            _("A tag UID is 4 to 64 letters and digits (separators are ignored)."),
            field="rfid_uid",
        )
    clean["rfid_uid"] = uid or None
    interval = merged.get("calibration_interval_months")
    interval = 12 if interval in (None, "") else interval
    try:
        interval = int(interval)
    except (TypeError, ValueError):
        interval = 0
    if not 1 <= interval <= 120:
        raise ServiceError(
            _("The calibration interval is 1 to 120 months."), field="calibration_interval_months"
        )
    clean["calibration_interval_months"] = interval
    purchased, commissioned = merged.get("purchase_date"), merged.get("commissioning_date")
    _not_future(purchased, "purchase_date", _("The purchase date"))
    if purchased and commissioned and commissioned < purchased:
        raise ServiceError(
            _("It cannot be in service before it was purchased."), field="commissioning_date"
        )
    clean["purchase_date"], clean["commissioning_date"] = purchased, commissioned

    others = Equipment.objects.exclude(pk=current.pk) if current is not None else Equipment.objects
    if others.filter(asset_no__iexact=clean["asset_no"]).exists():
        raise ServiceError(
            _("Asset no. %(no)s is taken by other equipment.") % {"no": clean["asset_no"]},
            code="conflict",
            field="asset_no",
        )
    if uid and others.filter(rfid_uid=uid).exists():
        raise ServiceError(
            _("Tag %(uid)s is bound to other equipment already.") % {"uid": uid},
            code="conflict",
            field="rfid_uid",
        )
    return clean


@service("equipment.create")
def equipment_create(
    *,
    actor: Any,
    status: str = S.IN_SERVICE,
    location: str = "",
    reason: str = "",
    **values: Any,
) -> Equipment:
    """Register an item of equipment (R6.5a-b): a reference standard or auxiliary equipment
    with its asset no. (unique), identification, range and accuracy, custodian, dates and
    calibration interval; optionally where it is (a first location event)."""
    _check_roles(actor, EQUIPMENT_EDITORS)
    clean = _equipment_values(values, None)
    if status not in S.values or status == S.SCRAPPED:
        raise ServiceError(_("Choose the status it starts in."), field="status")
    location = (location or "").strip()
    if len(location) > 100:
        raise ServiceError(_("The location is at most 100 characters."), field="location")
    equipment = Equipment.objects.create(status=status, **clean)
    if location:
        _move(equipment, location, source=LocationEvent.Source.STAFF, by=_person(actor))
    return equipment


@service("equipment.update")
def equipment_update(
    *, equipment: Equipment, actor: Any, reason: str = "", **values: Any
) -> Equipment:
    """Change the register entry of an item of equipment (not its status or location, which
    have their own services)."""
    _check_roles(actor, EQUIPMENT_EDITORS)
    equipment = _locked(equipment)
    clean = _equipment_values(values, equipment)
    for name, value in clean.items():
        setattr(equipment, name, value)
    equipment.save()
    return equipment


def calibration_in_date(equipment: Equipment, on: dt.date | None = None):
    """The confirmed calibration in force on `on` (its date ≤ on ≤ its due date, the latest),
    or None."""
    on = on or _today()
    return (
        equipment.calibrations.filter(confirmed_at__isnull=False, date__lte=on, due_date__gte=on)
        .order_by("-date", "-pk")
        .first()
    )


def _return_to_service_problem(equipment: Equipment) -> str | None:
    """Equipment is returned to use only with a confirmed calibration in date (GB/T 27025-2019
    §6.4.4, JJF 1069-2012): software and other equipment that is not calibrated excepted."""
    if equipment.kind == Equipment.Kind.SOFTWARE:
        return None
    if calibration_in_date(equipment) is None:
        return _(
            "%(equipment)s has no confirmed calibration in date: enter and confirm its "
            "calibration before returning it to use."
        ) % {"equipment": equipment}
    return None


@service("equipment.set_status")
def _status_write(
    *,
    equipment: Equipment,
    status: str,
    reason: str,
    actor: Any = None,
    fields: dict[str, Any] | None = None,
) -> None:
    """The status write itself, as its own audited step with its own reason (so that a status
    changed by a confirmation or a fault report shows why in the status history); `fields`
    written with it (the out-of-control state)."""
    equipment.status = status
    for name, value in (fields or {}).items():
        setattr(equipment, name, value)
    equipment.save(update_fields=["status", *(fields or {}), "updated_at"])


def _status_change(
    equipment: Equipment,
    status: str,
    *,
    reason: str,
    actor: Any,
    fields: dict[str, Any] | None = None,
) -> None:
    _status_write(equipment=equipment, status=status, reason=reason, actor=actor, fields=fields)


# --- the out-of-control state (失控) ---------------------------------------------------------
#
# The one rule, applied only here: an intermediate check breaking a control-chart test puts
# the equipment out of control; usable equipment becomes restricted (限用), which forbids its
# use (bookings, assignment, starting a task: `Equipment.USABLE`). A later in-control check
# (when no other active plan's latest check is out of control) or a confirmed recalibration
# done after the failing check brings it back to the status it had. Each status change is
# audited with its reason; every page and the API read `Equipment.status` and
# `Equipment.out_of_control_check`.


def _failing_values(result: IntermediateCheckResult) -> dict:
    return {
        "quantity": result.plan.quantity,
        "date": result.date.isoformat(),
        "rules": charts.rules_text(result.rules_broken) or result.rules_broken,
    }


def out_of_control_reason(result: IntermediateCheckResult) -> str:
    """Why equipment is out of control, in the reader's language: which check broke which
    tests, and what brings it back."""
    return _(
        "Intermediate check of %(quantity)s on %(date)s out of control (%(rules)s): not to "
        "be used until an intermediate check is back in control or it is recalibrated."
    ) % _failing_values(result)


def _failing_results(equipment: Equipment) -> list[IntermediateCheckResult]:
    """The latest result of each active plan of the equipment, where it is out of control."""
    failing = []
    for plan in equipment.check_plans.filter(active=True).order_by("pk"):
        last = plan.results.select_related("plan").order_by("-date", "-pk").first()
        if last is not None and not last.passed:
            failing.append(last)
    return failing


def _put_out_of_control(
    equipment: Equipment, result: IntermediateCheckResult, *, actor: Any
) -> None:
    """A check broke a control-chart test: usable equipment becomes restricted (限用), with
    the reason; equipment already unusable keeps its status but stays out of control."""
    if equipment.status in Equipment.USABLE:
        with translation.override(settings.LANGUAGE_CODE):
            reason = _(
                "Intermediate check of %(quantity)s on %(date)s out of control (%(rules)s): "
                "restricted until it is back in control or recalibrated."
            ) % _failing_values(result)
        _status_change(
            equipment,
            S.RESTRICTED,
            reason=excerpt(reason, SHORT_TEXT),
            actor=actor,
            fields={
                "out_of_control_check": result,
                "status_before_restriction": equipment.status,
            },
        )
        return
    equipment.out_of_control_check = result
    equipment.save(update_fields=["out_of_control_check", "updated_at"])


def _back_in_control(equipment: Equipment, *, reason: str, actor: Any) -> None:
    """Leave the out-of-control state: restricted equipment gets back the status it had
    (合格 or 准用), with the reason; other statuses (停用, 维修) stay as they are."""
    if equipment.out_of_control_check_id is None:
        return
    cleared = {"out_of_control_check": None, "status_before_restriction": ""}
    if equipment.status == S.RESTRICTED:
        before = equipment.status_before_restriction
        restored = before if before in Equipment.USABLE else S.IN_SERVICE
        _status_change(
            equipment,
            restored,
            reason=excerpt(reason, SHORT_TEXT),
            actor=actor,
            fields=cleared,
        )
        return
    for name, value in cleared.items():
        setattr(equipment, name, value)
    equipment.save(update_fields=[*cleared, "updated_at"])


def check_result_judged(
    equipment: Equipment, result: IntermediateCheckResult, *, actor: Any
) -> None:
    """Apply the rule after a check result (called by `equipment_check_result_add`, and by the
    demo for the results it seeds): out of control, still out of control through another
    plan, or back in control."""
    if not result.passed:
        _put_out_of_control(equipment, result, actor=actor)
        return
    if equipment.out_of_control_check_id is None:
        return
    failing = _failing_results(equipment)
    if failing:
        equipment.out_of_control_check = failing[-1]
        equipment.save(update_fields=["out_of_control_check", "updated_at"])
        return
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Intermediate check of %(quantity)s on %(date)s back in control.") % {
            "quantity": result.plan.quantity,
            "date": result.date.isoformat(),
        }
    _back_in_control(equipment, reason=reason, actor=actor)


def _recalibrated(equipment: Equipment, calibration: EquipmentCalibration, *, actor: Any) -> None:
    """A confirmed calibration done on or after the failing check brings the equipment back
    into control."""
    failing = equipment.out_of_control_check
    if failing is None or calibration.date < failing.date:
        return
    with translation.override(settings.LANGUAGE_CODE):
        reason = _(
            "Recalibrated: calibration %(no)s of %(date)s confirmed after the intermediate "
            "check of %(quantity)s on %(check_date)s was out of control."
        ) % {
            "no": calibration.certificate_no,
            "date": calibration.date.isoformat(),
            "quantity": failing.plan.quantity,
            "check_date": failing.date.isoformat(),
        }
    _back_in_control(equipment, reason=reason, actor=actor)


@service("equipment.control_reconcile", record_calls=False)
def equipment_control_reconcile(*, actor: Any = None, reason: str = "") -> list[Equipment]:
    """Apply the out-of-control rule to checks recorded before it existed (after an upgrade):
    equipment whose active plan's latest check is out of control, with no confirmed
    calibration done on or after that check, is put out of control — restricted if it was
    usable — audited with the reason. Equipment already in that state is left alone. Returns
    the equipment it changed (`metrolab equipment_control`)."""
    changed = []
    candidates = Equipment.objects.exclude(status=S.SCRAPPED).filter(
        out_of_control_check__isnull=True
    )
    for equipment in candidates.order_by("pk"):
        failing = _failing_results(equipment)
        if not failing:
            continue
        latest = max(failing, key=lambda r: (r.date, r.pk))
        recalibrated = equipment.calibrations.filter(
            confirmed_at__isnull=False, date__gte=latest.date
        ).exists()
        if recalibrated:
            continue
        equipment = _locked(equipment)
        _put_out_of_control(equipment, latest, actor=actor)
        changed.append(equipment)
    return changed


def _out_of_control_problem(equipment: Equipment) -> str | None:
    """Why out-of-control equipment may not be returned to use by a status change."""
    if equipment.out_of_control_check_id is None:
        return None
    return _(
        "%(equipment)s is out of statistical control: %(reason)s Record an intermediate check "
        "in control or confirm a new calibration."
    ) % {"equipment": equipment, "reason": out_of_control_reason(equipment.out_of_control_check)}


@service("equipment.set_status")
def equipment_set_status(
    *, equipment: Equipment, status: str, reason: str, actor: Any
) -> Equipment:
    """Change the status of an item of equipment (合格 / 准用 / 停用 / 维修 / 报废, R6.5c),
    with the reason (kept in the audit log and shown in its status history). Scrapping is
    final; returning to use needs a confirmed calibration in date."""
    _check_roles(actor, EQUIPMENT_EDITORS)
    equipment = _locked(equipment)
    if status not in S.values:
        raise ServiceError(_("Choose a status."), field="status")
    if not (reason or "").strip():
        raise ServiceError(_("Give the reason for the change of status."), field="reason")
    text_checked(reason.strip(), limit=SHORT_TEXT, field="reason", label=_("Reason"))
    if equipment.status == S.SCRAPPED:
        raise ServiceError(
            _("%(equipment)s is scrapped; its status cannot change any more.")
            % {"equipment": equipment},
            code="scrapped",
            field="status",
        )
    if status == equipment.status:
        raise ServiceError(
            _("%(equipment)s is %(status)s already.")
            % {"equipment": equipment, "status": equipment.get_status_display()},
            field="status",
        )
    if status in Equipment.USABLE:
        problem = _out_of_control_problem(equipment)
        if problem:
            raise ServiceError(problem, code="out_of_control", field="status")
    if status in Equipment.USABLE and equipment.status not in Equipment.USABLE:
        problem = _return_to_service_problem(equipment)
        if problem:
            raise ServiceError(problem, code="calibration_required", field="status")
    _status_change(equipment, status, reason=reason.strip(), actor=actor)
    return equipment


# --- calibrations ---------------------------------------------------------------------------


def _points_checked(points: Iterable[dict]) -> list[dict]:
    checked, seen = [], set()
    for n, raw in enumerate(points, start=1):
        if len(checked) >= MAX_POINTS:
            raise ServiceError(
                _("At most %(n)d points per calibration.") % {"n": MAX_POINTS}, field="points"
            )
        unit = str(raw.get("unit") or "").strip()
        where = _("Point %(n)d") % {"n": n}
        if not unit:
            raise ServiceError(_("%(point)s: give the unit.") % {"point": where}, field="points")
        if len(unit) > 20:
            raise ServiceError(
                _("%(point)s: the unit is at most 20 characters.") % {"point": where},
                field="points",
            )
        u = raw.get("expanded_uncertainty", raw.get("U"))
        k = raw.get("coverage_factor", raw.get("k"))
        point = {
            "nominal": decimal_value(
                raw.get("nominal"), "points", f"{where}: {_('nominal value')}"
            ),
            "unit": unit,
            "correction": decimal_value(
                raw.get("correction"), "points", f"{where}: {_('correction')}"
            ),
            "expanded_uncertainty": decimal_value(u, "points", f"{where}: U"),
            "coverage_factor": decimal_value(2 if k in (None, "") else k, "points", f"{where}: k"),
        }
        if point["expanded_uncertainty"] <= 0:
            raise ServiceError(
                _("%(point)s: the expanded uncertainty U must be greater than 0.")
                % {"point": where},
                field="points",
            )
        k_value = point["coverage_factor"]
        if not Decimal(1) <= k_value <= Decimal(10) or k_value != k_value.quantize(Decimal("0.01")):
            raise ServiceError(
                _("%(point)s: the coverage factor k is between 1 and 10 (2 decimals).")
                % {"point": where},
                field="points",
            )
        key = (point["nominal"], unit)
        if key in seen:
            raise ServiceError(
                _("%(point)s: %(nominal)s %(unit)s is given twice.")
                % {"point": where, "nominal": point["nominal"], "unit": unit},
                field="points",
            )
        seen.add(key)
        checked.append(point)
    return checked


@service("equipment.calibration_add")
def equipment_calibration_add(
    *,
    equipment: Equipment,
    certificate_no: str,
    body: str,
    date: dt.date,
    due_date: dt.date,
    actor: Any,
    points: Iterable[dict] = (),
    result_summary: str = "",
    upload: Any = None,
    reason: str = "",
) -> EquipmentCalibration:
    """Enter an external calibration / verification of the lab's equipment (R6.5c): the
    certificate no. and calibrating body, the dates, the results as data — at each point the
    nominal value, unit, correction, expanded uncertainty U and coverage factor k — and the
    certificate itself (PDF or image). It counts only once confirmed
    (`equipment_calibration_confirm`)."""
    _check_roles(actor, EQUIPMENT_EDITORS)
    equipment = _locked(equipment)
    _not_scrapped(equipment)
    values = {"certificate_no": certificate_no, "body": body, "result_summary": result_summary}
    certificate_no = _text(values, "certificate_no", EquipmentCalibration, required=True)
    body = _text(values, "body", EquipmentCalibration, required=True)
    result_summary = _text(values, "result_summary", EquipmentCalibration)
    if date is None:
        raise ServiceError(_("Give the calibration date."), field="date")
    if due_date is None:
        raise ServiceError(_("Give the due date."), field="due_date")
    _not_future(date, "date", _("The calibration date"))
    if due_date <= date:
        raise ServiceError(_("The due date must be after the calibration date."), field="due_date")
    if equipment.calibrations.filter(certificate_no__iexact=certificate_no).exists():
        raise ServiceError(
            _("Certificate %(no)s of this equipment has been entered already.")
            % {"no": certificate_no},
            code="conflict",
            field="certificate_no",
        )
    checked = _points_checked(points)
    document = document_store(upload, field="file") if upload is not None else None
    calibration = EquipmentCalibration(
        equipment=equipment,
        certificate_no=certificate_no,
        body=body,
        date=date,
        due_date=due_date,
        result_summary=result_summary,
        entered_by=_person(actor),
    )
    if document is not None:
        calibration.attach(document)
    calibration.save()
    for point in checked:
        CalibrationPoint.objects.create(calibration=calibration, **point)
    return calibration


@service("equipment.calibration_confirm")
def equipment_calibration_confirm(
    *,
    calibration: EquipmentCalibration,
    actor: Any,
    note: str,
    return_to_service: bool = False,
    reason: str = "",
) -> EquipmentCalibration:
    """Metrological confirmation (计量确认, JJF 1069-2012, GB/T 27025-2019 §6.4.4 and 6.4.7):
    the equipment manager states that the calibration results meet the need. Only confirmed
    calibrations count for use. When asked, equipment that was out of service or under repair
    returns to service with it."""
    _check_roles(actor, EQUIPMENT_EDITORS)
    calibration = (
        EquipmentCalibration.objects.select_for_update()
        .select_related("equipment")
        .get(pk=calibration.pk)
    )
    equipment = _locked(calibration.equipment)
    _not_scrapped(equipment)
    if calibration.confirmed:
        raise ServiceError(_("This calibration has been confirmed already."), code="conflict")
    if calibration.due_date < _today():
        raise ServiceError(
            _("This calibration expired on %(due)s: it cannot be confirmed any more.")
            % {"due": calibration.due_date.isoformat()},
            code="expired",
        )
    note = (note or "").strip()
    if not note:
        raise ServiceError(
            _("State how the results meet the need (e.g. corrections within the limits)."),
            field="note",
        )
    calibration.confirmed_by = _person(actor)
    calibration.confirmed_at = timezone.now()
    calibration.confirmation_note = note
    calibration.save()
    _recalibrated(equipment, calibration, actor=actor)
    if (
        return_to_service
        and equipment.status in (S.OUT_OF_SERVICE, S.UNDER_REPAIR)
        and not equipment.out_of_control
    ):
        with translation.override(settings.LANGUAGE_CODE):
            why = _("Calibration %(no)s confirmed: %(note)s") % {
                "no": calibration.certificate_no,
                "note": note,
            }
        _status_change(equipment, S.IN_SERVICE, reason=excerpt(why, SHORT_TEXT), actor=actor)
    return calibration


# --- intermediate checks --------------------------------------------------------------------

PLAN_FIELDS = frozenset(
    {
        "quantity",
        "method",
        "check_standard",
        "unit",
        "interval_days",
        "reference_value",
        "lower_limit",
        "upper_limit",
        "lower_warning",
        "upper_warning",
        "first_due",
        "active",
    }
)


def _plan_values(values: dict, current: IntermediateCheckPlan | None) -> dict:
    unknown = set(values) - PLAN_FIELDS
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    merged = {name: getattr(current, name) if current else None for name in PLAN_FIELDS}
    merged.update(values)
    clean: dict[str, Any] = {
        "quantity": _text(merged, "quantity", IntermediateCheckPlan, required=True),
        "method": _text(merged, "method", IntermediateCheckPlan),
        "check_standard": _text(merged, "check_standard", IntermediateCheckPlan),
        "unit": _text(merged, "unit", IntermediateCheckPlan, required=True),
    }
    interval = merged.get("interval_days")
    try:
        interval = int(90 if interval in (None, "") else interval)
    except (TypeError, ValueError):
        interval = 0
    if not 1 <= interval <= 3660:
        raise ServiceError(_("The interval is 1 to 3660 days."), field="interval_days")
    clean["interval_days"] = interval
    labels = {
        "reference_value": _("The centre line"),
        "lower_limit": _("The lower control limit"),
        "upper_limit": _("The upper control limit"),
        "lower_warning": _("The lower warning limit"),
        "upper_warning": _("The upper warning limit"),
    }
    for name, label in labels.items():
        raw = merged.get(name)
        if raw in (None, ""):
            if name in ("lower_warning", "upper_warning"):
                clean[name] = None
                continue
            raise ServiceError(_("%(field)s is required.") % {"field": label}, field=name)
        clean[name] = decimal_value(raw, name, label)
    if not clean["lower_limit"] < clean["reference_value"] < clean["upper_limit"]:
        raise ServiceError(
            _("The limits must satisfy: lower control limit < centre line < upper control limit."),
            field="upper_limit",
        )
    low_warn, high_warn = clean["lower_warning"], clean["upper_warning"]
    if low_warn is not None and not clean["lower_limit"] < low_warn < clean["reference_value"]:
        raise ServiceError(
            _("The lower warning limit lies between the lower control limit and the centre line."),
            field="lower_warning",
        )
    if high_warn is not None and not clean["reference_value"] < high_warn < clean["upper_limit"]:
        raise ServiceError(
            _("The upper warning limit lies between the centre line and the upper control limit."),
            field="upper_warning",
        )
    clean["first_due"] = merged.get("first_due") or _today()
    clean["active"] = True if merged.get("active") is None else bool(merged.get("active"))
    return clean


@service("equipment.check_plan_create")
def equipment_check_plan_create(
    *, equipment: Equipment, actor: Any, reason: str = "", **values: Any
) -> IntermediateCheckPlan:
    """Plan the intermediate checks (期间核查) of an item of equipment: the quantity checked,
    how and with what check standard, how often, and the chart's centre line and limits."""
    _check_roles(actor, EQUIPMENT_EDITORS)
    equipment = _locked(equipment)
    _not_scrapped(equipment)
    return IntermediateCheckPlan.objects.create(equipment=equipment, **_plan_values(values, None))


@service("equipment.check_plan_update")
def equipment_check_plan_update(
    *, plan: IntermediateCheckPlan, actor: Any, reason: str = "", **values: Any
) -> IntermediateCheckPlan:
    """Change a plan (e.g. new limits after a recalibration, or stop it with active=False).
    Results already recorded keep the judgement they were given."""
    _check_roles(actor, EQUIPMENT_EDITORS)
    plan = IntermediateCheckPlan.objects.select_for_update().get(pk=plan.pk)
    for name, value in _plan_values(values, plan).items():
        setattr(plan, name, value)
    plan.save()
    return plan


@service("equipment.check_result_add")
def equipment_check_result_add(
    *,
    plan: IntermediateCheckPlan,
    date: dt.date,
    value: Any,
    actor: Any,
    note: str = "",
    reason: str = "",
) -> IntermediateCheckResult:
    """Record an intermediate check and judge it on the control chart (ISO 7870-2 tests 1, 2,
    3 and 5, `control_chart`): the result keeps whether it is in control and the tests it
    broke. A broken test alerts the equipment managers and the equipment's custodian."""
    user = _require_person(actor, CHECK_RECORDERS)
    plan = (
        IntermediateCheckPlan.objects.select_for_update()
        .select_related("equipment")
        .get(pk=plan.pk)
    )
    equipment = plan.equipment
    _not_scrapped(equipment)
    if not plan.active:
        raise ServiceError(_("This check plan is not active."), code="inactive")
    if date is None:
        raise ServiceError(_("Give the date of the check."), field="date")
    _not_future(date, "date", _("The date of the check"))
    previous = list(plan.results.order_by("date", "pk"))
    if previous and date < previous[-1].date:
        raise ServiceError(
            _("Results are entered in order: the last one is of %(date)s.")
            % {"date": previous[-1].date.isoformat()},
            field="date",
        )
    value = decimal_value(value, "value", _("The value"))
    note = _text({"note": note}, "note", IntermediateCheckResult)
    rules = control_chart.rules_broken(
        [r.value for r in previous] + [value], charts.plan_limits(plan)
    )
    result = IntermediateCheckResult.objects.create(
        plan=plan,
        date=date,
        value=value,
        performed_by=user,
        passed=not rules,
        rules_broken=charts.rules_stored(rules),
        note=note,
    )
    equipment = _locked(equipment)
    check_result_judged(equipment, result, actor=user)
    if rules:
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Intermediate check out of control: %(equipment)s") % {
                "equipment": equipment
            }
            body = _(
                "%(quantity)s on %(date)s: %(value)s %(unit)s (centre line %(centre)s, limits "
                "%(low)s – %(high)s). Broken: %(rules)s."
            ) % {
                "quantity": plan.quantity,
                "date": date.isoformat(),
                "value": f"{value.normalize():f}",
                "unit": plan.unit,
                "centre": f"{plan.reference_value.normalize():f}",
                "low": f"{plan.lower_limit.normalize():f}",
                "high": f"{plan.upper_limit.normalize():f}",
                "rules": charts.rules_text(result.rules_broken),
            }
        _alert(equipment, event=CHECK_FAILED_EVENT, subject=subject, body=body, related=result)
    return result


# --- maintenance, faults, repairs -----------------------------------------------------------


@service("equipment.maintenance_add")
def equipment_maintenance_add(
    *,
    equipment: Equipment,
    kind: str,
    date: dt.date,
    description: str,
    actor: Any,
    outcome: str = "",
    take_out_of_service: bool = False,
    reason: str = "",
) -> MaintenanceRecord:
    """Record maintenance, a fault or a repair (R6.5c). Anyone of the lab may report a fault
    and take the equipment out of service with it (GB/T 27025-2019 §6.4.9); the equipment
    managers and the custodian are told of every fault."""
    if kind not in MaintenanceRecord.Kind.values:
        raise ServiceError(_("Choose maintenance, fault or repair."), field="kind")
    fault = kind == MaintenanceRecord.Kind.FAULT
    user = _require_person(actor, FAULT_REPORTERS if fault else MAINTAINERS)
    equipment = _locked(equipment)
    _not_scrapped(equipment)
    if date is None:
        raise ServiceError(_("Give the date."), field="date")
    _not_future(date, "date", _("The date"))
    values = {"description": description, "outcome": outcome}
    description = _text(values, "description", MaintenanceRecord, required=True)
    outcome = _text(values, "outcome", MaintenanceRecord)
    if take_out_of_service and not fault:
        raise ServiceError(
            _("Only a fault report takes equipment out of service here; use the status."),
            field="take_out_of_service",
        )
    record = MaintenanceRecord.objects.create(
        equipment=equipment,
        kind=kind,
        date=date,
        description=description,
        outcome=outcome,
        by=user,
    )
    if take_out_of_service and equipment.status in (*Equipment.USABLE, S.RESTRICTED):
        with translation.override(settings.LANGUAGE_CODE):
            why = _("Fault reported: %(description)s") % {"description": description}
        _status_change(equipment, S.OUT_OF_SERVICE, reason=excerpt(why, SHORT_TEXT), actor=user)
    if fault:
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Fault reported: %(equipment)s") % {"equipment": equipment}
            body = _("%(who)s on %(date)s: %(description)s. Status: %(status)s.") % {
                "who": user,
                "date": date.isoformat(),
                "description": description,
                "status": equipment.get_status_display(),
            }
        _alert(equipment, event=FAULT_EVENT, subject=subject, body=body, related=record)
    return record


# --- usage ----------------------------------------------------------------------------------


@service("equipment.usage_record")
def equipment_usage_record(
    *,
    equipment: Equipment,
    user: Any,
    task: Any = None,
    started_at: dt.datetime,
    ended_at: dt.datetime | None = None,
    source: str = UsageRecord.Source.MANUAL,
    note: str = "",
    actor: Any = None,
    condition_before: str = "",
) -> UsageRecord:
    """Write a use of equipment in its usage log (使用记录, R6.5b): automatically when a task
    using it starts (source "auto", called by the tasks and later the records), or by hand.
    The same task's open automatic entry is not written twice. A person enters manual uses
    for themself; the equipment manager also for others."""
    if source not in UsageRecord.Source.values:
        raise ServiceError(_("Unknown source of a usage entry."), field="source")
    if getattr(user, "pk", None) is None:
        raise ServiceError(_("Say who used the equipment."), field="user")
    person = _person(actor)
    if source == UsageRecord.Source.MANUAL:
        _check_roles(actor, USAGE_RECORDERS)
        if person is not None and person.pk != user.pk and not holds(person, EQUIPMENT_EDITORS):
            raise ServiceError(
                _("You may enter only your own use of equipment."), code="forbidden", field="user"
            )
    equipment = _locked(equipment)
    if started_at is None:
        raise ServiceError(_("Give when the use started."), field="started_at")
    if ended_at is not None and ended_at <= started_at:
        raise ServiceError(_("The use must end after it started."), field="ended_at")
    if source == UsageRecord.Source.MANUAL:
        _not_scrapped(equipment)
        if started_at > timezone.now() + dt.timedelta(minutes=5):
            raise ServiceError(_("A use cannot start in the future."), field="started_at")
    if task is not None and source == UsageRecord.Source.AUTOMATIC:
        existing = UsageRecord.objects.filter(
            equipment=equipment, task=task, source=source, ended_at__isnull=True
        ).first()
        if existing is not None:
            return existing
    values = {"note": note, "condition_before": condition_before}
    return UsageRecord.objects.create(
        equipment=equipment,
        task=task,
        user=user,
        started_at=started_at,
        ended_at=ended_at,
        source=source,
        condition_before=_text(values, "condition_before", UsageRecord),
        note=_text(values, "note", UsageRecord),
    )


@service("equipment.usage_close")
def equipment_usage_close(
    *,
    usage: UsageRecord,
    actor: Any = None,
    ended_at: dt.datetime | None = None,
    condition_after: str = "",
    reason: str = "",
) -> UsageRecord:
    """Close an open usage entry (its end and the condition after use). Its user closes it,
    or the equipment manager."""
    usage = UsageRecord.objects.select_for_update().get(pk=usage.pk)
    person = _person(actor)
    if person is not None and person.pk != usage.user_id and not holds(person, EQUIPMENT_EDITORS):
        raise ServiceError(_("Only its user closes this usage entry."), code="forbidden")
    if usage.ended_at is not None:
        raise ServiceError(_("This usage entry is closed already."), code="conflict")
    ended_at = ended_at or timezone.now()
    if ended_at <= usage.started_at:
        raise ServiceError(_("The use must end after it started."), field="ended_at")
    usage.ended_at = ended_at
    usage.condition_after = _text(
        {"condition_after": condition_after}, "condition_after", UsageRecord
    )
    usage.save()
    return usage


@service("equipment.usage_close_for_task")
def equipment_usage_close_for_task(
    *, task: Any, actor: Any = None, ended_at: dt.datetime | None = None
) -> list[UsageRecord]:
    """Close the open automatic usage entries of a task (when its work ends)."""
    ended_at = ended_at or timezone.now()
    closed = []
    for usage in UsageRecord.objects.select_for_update().filter(
        task=task, source=UsageRecord.Source.AUTOMATIC, ended_at__isnull=True
    ):
        usage.ended_at = max(ended_at, usage.started_at + dt.timedelta(seconds=1))
        usage.save(update_fields=["ended_at", "updated_at"])
        closed.append(usage)
    return closed


# --- bookings -------------------------------------------------------------------------------


def booking_overlaps(equipment: Equipment, starts_at: dt.datetime, ends_at: dt.datetime):
    """Live bookings of the equipment that share some time with [starts_at, ends_at)."""
    return Booking.objects.filter(
        equipment=equipment, cancelled=False, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).select_related("user")


@service("equipment.booking_create")
def equipment_booking_create(
    *,
    equipment: Equipment,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    actor: Any,
    purpose: str = "",
    user: Any = None,
    reason: str = "",
) -> Booking:
    """Book equipment for a period (预约). Refused when it overlaps another live booking: the
    check and the new booking happen under the equipment's row lock, so two people cannot
    both take the same hour. Equipment that is not usable cannot be booked."""
    person = _require_person(actor, BOOKERS)
    user = user or person
    if user.pk != person.pk and not holds(person, EQUIPMENT_EDITORS):
        raise ServiceError(_("You may book only for yourself."), code="forbidden", field="user")
    equipment = _locked(equipment)
    if equipment.status not in Equipment.USABLE:
        raise ServiceError(
            _("%(equipment)s is %(status)s: it cannot be booked.")
            % {"equipment": equipment, "status": equipment.get_status_display()},
            code="not_usable",
            field="equipment",
        )
    if starts_at is None or ends_at is None:
        raise ServiceError(_("Give the start and the end of the booking."), field="starts_at")
    if ends_at <= starts_at:
        raise ServiceError(_("The booking must end after it starts."), field="ends_at")
    if ends_at <= timezone.now():
        raise ServiceError(_("This period is over already."), field="starts_at")
    if ends_at - starts_at > MAX_BOOKING:
        raise ServiceError(
            _("A booking lasts at most %(days)d days.") % {"days": MAX_BOOKING.days},
            field="ends_at",
        )
    purpose = _text({"purpose": purpose}, "purpose", Booking)
    clash = booking_overlaps(equipment, starts_at, ends_at).order_by("starts_at").first()
    if clash is not None:
        start, end = timezone.localtime(clash.starts_at), timezone.localtime(clash.ends_at)
        raise ServiceError(
            _("%(equipment)s is booked by %(user)s from %(start)s to %(end)s.")
            % {
                "equipment": equipment,
                "user": clash.user,
                "start": start.strftime("%Y-%m-%d %H:%M"),
                "end": end.strftime("%Y-%m-%d %H:%M"),
            },
            code="conflict",
            field="starts_at",
        )
    return Booking.objects.create(
        equipment=equipment, user=user, starts_at=starts_at, ends_at=ends_at, purpose=purpose
    )


@service("equipment.booking_cancel")
def equipment_booking_cancel(*, booking: Booking, actor: Any, reason: str = "") -> Booking:
    """Cancel a booking that has not ended: one's own, or any for the equipment manager."""
    person = _require_person(actor, BOOKERS)
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.user_id != person.pk and not holds(person, EQUIPMENT_EDITORS):
        raise ServiceError(_("You may cancel only your own bookings."), code="forbidden")
    if booking.cancelled:
        raise ServiceError(_("This booking is cancelled already."), code="conflict")
    if booking.ends_at <= timezone.now():
        raise ServiceError(_("This booking is over; it cannot be cancelled."), code="conflict")
    booking.cancelled = True
    booking.save(update_fields=["cancelled", "updated_at"])
    return booking


# --- location (R8c) -------------------------------------------------------------------------


def _location_checked(location: str) -> str:
    location = (location or "").strip()
    if not location:
        raise ServiceError(_("Say where the equipment is."), field="location")
    if len(location) > 100:
        raise ServiceError(_("The location is at most 100 characters."), field="location")
    return location


def _move(equipment: Equipment, location: str, *, source: str, by=None, reader: str = ""):
    now = timezone.now()
    event = LocationEvent.objects.create(
        equipment=equipment, location=location, at=now, source=source, by=by, reader=reader
    )
    equipment.location = location
    equipment.location_updated_at = now
    equipment.save(update_fields=["location", "location_updated_at", "updated_at"])
    return event


@service("equipment.locate")
def equipment_locate(
    *, equipment: Equipment, location: str, actor: Any, reason: str = ""
) -> LocationEvent:
    """Say where an item of equipment is now (R8c), as a member of the lab."""
    person = _require_person(actor, LOCATORS)
    location = _location_checked(location)
    equipment = _locked(equipment)
    return _move(equipment, location, source=LocationEvent.Source.STAFF, by=person)


@service("equipment.locate_by_tag", record_calls=False)
def equipment_locate_by_tag(
    *, uid: str, location: str, reader: str, actor: Any = None
) -> LocationEvent:
    """An RFID zone reader saw the tag `uid` in `location` (R8c): a location event from the
    reader, and the equipment's location. The same reader reporting the same tag in the same
    place again within a few minutes writes nothing (readers repeat themselves). An unknown
    UID is refused (code "not_found")."""
    location = _location_checked(location)
    reader = (reader or "").strip()
    if not reader:
        raise ServiceError(_("Name the reader."), field="reader")
    if len(reader) > 100:
        raise ServiceError(_("The reader's name is at most 100 characters."), field="reader")
    key = normalise_tag_uid(uid)
    equipment = Equipment.objects.select_for_update().filter(rfid_uid=key).first() if key else None
    if equipment is None:
        raise ServiceError(
            _("No equipment carries the tag %(uid)s.") % {"uid": key or uid},
            code="not_found",
            field="uid",
        )
    last = equipment.location_events.order_by("-at", "-pk").first()
    if (
        last is not None
        and equipment.location == location
        and last.location == location
        and last.source == LocationEvent.Source.READER
        and last.reader == reader
        and timezone.now() - last.at < READER_REPEAT_WINDOW
    ):
        return last
    return _move(
        equipment,
        location,
        source=LocationEvent.Source.READER,
        by=_person(actor),
        reader=reader,
    )


# --- measurement standards (R6.8a) ----------------------------------------------------------

STANDARD_TEXT_FIELDS = (
    "name",
    "certificate_no",
    "certificate_issuer",
    "measurands",
    "range_text",
    "uncertainty_text",
)
STANDARD_FIELDS = frozenset(
    {
        *STANDARD_TEXT_FIELDS,
        "certificate_issued",
        "certificate_expiry",
        "discipline",
        "custodian",
        "active",
    }
)


def _standard_values(values: dict, current: MeasurementStandard | None) -> dict:
    unknown = set(values) - STANDARD_FIELDS
    if unknown:
        raise TypeError(f"unknown standard fields: {sorted(unknown)}")
    merged = {name: getattr(current, name) if current else None for name in STANDARD_FIELDS}
    merged.update(values)
    required = ("name", "certificate_no", "measurands", "range_text")
    clean: dict[str, Any] = {
        name: _text(merged, name, MeasurementStandard, required=name in required)
        for name in STANDARD_TEXT_FIELDS
    }
    issued, expiry = merged.get("certificate_issued"), merged.get("certificate_expiry")
    if expiry is None:
        raise ServiceError(_("Give the expiry of the certificate."), field="certificate_expiry")
    _not_future(issued, "certificate_issued", _("The issue date"))
    if issued and expiry <= issued:
        raise ServiceError(
            _("The certificate must expire after it was issued."), field="certificate_expiry"
        )
    clean["certificate_issued"], clean["certificate_expiry"] = issued, expiry
    clean["discipline"] = merged.get("discipline")
    custodian = merged.get("custodian")
    _custodian_checked(custodian)
    clean["custodian"] = custodian
    clean["active"] = True if merged.get("active") is None else bool(merged.get("active"))
    others = (
        MeasurementStandard.objects.exclude(pk=current.pk)
        if current is not None
        else MeasurementStandard.objects
    )
    if others.filter(
        Q(certificate_no__iexact=clean["certificate_no"]) & Q(name__iexact=clean["name"])
    ).exists():
        raise ServiceError(
            _("This standard with certificate %(no)s exists already.")
            % {"no": clean["certificate_no"]},
            code="conflict",
            field="certificate_no",
        )
    return clean


def _standard_equipment_checked(equipment: Iterable[Equipment]) -> list[Equipment]:
    chosen = list(Equipment.objects.filter(pk__in={e.pk for e in equipment}).order_by("pk"))
    scrapped = [e for e in chosen if e.status == S.SCRAPPED]
    if scrapped:
        raise ServiceError(
            _("Scrapped equipment cannot compose a standard: %(list)s.")
            % {"list": ", ".join(str(e) for e in scrapped)},
            field="equipment",
        )
    return chosen


@service("measurement_standard.create")
def measurement_standard_create(
    *,
    actor: Any,
    equipment: Iterable[Equipment] = (),
    methods: Iterable[Any] = (),
    upload: Any = None,
    reason: str = "",
    **values: Any,
) -> MeasurementStandard:
    """Register a measurement standard (计量标准装置, R6.8a): its certificate (计量标准考核
    证书) no., issuer, dates and the certificate file, its measurands, ranges and uncertainty,
    the equipment composing it and the methods it serves."""
    _check_roles(actor, EQUIPMENT_EDITORS)
    clean = _standard_values(values, None)
    chosen = _standard_equipment_checked(equipment)
    methods = list(methods)
    document = document_store(upload, field="file") if upload is not None else None
    standard = MeasurementStandard(**clean)
    if document is not None:
        standard.attach(document)
    standard.save()
    standard.equipment.set(chosen)
    standard.methods.set(methods)
    return standard


@service("measurement_standard.update")
def measurement_standard_update(
    *,
    standard: MeasurementStandard,
    actor: Any,
    equipment: Iterable[Equipment] | None = None,
    methods: Iterable[Any] | None = None,
    upload: Any = None,
    reason: str = "",
    **values: Any,
) -> MeasurementStandard:
    """Change a measurement standard: its fields, composing equipment, methods (None: kept)
    and a new certificate file (e.g. after its re-examination)."""
    _check_roles(actor, EQUIPMENT_EDITORS)
    standard = MeasurementStandard.objects.select_for_update().get(pk=standard.pk)
    clean = _standard_values(values, standard)
    chosen = _standard_equipment_checked(equipment) if equipment is not None else None
    methods = list(methods) if methods is not None else None
    document = document_store(upload, field="file") if upload is not None else None
    for name, value in clean.items():
        setattr(standard, name, value)
    if document is not None:
        standard.attach(document)
    standard.save()
    if chosen is not None:
        standard.equipment.set(chosen)
    if methods is not None:
        standard.methods.set(methods)
    return standard
