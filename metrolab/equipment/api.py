"""`/api/v1/equipment/...`: the equipment register, its calibrations and intermediate checks,
bookings, measurement standards and the location posted by RFID zone readers (R6.5, R8c,
R6.8a). Thin: every write is a service of metrolab.equipment.services, every read a selector.
The lab's people read; the equipment manager (and the administrator) edit; reader devices
post locations."""

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from metrolab.commissions.models import Discipline
from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.core.service import ServiceError
from metrolab.core.text import Code, Name, Note, Reference, ShortText, Unit
from metrolab.equipment import charts, selectors, services
from metrolab.equipment.filters import EquipmentFilter
from metrolab.equipment.models import (
    MAX_POINTS,
    Booking,
    Equipment,
    EquipmentCalibration,
    IntermediateCheckPlan,
    MeasurementStandard,
)
from metrolab.equipment.roles import (
    BOOKERS,
    CHECK_RECORDERS,
    EQUIPMENT_EDITORS,
    EQUIPMENT_READERS,
    LOCATION_POSTERS,
)

router = Router(tags=["equipment"])

READ = api_access(roles=EQUIPMENT_READERS)
EDIT = api_access(roles=EQUIPMENT_EDITORS)


# --- schemas --------------------------------------------------------------------------------


class PointIn(Schema):
    nominal: Decimal
    unit: Unit
    correction: Decimal
    expanded_uncertainty: Decimal
    coverage_factor: Decimal = Decimal(2)


class PointOut(PointIn):
    pass


class CalibrationIn(Schema):
    certificate_no: Reference
    body: Name
    date: dt.date
    due_date: dt.date
    result_summary: ShortText = ""
    points: list[PointIn] = Field(default=[], max_length=MAX_POINTS)


class CalibrationOut(Schema):
    id: int
    certificate_no: str
    body: str
    date: dt.date
    due_date: dt.date
    result_summary: str
    confirmed: bool
    confirmed_at: dt.datetime | None
    confirmed_by: str | None
    confirmation_note: str
    certificate_url: str | None
    points: list[PointOut]


class ConfirmIn(Schema):
    note: Note
    return_to_service: bool = False


class EquipmentIn(Schema):
    asset_no: Code
    name: Name
    kind: Code = Equipment.Kind.STANDARD
    model: Name = ""
    serial_no: Reference = ""
    manufacturer: Name = ""
    range_text: Name = ""
    accuracy_text: Name = ""
    discipline: Code | None = None  # discipline code
    custodian: Name | None = None  # user name
    rfid_uid: Name | None = None
    purchase_date: dt.date | None = None
    commissioning_date: dt.date | None = None
    calibration_interval_months: int = 12
    notes: Note = ""
    status: Code = Equipment.Status.IN_SERVICE
    location: Name = ""


class EquipmentPatch(Schema):
    asset_no: Code | None = None
    name: Name | None = None
    kind: Code | None = None
    model: Name | None = None
    serial_no: Reference | None = None
    manufacturer: Name | None = None
    range_text: Name | None = None
    accuracy_text: Name | None = None
    discipline: Code | None = None
    custodian: Name | None = None
    rfid_uid: Name | None = None
    purchase_date: dt.date | None = None
    commissioning_date: dt.date | None = None
    calibration_interval_months: int | None = None
    notes: Note | None = None


class StatusIn(Schema):
    status: Code
    reason: ShortText


class DueOut(Schema):
    due: dt.date | None
    state: str
    days_left: int | None


class EquipmentOut(Schema):
    id: int
    asset_no: str
    name: str
    kind: str
    model: str
    serial_no: str
    manufacturer: str
    range_text: str
    accuracy_text: str
    discipline: str | None
    location: str
    location_updated_at: dt.datetime | None
    custodian: str | None
    status: str
    status_label: str
    status_colour: str
    out_of_control: bool  # an intermediate check broke a control-chart test (restricted)
    out_of_control_reason: str  # why, and what brings it back ("" when in control)
    calibration: DueOut
    url: str


