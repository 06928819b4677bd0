"""Equipment (R6.5, R8c, R6.8a): reference standards and auxiliary equipment, their own
calibrations (with corrections as data), intermediate checks (期间核查), maintenance and
faults, usage, bookings, location, and the measurement standards (计量标准装置) they compose."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.core.components import register_tones
from metrolab.core.documents import DocumentFields
from metrolab.core.models import AuditedModel
from metrolab.core.roles import LAB_STAFF
from metrolab.core.text import CODE, NAME, NOTE, REFERENCE, SHORT_TEXT, UNIT

# --- field rules shared by the models, the forms and the API schemas ------------------------

#: Where equipment is (a room, bench or cabinet) and the name of an RFID zone reader: the
#: stricter of the limits the services (100) and the forms (200) applied.
LOCATION_LENGTH = 100
#: At most this many calibrated points per calibration (form, API schema and service).
MAX_POINTS = 200
#: The coverage factor k of a calibrated point: 1 to 10, with at most 2 decimals.
COVERAGE_FACTOR_MIN = Decimal(1)
COVERAGE_FACTOR_MAX = Decimal(10)
_UID_SEPARATORS = re.compile(r"[\s:\-]")


def normalise_tag_uid(raw: str) -> str:
    """A tag UID as stored: separators dropped, upper case (as for item tags, R6.6a)."""
    return _UID_SEPARATORS.sub("", raw or "").upper()


def positive(value) -> None:
    """A value that must be greater than 0 (an expanded uncertainty U)."""
    if value is not None and value <= 0:
        raise ValidationError(_("Must be greater than 0."), code="min_value")


def _today() -> dt.date:
    return timezone.localdate()


def _not_future(errors: dict, day, field: str, label) -> None:
    if isinstance(day, dt.date) and day > _today():
        errors.setdefault(field, []).append(
            ValidationError(_("%(field)s cannot be in the future.") % {"field": label})
        )


def _custodian_problem(errors: dict, user, field: str = "custodian") -> None:
    if user is not None and not (user.is_active and user.has_role(*LAB_STAFF)):
        errors.setdefault(field, []).append(
            ValidationError(_("The custodian must be an active member of the lab."))
        )


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


class Equipment(AuditedModel):
    """One item of equipment (设备): a reference standard or auxiliary equipment."""

    class Kind(models.TextChoices):
        STANDARD = "standard", _("reference standard (标准器)")
        AUXILIARY = "auxiliary", _("auxiliary equipment (配套设备)")
        SOFTWARE = "software", _("software / other")

    class Status(models.TextChoices):
        IN_SERVICE = "in_service", _("in service (合格)")
        LIMITED = "limited", _("limited use (准用)")
        RESTRICTED = "restricted", _("restricted (限用)")
        OUT_OF_SERVICE = "out_of_service", _("out of service (停用)")
        UNDER_REPAIR = "under_repair", _("under repair (维修)")
        SCRAPPED = "scrapped", _("scrapped (报废)")

    # The status label colours labs stick on equipment: green 合格, yellow 准用, red 停用.
    # Restricted (限用) equipment is out of statistical control and may not be used until it
    # is back in control: red, like every status that forbids use.
    STATUS_COLOURS = {
        Status.IN_SERVICE: "green",
        Status.LIMITED: "yellow",
        Status.RESTRICTED: "red",
        Status.OUT_OF_SERVICE: "red",
        Status.UNDER_REPAIR: "red",
        Status.SCRAPPED: "red",
    }
    # Statuses in which the equipment may be used for work.
    USABLE = (Status.IN_SERVICE, Status.LIMITED)

    asset_no = models.CharField(_("asset no."), max_length=CODE, unique=True)
    name = models.CharField(_("name"), max_length=NAME)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.STANDARD)
    model = models.CharField(_("model"), max_length=NAME, blank=True)
    serial_no = models.CharField(_("serial no."), max_length=REFERENCE, blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=NAME, blank=True)
    range_text = models.CharField(_("range"), max_length=NAME, blank=True)
    accuracy_text = models.CharField(
        _("accuracy / uncertainty"), max_length=NAME, blank=True, help_text=_("e.g. 0.05 级")
    )
    discipline = models.ForeignKey(
        "commissions.Discipline",
        verbose_name=_("discipline"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    location = models.CharField(
        _("location"),
        max_length=NAME,
        blank=True,
        validators=[
            MaxLengthValidator(
                LOCATION_LENGTH, message=_("The location is at most 100 characters.")
            )
        ],
    )
    location_updated_at = models.DateTimeField(_("location updated"), null=True, blank=True)
    rfid_uid = models.CharField(
        _("RFID tag UID"),
        max_length=CODE,
        null=True,
        blank=True,
        unique=True,
        validators=[
            RegexValidator(
                r"^[0-9A-Z]{4,64}\Z",
                message=_("A tag UID is 4 to 64 letters and digits (separators are ignored)."),
            )
        ],
    )
    custodian = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("custodian"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    purchase_date = models.DateField(_("purchased"), null=True, blank=True)
    commissioning_date = models.DateField(_("in service since"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.IN_SERVICE, db_index=True
    )
    calibration_interval_months = models.PositiveIntegerField(
        _("calibration interval (months)"),
        default=12,
        validators=[
            MinValueValidator(1, message=_("The calibration interval is 1 to 120 months.")),
            MaxValueValidator(120, message=_("The calibration interval is 1 to 120 months.")),
        ],
    )
    notes = models.TextField(_("notes"), blank=True, max_length=NOTE)
    # The out-of-control state (失控), set and cleared only by the equipment services: the
    # intermediate check whose result broke a control-chart test, and the status the equipment
    # had before it was restricted (restored once it is back in control or recalibrated).
    out_of_control_check = models.ForeignKey(
        "IntermediateCheckResult",
        verbose_name=_("out of control since the check"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status_before_restriction = models.CharField(
        _("status before the restriction"), max_length=16, choices=Status, blank=True
    )

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["asset_no"]

    def __str__(self):
        return f"{self.asset_no} {self.name}"

    @property
    def status_colour(self) -> str:
        return self.STATUS_COLOURS.get(self.status, "red")

    @property
    def out_of_control(self) -> bool:
        """Out of statistical control: its latest intermediate check broke a control-chart
        test and neither an in-control check nor a recalibration has followed."""
        return self.out_of_control_check_id is not None

    def clean(self):
        """The register's rules beyond single fields (R6.5a-b): the asset no. and the tag are
        unique (the asset no. whatever its case; code "conflict"), the custodian is an active
        member of the lab, it was not purchased in the future, nor in service before it was
        purchased."""
        errors: dict[str, list] = {}
        others = type(self)._default_manager.exclude(pk=self.pk) if self.pk else None
        others = others if others is not None else type(self)._default_manager.all()
        if self.asset_no and others.filter(asset_no__iexact=self.asset_no).exists():
            errors["asset_no"] = [
                ValidationError(
                    _("Asset no. %(no)s is taken by other equipment.") % {"no": self.asset_no},
                    code="conflict",
                )
            ]
        if self.rfid_uid and others.filter(rfid_uid=self.rfid_uid).exists():
            errors["rfid_uid"] = [
                ValidationError(
                    _("Tag %(uid)s is bound to other equipment already.") % {"uid": self.rfid_uid},
                    code="conflict",
                )
            ]
        _custodian_problem(errors, self.custodian if self.custodian_id else None)
        _not_future(errors, self.purchase_date, "purchase_date", _("The purchase date"))
        purchased, commissioned = self.purchase_date, self.commissioning_date
        if (
            isinstance(purchased, dt.date)
            and isinstance(commissioned, dt.date)
            and commissioned < purchased
        ):
            errors.setdefault("commissioning_date", []).append(
                ValidationError(_("It cannot be in service before it was purchased."))
            )
        _raise(errors)

    def current_calibration(self, day: dt.date | None = None) -> EquipmentCalibration | None:
        """The calibration that counts on `day` (today): the latest confirmed one done by then
        (`CalibrationQuerySet.counting`), in force or not."""
        return self.calibrations.counting(day).first()

    def calibration_in_force(self, day: dt.date | None = None) -> EquipmentCalibration | None:
        """The calibration that counts on `day` (today), if it is in force then (due on or
        after `day`); None otherwise (`CalibrationQuerySet.in_force`)."""
        return self.calibrations.in_force(day).first()

    def calibration_due(self) -> dt.date | None:
        calibration = self.current_calibration()
        return calibration.due_date if calibration else None


class CalibrationQuerySet(models.QuerySet):
    """The one home of "the calibration that counts" (R6.5c; JJF 1069-2012, GB/T 27025-2019
    §6.4.4): the equipment card and register, the correction records apply, returning
    equipment to use, task eligibility and the risk radar all read it from here.

    - only a confirmed calibration counts (`confirmed`);
    - on a day, the calibration that counts is the latest confirmed one done on or before that
      day, the latest by date, then by entry (`counting(day)`);
    - it is in force on that day when it is due on or after it: valid ON its due date
      (`in_force(day)`).

    An older calibration with a later due date does not stay in force once a newer one is
    confirmed: the newest confirmed certificate supersedes it. (Before this rule had one
    home, the corrections and the return to use took any confirmed calibration in date,
    while eligibility took the latest; the stricter, eligibility's, was kept.)
    """

    def confirmed(self) -> CalibrationQuerySet:
        return self.filter(confirmed_at__isnull=False)

    def unconfirmed(self) -> CalibrationQuerySet:
        return self.filter(confirmed_at__isnull=True)

    def done_by(self, day: dt.date) -> CalibrationQuerySet:
        return self.filter(date__lte=day)

    def latest_first(self) -> CalibrationQuerySet:
        return self.order_by("-date", "-pk")

    def counting(self, day: dt.date | None = None) -> CalibrationQuerySet:
        """Confirmed calibrations done by `day` (today), latest first: `.first()` of each
        equipment's is the one that counts."""
        return self.confirmed().done_by(day or _today()).latest_first()

    def in_force(self, day: dt.date | None = None) -> CalibrationQuerySet:
        """The calibrations that count on `day` (today) and are due on or after it: at most
        one per equipment."""
        day = day or _today()
        newer = (
            self.model._default_manager.confirmed()
            .done_by(day)
            .filter(equipment=OuterRef("equipment"))
            .filter(Q(date__gt=OuterRef("date")) | Q(date=OuterRef("date"), pk__gt=OuterRef("pk")))
        )
        return self.counting(day).filter(due_date__gte=day).filter(~Exists(newer))

    def counting_value(
        self, field: str, *, day: dt.date | None = None, equipment: Any = None
    ) -> Subquery:
        """For annotations: `field` of the calibration that counts on `day` (today) of the
        equipment `equipment` (the outer query's row by default)."""
        equipment = OuterRef("pk") if equipment is None else equipment
        return Subquery(self.filter(equipment=equipment).counting(day).values(field)[:1])


class EquipmentCalibration(DocumentFields, AuditedModel):
    """An external calibration / verification of the lab's own equipment (溯源): certificate,
    body, dates, results at points (CalibrationPoint), and the metrological confirmation
    (计量确认) that the results meet the need — only a confirmed calibration counts."""

    equipment = models.ForeignKey(
        Equipment,
        verbose_name=_("equipment"),
        on_delete=models.PROTECT,
        related_name="calibrations",
    )
    certificate_no = models.CharField(_("certificate no."), max_length=REFERENCE)
    body = models.CharField(_("calibrating body"), max_length=NAME)
    date = models.DateField(_("calibrated on"))
    due_date = models.DateField(_("due"))
    result_summary = models.CharField(_("result"), max_length=SHORT_TEXT, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmation_note = models.TextField(_("confirmation"), blank=True, max_length=NOTE)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = CalibrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("equipment calibration")
        verbose_name_plural = _("equipment calibrations")
        ordering = ["equipment", "-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(due_date__gt=models.F("date")), name="calibration_due_after"
            )
        ]

    def __str__(self):
        return f"{self.equipment.asset_no} {self.certificate_no}"

    def clean(self):
        """Calibrated in the past, due after it was calibrated, and each certificate of an item
        of equipment entered once, whatever its case (code "conflict")."""
        errors: dict[str, list] = {}
        _not_future(errors, self.date, "date", _("The calibration date"))
        if (
            isinstance(self.date, dt.date)
            and isinstance(self.due_date, dt.date)
            and self.due_date <= self.date
        ):
            errors.setdefault("due_date", []).append(
                ValidationError(_("The due date must be after the calibration date."))
            )
        if self.certificate_no and self.equipment_id:
            others = type(self)._default_manager.filter(
                equipment_id=self.equipment_id, certificate_no__iexact=self.certificate_no
            )
            if others.exclude(pk=self.pk).exists():
                errors.setdefault("certificate_no", []).append(
                    ValidationError(
                        _("Certificate %(no)s of this equipment has been entered already.")
                        % {"no": self.certificate_no},
                        code="conflict",
                    )
                )
        _raise(errors)

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class CalibrationPoint(AuditedModel):
    """One result of a calibration as data: at a nominal value, the correction to apply (or
    the error found) and its expanded uncertainty, so records can apply it."""

    calibration = models.ForeignKey(
        EquipmentCalibration,
        verbose_name=_("calibration"),
        on_delete=models.CASCADE,
        related_name="points",
    )
    nominal = models.DecimalField(_("nominal value"), max_digits=20, decimal_places=9)
    unit = models.CharField(_("unit"), max_length=UNIT)
    correction = models.DecimalField(_("correction"), max_digits=20, decimal_places=9)
    expanded_uncertainty = models.DecimalField(
        _("expanded uncertainty U"), max_digits=20, decimal_places=9, validators=[positive]
    )
    coverage_factor = models.DecimalField(
        _("coverage factor k"),
        max_digits=4,
        decimal_places=2,
        default=2,
        validators=[
            MinValueValidator(COVERAGE_FACTOR_MIN),
            MaxValueValidator(COVERAGE_FACTOR_MAX),
        ],
    )

    class Meta:
        verbose_name = _("calibration point")
        verbose_name_plural = _("calibration points")
        ordering = ["calibration", "nominal"]

    def __str__(self):
        return f"{self.nominal} {self.unit}: {self.correction} (U={self.expanded_uncertainty})"


class IntermediateCheckPlan(AuditedModel):
    """The plan of intermediate checks (期间核查) of one item of equipment: what is checked,
    how often, and the control limits of its chart."""

    equipment = models.ForeignKey(
        Equipment,
        verbose_name=_("equipment"),
        on_delete=models.PROTECT,
        related_name="check_plans",
    )
    quantity = models.CharField(_("checked quantity"), max_length=NAME)
    method = models.TextField(_("check method"), blank=True, max_length=NOTE)
    check_standard = models.CharField(_("check standard (核查标准)"), max_length=NAME, blank=True)
    unit = models.CharField(_("unit"), max_length=UNIT)
    interval_days = models.PositiveIntegerField(
        _("interval (days)"),
        default=90,
        validators=[
            MinValueValidator(1, message=_("The interval is 1 to 3660 days.")),
            MaxValueValidator(3660, message=_("The interval is 1 to 3660 days.")),
        ],
    )
    reference_value = models.DecimalField(_("centre line"), max_digits=20, decimal_places=9)
    lower_limit = models.DecimalField(_("lower control limit"), max_digits=20, decimal_places=9)
    upper_limit = models.DecimalField(_("upper control limit"), max_digits=20, decimal_places=9)
    lower_warning = models.DecimalField(
        _("lower warning limit"), max_digits=20, decimal_places=9, null=True, blank=True
    )
    upper_warning = models.DecimalField(
        _("upper warning limit"), max_digits=20, decimal_places=9, null=True, blank=True
    )
    first_due = models.DateField(_("first check due"), default=timezone.localdate)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("intermediate check plan")
        verbose_name_plural = _("intermediate check plans")
        ordering = ["equipment", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lower_limit__lt=models.F("upper_limit")),
                name="check_plan_limits_ordered",
            )
        ]

    def __str__(self):
        return f"{self.equipment.asset_no} {self.quantity}"

    def clean(self):
        """The chart's lines in order: lower control limit < (lower warning <) centre line
        (< upper warning) < upper control limit (the constraint `check_plan_limits_ordered`
        is the database's share of it)."""
        errors: dict[str, list] = {}
        centre, low, high = self.reference_value, self.lower_limit, self.upper_limit
        if not all(isinstance(v, Decimal) for v in (centre, low, high)):
            return
        if not low < centre < high:
            errors["upper_limit"] = [
                ValidationError(
                    _(
                        "The limits must satisfy: lower control limit < centre line < upper "
                        "control limit."
                    )
                )
            ]
        low_warn, high_warn = self.lower_warning, self.upper_warning
        if isinstance(low_warn, Decimal) and not low < low_warn < centre:
            errors["lower_warning"] = [
                ValidationError(
                    _(
                        "The lower warning limit lies between the lower control limit and the "
                        "centre line."
                    )
                )
            ]
        if isinstance(high_warn, Decimal) and not centre < high_warn < high:
            errors["upper_warning"] = [
                ValidationError(
                    _(
                        "The upper warning limit lies between the centre line and the upper "
                        "control limit."
                    )
                )
            ]
        _raise(errors)

    def next_due(self) -> dt.date:
        """The day the next check is due: `interval_days` after the last, or `first_due`."""
        last = self.results.order_by("-date", "-pk").first()
        if last is None:
            return self.first_due
        return last.date + dt.timedelta(days=self.interval_days)


