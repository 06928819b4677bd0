"""Equipment (R6.5, R8c, R6.8a): reference standards and auxiliary equipment, their own
calibrations (with corrections as data), intermediate checks (期间核查), maintenance and
faults, usage, bookings, location, and the measurement standards (计量标准装置) they compose."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.core.components import register_tones
from metrolab.core.documents import DocumentFields
from metrolab.core.models import AuditedModel
from metrolab.core.text import CODE, NAME, NOTE, REFERENCE, SHORT_TEXT, UNIT


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
    location = models.CharField(_("location"), max_length=NAME, blank=True)
    location_updated_at = models.DateTimeField(_("location updated"), null=True, blank=True)
    rfid_uid = models.CharField(
        _("RFID tag UID"), max_length=CODE, null=True, blank=True, unique=True
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
        _("calibration interval (months)"), default=12
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

    def current_calibration(self) -> EquipmentCalibration | None:
        """The latest confirmed calibration (the one that counts for use)."""
        return self.calibrations.filter(confirmed_at__isnull=False).order_by("-date", "-pk").first()

    def calibration_due(self) -> dt.date | None:
        calibration = self.current_calibration()
        return calibration.due_date if calibration else None


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
        _("expanded uncertainty U"), max_digits=20, decimal_places=9
    )
    coverage_factor = models.DecimalField(
        _("coverage factor k"), max_digits=4, decimal_places=2, default=2
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
    interval_days = models.PositiveIntegerField(_("interval (days)"), default=90)
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
    location = models.CharField(_("location"), max_length=NAME)
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
    reader = models.CharField(_("reader"), max_length=NAME, blank=True)

    class Meta:
        verbose_name = _("location event")
        verbose_name_plural = _("location events")
        ordering = ["equipment", "-at", "-pk"]

    def __str__(self):
        return f"{self.equipment.asset_no} @ {self.location}"


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