class ResultOut(Schema):
    id: int
    date: dt.date
    value: Decimal
    passed: bool
    rules_broken: list[int]
    rules_text: str
    performed_by: str
    note: str


class PlanOut(Schema):
    id: int
    quantity: str
    unit: str
    interval_days: int
    reference_value: Decimal
    lower_limit: Decimal
    upper_limit: Decimal
    lower_warning: Decimal | None
    upper_warning: Decimal | None
    active: bool
    next_due: dt.date
    results: list[ResultOut]


class EquipmentDetailOut(EquipmentOut):
    rfid_uid: str | None
    purchase_date: dt.date | None
    commissioning_date: dt.date | None
    calibration_interval_months: int
    notes: str
    calibrations: list[CalibrationOut]
    check_plans: list[PlanOut]
    standards: list[int]


class ResultIn(Schema):
    date: dt.date
    value: Decimal
    note: ShortText = ""


class LocationIn(Schema):
    uid: Name  # as read, separators included
    location: Name
    reader: Name


class LocationOut(Schema):
    equipment: int
    asset_no: str
    location: str
    at: dt.datetime
    source: str
    reader: str


class BookingIn(Schema):
    equipment: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    purpose: ShortText = ""


class BookingOut(Schema):
    id: int
    equipment: int
    asset_no: str
    user: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    purpose: str


class BookingFilters(Schema):
    equipment: int | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None


class CorrectionOut(Schema):
    nominal: Decimal
    unit: str
    correction: Decimal
    expanded_uncertainty: Decimal
    coverage_factor: Decimal
    calibration: str


class StandardIn(Schema):
    name: Name
    certificate_no: Reference
    certificate_issuer: Name = ""
    certificate_issued: dt.date | None = None
    certificate_expiry: dt.date
    discipline: Code | None = None
    measurands: Name
    range_text: Name
    uncertainty_text: Name = ""
    custodian: Name | None = None
    active: bool = True
    equipment: list[int] = []
    methods: list[int] = []


class StandardOut(Schema):
    id: int
    name: str
    certificate_no: str
    certificate_issuer: str
    certificate_issued: dt.date | None
    certificate_expiry: dt.date
    certificate_state: str
    discipline: str | None
    measurands: str
    range_text: str
    uncertainty_text: str
    active: bool
    equipment: list[int]
    methods: list[int]
    certificate_url: str | None
    url: str


class StandardFilters(Schema):
    q: str = ""
    active: bool | None = None


# --- helpers --------------------------------------------------------------------------------


def _equipment_out(e: Equipment) -> dict:
    due = selectors.calibration_due_status(e)
    return {
        "id": e.pk,
        "asset_no": e.asset_no,
        "name": e.name,
        "kind": e.kind,
        "model": e.model,
        "serial_no": e.serial_no,
        "manufacturer": e.manufacturer,
        "range_text": e.range_text,
        "accuracy_text": e.accuracy_text,
        "discipline": e.discipline.code if e.discipline_id else None,
        "location": e.location,
        "location_updated_at": e.location_updated_at,
        "custodian": e.custodian.username if e.custodian_id else None,
        "status": e.status,
        "status_label": str(e.get_status_display()),
        "status_colour": e.status_colour,
        "out_of_control": e.out_of_control,
        "out_of_control_reason": selectors.out_of_control_reason(e),
        "calibration": {"due": due.due, "state": due.state, "days_left": due.days_left},
        "url": reverse("equipment:detail", args=[e.pk]),
    }


def _calibration_out(c: EquipmentCalibration) -> dict:
    return {
        "id": c.pk,
        "certificate_no": c.certificate_no,
        "body": c.body,
        "date": c.date,
        "due_date": c.due_date,
        "result_summary": c.result_summary,
        "confirmed": c.confirmed,
        "confirmed_at": c.confirmed_at,
        "confirmed_by": str(c.confirmed_by) if c.confirmed_by_id else None,
        "confirmation_note": c.confirmation_note,
        "certificate_url": reverse("equipment:calibration_file", args=[c.pk])
        if c.has_file
        else None,
        "points": [
            {
                "nominal": p.nominal,
                "unit": p.unit,
                "correction": p.correction,
                "expanded_uncertainty": p.expanded_uncertainty,
                "coverage_factor": p.coverage_factor,
            }
            for p in c.points.all()
        ],
    }