class IntermediateCheckResult(AuditedModel):
    """One intermediate check: the value found and the rules of the control chart it broke
    (empty: in control)."""

    plan = models.ForeignKey(
        IntermediateCheckPlan,
        verbose_name=_("plan"),
        on_delete=models.PROTECT,
        related_name="results",
    )
    date = models.DateField(_("date"))
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=9)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("performed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    passed = models.BooleanField(_("within control limits"))
    rules_broken = models.CharField(_("rules broken"), max_length=300, blank=True)
    note = models.CharField(_("note"), max_length=SHORT_TEXT, blank=True)

    class Meta:
        verbose_name = _("intermediate check result")
        verbose_name_plural = _("intermediate check results")
        ordering = ["plan", "date", "pk"]

    def __str__(self):
        return f"{self.plan} {self.date}: {self.value}"

    def clean(self):
        errors: dict[str, list] = {}
        _not_future(errors, self.date, "date", _("The date of the check"))
        _raise(errors)


class MaintenanceRecord(AuditedModel):
    """Maintenance, a fault or a repair of equipment (维护 / 故障 / 维修)."""

    class Kind(models.TextChoices):
        MAINTENANCE = "maintenance", _("maintenance")
        FAULT = "fault", _("fault")
        REPAIR = "repair", _("repair")

    equipment = models.ForeignKey(
        Equipment,
        verbose_name=_("equipment"),
        on_delete=models.PROTECT,
        related_name="maintenance",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    date = models.DateField(_("date"))
    description = models.TextField(_("description"), max_length=NOTE)
    outcome = models.TextField(_("outcome"), blank=True, max_length=NOTE)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("maintenance record")
        verbose_name_plural = _("maintenance records")
        ordering = ["equipment", "-date", "-pk"]

    def __str__(self):
        return f"{self.equipment.asset_no} {self.get_kind_display()} {self.date}"

    def clean(self):
        errors: dict[str, list] = {}
        _not_future(errors, self.date, "date", _("The date"))
        _raise(errors)


class UsageRecord(AuditedModel):
    """A use of equipment (使用记录): written automatically when a task using it starts (and
    later by records), or entered by hand."""

    class Source(models.TextChoices):
        AUTOMATIC = "auto", _("automatic")
        MANUAL = "manual", _("manual")

    equipment = models.ForeignKey(
        Equipment, verbose_name=_("equipment"), on_delete=models.PROTECT, related_name="usage"
    )
    task = models.ForeignKey(
        "tasks.Task",
        verbose_name=_("task"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="equipment_usage",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("used by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=6, choices=Source, default=Source.MANUAL)
    condition_before = models.CharField(_("condition before"), max_length=NAME, blank=True)
    condition_after = models.CharField(_("condition after"), max_length=NAME, blank=True)
    note = models.CharField(_("note"), max_length=SHORT_TEXT, blank=True)

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        ordering = ["equipment", "-started_at", "-pk"]
        indexes = [models.Index(fields=["equipment", "started_at"], name="usage_eq_time_idx")]

    def __str__(self):
        return f"{self.equipment.asset_no} {self.started_at:%Y-%m-%d %H:%M}"


class Booking(AuditedModel):
    """A reservation of equipment for a period (预约); overlapping bookings are refused."""

    MAX_BOOKING = dt.timedelta(days=31)

    equipment = models.ForeignKey(
        Equipment, verbose_name=_("equipment"), on_delete=models.PROTECT, related_name="bookings"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    purpose = models.CharField(_("purpose"), max_length=SHORT_TEXT, blank=True)
    cancelled = models.BooleanField(_("cancelled"), default=False)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="booking_ends_after"
            )
        ]
        indexes = [models.Index(fields=["equipment", "starts_at"], name="booking_eq_time_idx")]

    def __str__(self):
        return f"{self.equipment.asset_no} {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self):
        """A booking ends after it starts (the constraint `booking_ends_after` is the
        database's share of it) and lasts at most MAX_BOOKING."""
        start, end = self.starts_at, self.ends_at
        if not (isinstance(start, dt.datetime) and isinstance(end, dt.datetime)):
            return
        if end <= start:
            raise ValidationError(
                {"ends_at": ValidationError(_("The booking must end after it starts."))}
            )
        if end - start > self.MAX_BOOKING:
            raise ValidationError(
                {
                    "ends_at": ValidationError(
                        _("A booking lasts at most %(days)d days.")
                        % {"days": self.MAX_BOOKING.days}
                    )
                }
            )


class LocationEvent(AuditedModel):
    """Where equipment was seen (R8c): set by staff, or by an RFID zone reader posting the tag
    UID and its zone."""

    class Source(models.TextChoices):
        STAFF = "staff", _("staff")
        READER = "reader", _("RFID reader")

    equipment = models.ForeignKey(
        Equipment,
        verbose_name=_("equipment"),
        on_delete=models.PROTECT,
        related_name="location_events",
    )
    location = models.CharField(
        _("location"),
        max_length=NAME,
        validators=[
            MaxLengthValidator(
                LOCATION_LENGTH, message=_("The location is at most 100 characters.")
            )
        ],
        error_messages={"blank": _("Say where the equipment is.")},
    )
    at = models.DateTimeField(_("time"))
    source = models.CharField(_("source"), max_length=6, choices=Source)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reader = models.CharField(
        _("reader"),
        max_length=NAME,
        blank=True,
        validators=[
            MaxLengthValidator(
                LOCATION_LENGTH, message=_("The reader's name is at most 100 characters.")
            )
        ],
    )

    class Meta:
        verbose_name = _("location event")
        verbose_name_plural = _("location events")
        ordering = ["equipment", "-at", "-pk"]

    def __str__(self):
        return f"{self.equipment.asset_no} @ {self.location}"

    def clean(self):
        """A reader's event names the reader."""
        if self.source == self.Source.READER and not self.reader:
            raise ValidationError({"reader": ValidationError(_("Name the reader."))})


class MeasurementStandard(DocumentFields, AuditedModel):
    """A measurement standard (计量标准装置, R6.8a) with its certificate (计量标准考核证书),
    the equipment that composes it, its measurands and ranges and the methods it serves."""

    name = models.CharField(_("name"), max_length=NAME)
    certificate_no = models.CharField(_("standard certificate no."), max_length=REFERENCE)
    certificate_issuer = models.CharField(_("issued by"), max_length=NAME, blank=True)
    certificate_issued = models.DateField(_("certificate issued"), null=True, blank=True)
    certificate_expiry = models.DateField(_("certificate expires"))
    discipline = models.ForeignKey(
        "commissions.Discipline",
        verbose_name=_("discipline"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    measurands = models.CharField(_("measurands"), max_length=NAME)
    range_text = models.CharField(_("range"), max_length=NAME)
    uncertainty_text = models.CharField(
        _("uncertainty / accuracy / MPE"), max_length=NAME, blank=True
    )
    equipment = models.ManyToManyField(
        Equipment, verbose_name=_("equipment"), blank=True, related_name="standards"
    )
    methods = models.ManyToManyField(
        "methods.Method", verbose_name=_("methods"), blank=True, related_name="standards"
    )
    custodian = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("measurement standard")
        verbose_name_plural = _("measurement standards")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        """The certificate was not issued in the future and expires after it was issued; a
        standard is registered once per name and certificate no., whatever their case (code
        "conflict"); its responsible person is an active member of the lab."""
        errors: dict[str, list] = {}
        _not_future(errors, self.certificate_issued, "certificate_issued", _("The issue date"))
        issued, expiry = self.certificate_issued, self.certificate_expiry
        if isinstance(issued, dt.date) and isinstance(expiry, dt.date) and expiry <= issued:
            errors.setdefault("certificate_expiry", []).append(
                ValidationError(_("The certificate must expire after it was issued."))
            )
        _custodian_problem(errors, self.custodian if self.custodian_id else None)
        if self.name and self.certificate_no:
            others = type(self)._default_manager.filter(
                certificate_no__iexact=self.certificate_no, name__iexact=self.name
            )
            if others.exclude(pk=self.pk).exists():
                errors.setdefault("certificate_no", []).append(
                    ValidationError(
                        _("This standard with certificate %(no)s exists already.")
                        % {"no": self.certificate_no},
                        code="conflict",
                    )
                )
        _raise(errors)


# Badge tones (core/components.py).
register_tones(Equipment.Status, Equipment.STATUS_COLOURS)
register_tones(
    MaintenanceRecord.Kind,
    {
        MaintenanceRecord.Kind.MAINTENANCE: "green",
        MaintenanceRecord.Kind.FAULT: "red",
        MaintenanceRecord.Kind.REPAIR: "yellow",
    },
)