def _result_out(r) -> dict:
    return {
        "id": r.pk,
        "date": r.date,
        "value": r.value,
        "passed": r.passed,
        "rules_broken": charts.rules_parsed(r.rules_broken),
        "rules_text": charts.rules_text(r.rules_broken),
        "performed_by": str(r.performed_by),
        "note": r.note,
    }


def _plan_out(plan: IntermediateCheckPlan) -> dict:
    return {
        "id": plan.pk,
        "quantity": plan.quantity,
        "unit": plan.unit,
        "interval_days": plan.interval_days,
        "reference_value": plan.reference_value,
        "lower_limit": plan.lower_limit,
        "upper_limit": plan.upper_limit,
        "lower_warning": plan.lower_warning,
        "upper_warning": plan.upper_warning,
        "active": plan.active,
        "next_due": plan.next_due(),
        "results": [_result_out(r) for r in plan.ordered_results],
    }


def _detail_out(e: Equipment) -> dict:
    return {
        **_equipment_out(e),
        "rfid_uid": e.rfid_uid,
        "purchase_date": e.purchase_date,
        "commissioning_date": e.commissioning_date,
        "calibration_interval_months": e.calibration_interval_months,
        "notes": e.notes,
        "calibrations": [_calibration_out(c) for c in selectors.calibrations_of(e)],
        "check_plans": [_plan_out(p) for p in selectors.check_plans_of(e)],
        "standards": list(e.standards.order_by("pk").values_list("pk", flat=True)),
    }


def _booking_out(b: Booking) -> dict:
    return {
        "id": b.pk,
        "equipment": b.equipment_id,
        "asset_no": b.equipment.asset_no,
        "user": str(b.user),
        "starts_at": b.starts_at,
        "ends_at": b.ends_at,
        "purpose": b.purpose,
    }


def _standard_out(s: MeasurementStandard) -> dict:
    return {
        "id": s.pk,
        "name": s.name,
        "certificate_no": s.certificate_no,
        "certificate_issuer": s.certificate_issuer,
        "certificate_issued": s.certificate_issued,
        "certificate_expiry": s.certificate_expiry,
        "certificate_state": selectors.standard_certificate_status(s).state,
        "discipline": s.discipline.code if s.discipline_id else None,
        "measurands": s.measurands,
        "range_text": s.range_text,
        "uncertainty_text": s.uncertainty_text,
        "active": s.active,
        "equipment": sorted(e.pk for e in s.equipment.all()),
        "methods": sorted(m.pk for m in s.methods.all()),
        "certificate_url": reverse("equipment:standard_file", args=[s.pk]) if s.has_file else None,
        "url": reverse("equipment:standard_detail", args=[s.pk]),
    }


def _discipline(code: str | None):
    if not code:
        return None
    discipline = Discipline.objects.filter(code=code).first()
    if discipline is None:
        raise ServiceError(
            _("No discipline has the code %(code)s.") % {"code": code}, field="discipline"
        )
    return discipline


def _user(username: str | None, field: str = "custodian"):
    if not username:
        return None
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ServiceError(_("No user is called %(name)s.") % {"name": username}, field=field)
    return user


def _references(values: dict) -> dict:
    """Codes and user names of the API turned into the objects the services take."""
    if "discipline" in values:
        values["discipline"] = _discipline(values["discipline"])
    if "custodian" in values:
        values["custodian"] = _user(values["custodian"])
    return values


def _equipment_or_404(pk: int) -> Equipment:
    return selectors.equipment_get(pk)


def _by_pks(model, pks: list[int], field: str) -> list:
    found = list(model.objects.filter(pk__in=set(pks)))
    if len(found) != len(set(pks)):
        missing = sorted(set(pks) - {o.pk for o in found})
        raise ServiceError(
            _("Unknown ids: %(ids)s.") % {"ids": ", ".join(str(m) for m in missing)}, field=field
        )
    return found


# --- operations: fixed paths first ----------------------------------------------------------


@router.post(
    "/location",
    response=LocationOut,
    auth=api_access(roles=LOCATION_POSTERS),
    summary="An RFID zone reader saw a tag: {uid, location, reader} (unknown uid: 404)",
)
def post_location(request, data: LocationIn):
    """R8c: where a tagged item of equipment is now. A repeat of the same reading within a
    few minutes changes nothing and answers the same event."""
    event = services.equipment_locate_by_tag(
        uid=data.uid, location=data.location, reader=data.reader, actor=request.auth
    )
    return {
        "equipment": event.equipment_id,
        "asset_no": event.equipment.asset_no,
        "location": event.location,
        "at": event.at,
        "source": event.source,
        "reader": event.reader,
    }


@router.get(
    "/bookings",
    response=list[BookingOut],
    auth=READ,
    summary="Live bookings (of one item of equipment, within a period)",
)
@paginate
def booking_list(request, filters: Query[BookingFilters]):
    equipment = _equipment_or_404(filters.equipment) if filters.equipment else None
    bookings = selectors.booking_list(equipment=equipment, start=filters.start, end=filters.end)
    return Mapped(bookings, _booking_out)


@router.post(
    "/bookings",
    response={201: BookingOut},
    auth=api_access(roles=BOOKERS),
    summary="Book equipment for a period (an overlap: 409)",
)
def booking_create(request, data: BookingIn):
    equipment = Equipment.objects.filter(pk=data.equipment).first()
    if equipment is None:
        raise ServiceError(_("No such equipment."), field="equipment")
    booking = services.equipment_booking_create(
        equipment=equipment,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        purpose=data.purpose,
        actor=request.auth,
    )
    return Status(201, _booking_out(booking))


@router.post(
    "/bookings/{pk}/cancel",
    response=BookingOut,
    auth=api_access(roles=BOOKERS),
    summary="Cancel a booking (one's own; the equipment manager: any)",
)
def booking_cancel(request, pk: int):
    booking = Booking.objects.select_related("equipment", "user").filter(pk=pk).first()
    if booking is None:
        raise HttpError(404, _("Not found."))
    booking = services.equipment_booking_cancel(booking=booking, actor=request.auth)
    return _booking_out(booking)


@router.get("/standards", response=list[StandardOut], auth=READ, summary="Measurement standards")
@paginate
def standard_list(request, filters: Query[StandardFilters]):
    standards = selectors.standard_list(q=filters.q, active=filters.active)
    standards = standards.prefetch_related("equipment", "methods")
    return Mapped(standards, _standard_out)


@router.post(
    "/standards",
    response={201: StandardOut},
    auth=EDIT,
    summary="Register a measurement standard (equipment manager, administrator)",
)
def standard_create(request, data: StandardIn):
    from metrolab.methods.models import Method

    values = _references(data.model_dump(exclude={"equipment", "methods"}))
    standard = services.measurement_standard_create(
        actor=request.auth,
        equipment=_by_pks(Equipment, data.equipment, "equipment"),
        methods=_by_pks(Method, data.methods, "methods"),
        **values,
    )
    return Status(201, _standard_out(standard))


@router.get("/standards/{pk}", response=StandardOut, auth=READ, summary="One measurement standard")
def standard_detail(request, pk: int):
    return _standard_out(selectors.standard_get(pk))


@router.post(
    "/calibrations/{pk}/confirm",
    response=CalibrationOut,
    auth=EDIT,
    summary="Metrological confirmation: the results meet the need",
)
def calibration_confirm(request, pk: int, data: ConfirmIn):
    calibration = EquipmentCalibration.objects.filter(pk=pk).first()
    if calibration is None:
        raise HttpError(404, _("Not found."))
    calibration = services.equipment_calibration_confirm(
        calibration=calibration,
        note=data.note,
        return_to_service=data.return_to_service,
        actor=request.auth,
    )
    return _calibration_out(calibration)


@router.post(
    "/plans/{pk}/results",
    response={201: ResultOut},
    auth=api_access(roles=CHECK_RECORDERS),
    summary="Record an intermediate check result (judged by the control-chart tests)",
)
def result_create(request, pk: int, data: ResultIn):
    plan = IntermediateCheckPlan.objects.filter(pk=pk).first()
    if plan is None:
        raise HttpError(404, _("Not found."))
    result = services.equipment_check_result_add(
        plan=plan, date=data.date, value=data.value, note=data.note, actor=request.auth
    )
    return Status(201, _result_out(result))


# --- the register ---------------------------------------------------------------------------


@router.get("/", response=list[EquipmentOut], auth=READ, summary="The equipment register")
@paginate
def equipment_list(request, filters: Query[EquipmentFilter]):
    """The filters of the register's page (`EquipmentFilter`); an unknown discipline: 422."""
    if filters.discipline and not filters.discipline.isdigit():
        _discipline(filters.discipline)
    return Mapped(selectors.equipment_list(filters), _equipment_out)


@router.post(
    "/",
    response={201: EquipmentDetailOut},
    auth=EDIT,
    summary="Register equipment (equipment manager, administrator)",
)
def equipment_create(request, data: EquipmentIn):
    values = _references(data.model_dump(exclude={"status", "location"}))
    equipment = services.equipment_create(
        actor=request.auth, status=data.status, location=data.location, **values
    )
    return Status(201, _detail_out(selectors.equipment_get(equipment.pk)))


@router.get(
    "/{pk}",
    response=EquipmentDetailOut,
    auth=READ,
    summary="One item of equipment with its calibrations and check plans",
)
def equipment_detail(request, pk: int):
    return _detail_out(_equipment_or_404(pk))


@router.patch(
    "/{pk}",
    response=EquipmentDetailOut,
    auth=EDIT,
    summary="Change the register entry (fields left out are kept)",
)
def equipment_update(request, pk: int, data: EquipmentPatch):
    equipment = _equipment_or_404(pk)
    values = _references(data.model_dump(exclude_unset=True))
    services.equipment_update(equipment=equipment, actor=request.auth, **values)
    return _detail_out(_equipment_or_404(pk))


@router.post(
    "/{pk}/status",
    response=EquipmentDetailOut,
    auth=EDIT,
    summary="Change the status, with the reason (scrapped is final)",
)
def equipment_status(request, pk: int, data: StatusIn):
    services.equipment_set_status(
        equipment=_equipment_or_404(pk), status=data.status, reason=data.reason, actor=request.auth
    )
    return _detail_out(_equipment_or_404(pk))


@router.post(
    "/{pk}/calibrations",
    response={201: CalibrationOut},
    auth=EDIT,
    summary="Enter a calibration with its results at points (not counted until confirmed)",
)
def calibration_create(request, pk: int, data: CalibrationIn):
    calibration = services.equipment_calibration_add(
        equipment=_equipment_or_404(pk),
        certificate_no=data.certificate_no,
        body=data.body,
        date=data.date,
        due_date=data.due_date,
        result_summary=data.result_summary,
        points=[p.model_dump() for p in data.points],
        actor=request.auth,
    )
    return Status(201, _calibration_out(calibration))


@router.get(
    "/{pk}/correction",
    response=CorrectionOut,
    auth=READ,
    summary="The correction, U and k at a value from the calibration in force (none: 404)",
)
def correction(request, pk: int, nominal: Decimal, unit: str, day: dt.date | None = None):
    """What a record applies at a reading (from the confirmed calibration in force on `day`,
    today by default): at a calibrated point its values, between two points of the same unit
    the correction interpolated linearly; outside them, nothing."""
    equipment = _equipment_or_404(pk)
    found = selectors.calibration_correction(equipment, nominal, unit, day)
    if found is None:
        raise HttpError(
            404,
            _("No confirmed calibration in force gives a correction at %(value)s %(unit)s.")
            % {"value": nominal, "unit": unit},
        )
    calibration = selectors.calibration_for_day(equipment, day)
    return {
        "nominal": nominal,
        "unit": unit,
        "correction": found.correction,
        "expanded_uncertainty": found.expanded_uncertainty,
        "coverage_factor": found.coverage_factor,
        "calibration": calibration.certificate_no,
    }
