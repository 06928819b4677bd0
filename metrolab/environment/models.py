"""Environment monitoring (R6.11, R5.1, R5.2, R7.1b, R6.9c): rooms and areas with their
environmental requirements, the sensors in them, and the stream of readings with minute and
hour aggregates.

Rooms, requirements and sensors are audited like every other master data. Readings and their
aggregates are a high-volume measurement stream (thousands a second): they are plain rows,
written in batches by the ingester (`ingest.py`), never edited; what is audited about them is
the configuration that produced them and the per-device ingestion counters.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.core.components import register_tones
from metrolab.core.models import AuditedModel
from metrolab.core.text import CODE, NAME, NOTE, SHORT_TEXT, UNIT


class Quantity(models.TextChoices):
    """The environmental quantities a lab watches, with their usual units."""

    TEMPERATURE = "temperature", _("temperature")
    HUMIDITY = "humidity", _("relative humidity")
    PRESSURE = "pressure", _("atmospheric pressure")
    ILLUMINATION = "illumination", _("illumination")
    NOISE = "noise", _("noise")
    VIBRATION = "vibration", _("vibration")
    AIR_SPEED = "air_speed", _("air speed")
    VOLTAGE = "voltage", _("supply voltage")
    FREQUENCY = "frequency", _("supply frequency")
    GAS = "gas", _("gas concentration")


DEFAULT_UNITS = {
    Quantity.TEMPERATURE: "℃",
    Quantity.HUMIDITY: "%RH",
    Quantity.PRESSURE: "kPa",
    Quantity.ILLUMINATION: "lx",
    Quantity.NOISE: "dB(A)",
    Quantity.VIBRATION: "mm/s",
    Quantity.AIR_SPEED: "m/s",
    Quantity.VOLTAGE: "V",
    Quantity.FREQUENCY: "Hz",
    Quantity.GAS: "ppm",
}


class Room(AuditedModel):
    """A room or area whose environment is monitored: a laboratory, the machine room, the
    mobile lab, a storage room."""

    class Kind(models.TextChoices):
        LAB = "lab", _("laboratory")
        MACHINE_ROOM = "machine_room", _("machine room")
        MOBILE_LAB = "mobile_lab", _("mobile laboratory")
        STORAGE = "storage", _("storage")
        OTHER = "other", _("other")

    code = models.CharField(_("code"), max_length=CODE, unique=True)
    name = models.CharField(_("name"), max_length=NAME)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.LAB)
    discipline = models.ForeignKey(
        "commissions.Discipline",
        verbose_name=_("discipline"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.TextField(_("description"), blank=True, max_length=NOTE)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Told of the room's alarms, with the equipment managers."),
    )
    simulation = models.JSONField(
        _("simulation parameters"),
        default=dict,
        blank=True,
        help_text=_(
            "Parameters of the simulated room model (demo and tests), e.g. "
            '{"outside": 28, "temperature": 21, "humidity": 50}.'
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Requirement(AuditedModel):
    """An environmental requirement of a room (e.g. 20 ± 5 ℃), or a stricter one a method
    adds for the work done under it (e.g. 20 ± 2 ℃ for a temperature calibration). Limits
    are inclusive; an open end is no limit on that side."""

    room = models.ForeignKey(
        Room, verbose_name=_("room"), on_delete=models.CASCADE, related_name="requirements"
    )
    quantity = models.CharField(_("quantity"), max_length=16, choices=Quantity)
    low = models.DecimalField(_("from"), max_digits=12, decimal_places=4, null=True, blank=True)
    high = models.DecimalField(_("to"), max_digits=12, decimal_places=4, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=UNIT)
    method = models.ForeignKey(
        "methods.Method",
        verbose_name=_("for method"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="environment_requirements",
        help_text=_("Empty: the room's own requirement."),
    )
    note = models.CharField(_("note"), max_length=SHORT_TEXT, blank=True)
    # Alarms (R6.11d): raised when a sensor's corrected value stays outside [low, high] for
    # `alarm_delay_seconds`; cleared when it is back inside by `hysteresis` (within
    # [low + hysteresis, high - hysteresis]).
    alarm = models.BooleanField(_("raise alarms"), default=True)
    hysteresis = models.DecimalField(_("hysteresis"), max_digits=12, decimal_places=4, default=0)
    alarm_delay_seconds = models.PositiveIntegerField(_("alarm delay (s)"), default=0)

    class Meta:
        verbose_name = _("environmental requirement")
        verbose_name_plural = _("environmental requirements")
        ordering = ["room", "quantity", "method"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(low__isnull=True)
                | models.Q(high__isnull=True)
                | models.Q(low__lte=models.F("high")),
                name="requirement_limits_ordered",
            )
        ]

    def __str__(self):
        low = "…" if self.low is None else f"{self.low.normalize():f}"
        high = "…" if self.high is None else f"{self.high.normalize():f}"
        return f"{self.room.code} {self.get_quantity_display()} {low}–{high} {self.unit}"


class Sensor(AuditedModel):
    """A sensor in a room: what it measures, how it reports (protocol and address), its own
    calibration (a correction added to every raw value, and the expanded uncertainty of the
    corrected value), how often it is expected to report (silence longer than that is an
    "offline" alarm, R6.9c), and what it may report: raw values within the quantity's
    physical limits and its own plausible range, timed after its installation
    (`plausibility.py`, checked by the ingester)."""

    class Protocol(models.TextChoices):
        MQTT = "mqtt", _("MQTT")
        MODBUS = "modbus", _("Modbus TCP")
        HTTP = "http", _("HTTP API")
        SIMULATED = "simulated", _("simulated")

    code = models.CharField(
        _("code"),
        max_length=CODE,
        unique=True,
        help_text=_("Letters, digits, '-' and '_': used in MQTT topics and API payloads."),
    )
    name = models.CharField(_("name"), max_length=NAME)
    room = models.ForeignKey(
        Room, verbose_name=_("room"), on_delete=models.PROTECT, related_name="sensors"
    )
    quantity = models.CharField(_("quantity"), max_length=16, choices=Quantity)
    unit = models.CharField(_("unit"), max_length=UNIT)
    protocol = models.CharField(
        _("protocol"), max_length=10, choices=Protocol, default=Protocol.MQTT
    )
    address = models.CharField(
        _("address"),
        max_length=NAME,
        blank=True,
        help_text=_("Modbus: host:port; HTTP / MQTT: empty (the code is the address)."),
    )
    register_map = models.JSONField(
        _("Modbus register map"),
        default=dict,
        blank=True,
        help_text=_(
            'e.g. {"unit": 1, "register": 0, "type": "int16", "scale": 0.1, "function": "input"}'
        ),
    )
    device = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("device account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sensors",
        help_text=_(
            "The device (token) allowed to report for this sensor; empty: no device, only the "
            "lab's internal channels (Modbus poller, MQTT ingester, simulator)."
        ),
    )
    correction = models.DecimalField(_("correction"), max_digits=12, decimal_places=4, default=0)
    uncertainty = models.DecimalField(
        _("expanded uncertainty U (k=2)"), max_digits=12, decimal_places=4, default=0
    )
    calibration_due = models.DateField(_("calibration due"), null=True, blank=True)
    period_seconds = models.PositiveIntegerField(_("expected reporting period (s)"), default=60)
    plausible_low = models.FloatField(
        _("plausible from"),
        null=True,
        blank=True,
        help_text=_(
            "Raw values below are refused, e.g. the low end of the measuring range; empty: only "
            "the quantity's physical limit."
        ),
    )
    plausible_high = models.FloatField(
        _("plausible to"),
        null=True,
        blank=True,
        help_text=_(
            "Raw values above are refused, e.g. the high end of the measuring range; empty: only "
            "the quantity's physical limit."
        ),
    )
    installed_at = models.DateTimeField(
        _("installed at"),
        default=timezone.now,
        help_text=_("Readings timed before this are refused."),
    )
    active = models.BooleanField(_("active"), default=True)
    # The latest reading, kept on the sensor for live pages (written by the ingester).
    last_time = models.DateTimeField(_("last reading at"), null=True, blank=True)
    last_value = models.FloatField(_("last raw value"), null=True, blank=True)

    audit_exclude = AuditedModel.audit_exclude | {"last_time", "last_value"}

    class Meta:
        verbose_name = _("sensor")
        verbose_name_plural = _("sensors")
        ordering = ["room", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(plausible_low__isnull=True)
                | models.Q(plausible_high__isnull=True)
                | models.Q(plausible_low__lt=models.F("plausible_high")),
                name="sensor_plausible_range_ordered",
            )
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        """The plausible range: finite, from a lower to a higher value, and within the
        quantity's physical limits (a humidity sensor plausible up to 120 %RH is a typo)."""
        from metrolab.environment.plausibility import number, physical_limits

        errors = {}
        physical = physical_limits(self.quantity, self.unit)
        for name in ("plausible_low", "plausible_high"):
            value = getattr(self, name)
            if value is None:
                continue
            if not math.isfinite(value):
                errors[name] = _("Enter a finite number.")
            elif not physical.admits(value):
                errors[name] = _(
                    "%(value)s is physically impossible for %(quantity)s: the limits are "
                    "%(limits)s."
                ) % {
                    "value": number(value),
                    "quantity": self.get_quantity_display(),
                    "limits": physical.text(self.unit),
                }
        low, high = self.plausible_low, self.plausible_high
        if not errors and low is not None and high is not None and low >= high:
            errors["plausible_high"] = _(
                "The plausible range must go from a lower to a higher value."
            )
        if errors:
            raise ValidationError(errors)

    def corrected(self, raw: float) -> float:
        """The raw value with the sensor's calibration correction applied."""
        return raw + float(self.correction)


class Reading(models.Model):
    """One raw value of a sensor at a time (not audited: a measurement stream; see the module
    docstring). The calibration correction is applied when readings are read, so a corrected
    sensor calibration never rewrites history."""

    sensor = models.ForeignKey(Sensor, on_delete=models.PROTECT, related_name="readings")
    time = models.DateTimeField()
    value = models.FloatField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        indexes = [models.Index(fields=["sensor", "time"], name="reading_sensor_time_idx")]
        constraints = [
            models.UniqueConstraint(fields=["sensor", "time"], name="reading_sensor_time_unique")
        ]

    def __str__(self):
        return f"{self.sensor_id} {self.time:%Y-%m-%d %H:%M:%S} {self.value}"


class Aggregate(models.Model):
    """Minute or hour statistics of a sensor's raw readings (count, min, max, mean), kept when
    raw readings are thinned out by the retention policy. The mean is kept rather than the
    sum: a sum of large values overflows a float, a mean lies between min and max."""

    class Period(models.TextChoices):
        MINUTE = "m", _("minute")
        HOUR = "h", _("hour")

    sensor = models.ForeignKey(Sensor, on_delete=models.PROTECT, related_name="aggregates")
    period = models.CharField(max_length=1, choices=Period)
    start = models.DateTimeField()
    count = models.PositiveIntegerField()
    minimum = models.FloatField()
    maximum = models.FloatField()
    mean = models.FloatField()

    class Meta:
        verbose_name = _("aggregate")
        verbose_name_plural = _("aggregates")
        indexes = [models.Index(fields=["sensor", "period", "start"], name="aggregate_lookup_idx")]
        constraints = [
            models.UniqueConstraint(fields=["sensor", "period", "start"], name="aggregate_unique")
        ]

    def __str__(self):
        return f"{self.sensor_id} {self.period} {self.start:%Y-%m-%d %H:%M}"


class IngestCounter(models.Model):
    """Readings accepted and rejected per device and channel (bad payloads are counted, never
    stored), with the last rejection's reason: the ingestion health a device manager sees."""

    device = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # http / mqtt / modbus / simulated
    channel = models.CharField(_("ingestion channel"), max_length=10)
    accepted = models.PositiveBigIntegerField(_("accepted"), default=0)
    rejected = models.PositiveBigIntegerField(_("rejected"), default=0)
    last_rejection = models.CharField(_("last rejection"), max_length=300, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)

    class Meta:
        verbose_name = _("ingest counter")
        verbose_name_plural = _("ingest counters")
        constraints = [
            models.UniqueConstraint(fields=["device", "channel"], name="ingest_counter_unique")
        ]

    def __str__(self):
        return f"{self.device_id} {self.channel}: {self.accepted} / {self.rejected}"


class AlarmState(models.Model):
    """Where the alarm engine stands for one (requirement, sensor) pair: since when the value
    has been outside (the delay runs from there). Bookkeeping of the engine, written when an
    excursion starts or ends and with each reading while outside; the alarms themselves are
    audited."""

    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="+")
    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="+")
    outside_since = models.DateTimeField(null=True, blank=True)
    side = models.CharField(max_length=4, blank=True)  # "high" / "low" while outside
    last_time = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("alarm state")
        verbose_name_plural = _("alarm states")
        constraints = [
            models.UniqueConstraint(fields=["requirement", "sensor"], name="alarm_state_unique")
        ]

    def __str__(self):
        return f"{self.requirement_id}/{self.sensor_id} {self.side or 'within'}"


class Alarm(AuditedModel):
    """An environmental alarm (R6.11d, R6.9c): a value above or below a requirement's limits
    for longer than its delay, or a sensor silent for longer than its reporting period.
    Lifecycle: raised → acknowledged (by whom, with a comment) → cleared (the condition
    returned to normal). An alarm may clear before anyone acknowledged it; it stays to be
    acknowledged."""

    class Kind(models.TextChoices):
        HIGH = "high", _("above the upper limit")
        LOW = "low", _("below the lower limit")
        OFFLINE = "offline", _("sensor offline")

    class Status(models.TextChoices):
        RAISED = "raised", _("raised")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        CLEARED = "cleared", _("cleared")

    room = models.ForeignKey(
        Room, verbose_name=_("room"), on_delete=models.PROTECT, related_name="alarms"
    )
    sensor = models.ForeignKey(
        Sensor, verbose_name=_("sensor"), on_delete=models.PROTECT, related_name="alarms"
    )
    requirement = models.ForeignKey(
        Requirement,
        verbose_name=_("requirement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alarms",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.RAISED)
    message = models.CharField(_("message"), max_length=300)
    value = models.FloatField(_("value"), null=True, blank=True)  # corrected, when raised
    limit = models.DecimalField(_("limit"), max_digits=12, decimal_places=4, null=True, blank=True)
    raised_at = models.DateTimeField(_("raised at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    comment = models.TextField(_("comment"), blank=True, max_length=NOTE)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_value = models.FloatField(_("value when cleared"), null=True, blank=True)

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-raised_at", "-pk"]
        indexes = [models.Index(fields=["room", "cleared_at"], name="alarm_room_open_idx")]

    def __str__(self):
        return f"{self.sensor.code} {self.get_kind_display()} {self.raised_at:%Y-%m-%d %H:%M}"

    @property
    def open(self) -> bool:
        """Still active (not cleared)."""
        return self.cleared_at is None


class Actuator(AuditedModel):
    """Something that changes a room's environment (R6.11e): an air conditioner's set-point,
    a dehumidifier or humidifier, lights, ventilation. Commands reach it over MQTT (a command
    topic), a Modbus write, or the simulated room. `on` and `setpoint` are the last state
    commanded (every change is a Command, audited with its reason)."""

    class Kind(models.TextChoices):
        HVAC = "hvac", _("air conditioner (set-point)")
        DEHUMIDIFIER = "dehumidifier", _("dehumidifier")
        HUMIDIFIER = "humidifier", _("humidifier")
        LIGHTS = "lights", _("lights")
        VENTILATION = "ventilation", _("ventilation")

    class Protocol(models.TextChoices):
        MQTT = "mqtt", _("MQTT")
        MODBUS = "modbus", _("Modbus TCP")
        SIMULATED = "simulated", _("simulated")

    code = models.CharField(
        _("code"),
        max_length=CODE,
        unique=True,
        help_text=_("Letters, digits, '-' and '_': used in MQTT command topics."),
    )
    name = models.CharField(_("name"), max_length=NAME)
    room = models.ForeignKey(
        Room, verbose_name=_("room"), on_delete=models.PROTECT, related_name="actuators"
    )
    kind = models.CharField(_("kind"), max_length=14, choices=Kind)
    protocol = models.CharField(
        _("protocol"), max_length=10, choices=Protocol, default=Protocol.MQTT
    )
    address = models.CharField(
        _("address"), max_length=NAME, blank=True, help_text=_("Modbus: host:port.")
    )
    register_map = models.JSONField(
        _("Modbus register map"),
        default=dict,
        blank=True,
        help_text=_(
            'e.g. {"unit": 1, "coil": 0} for on / off, {"unit": 1, "register": 10, '
            '"type": "int16", "scale": 0.1} for a set-point'
        ),
    )
    setpoint_min = models.DecimalField(
        _("lowest set-point"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    setpoint_max = models.DecimalField(
        _("highest set-point"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    unit = models.CharField(_("set-point unit"), max_length=UNIT, blank=True)
    on = models.BooleanField(_("on"), default=False)
    setpoint = models.DecimalField(
        _("set-point"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("actuator")
        verbose_name_plural = _("actuators")
        ordering = ["room", "code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class ControlRule(AuditedModel):
    """Automatic regulation (R6.11e). `switch`: turn the actuator on when the quantity's
    value goes above `high` (or below `low`), off when it is back inside by `hysteresis`.
    `setpoint`: when the value leaves [low, high], command the actuator on at `setpoint`.
    The value is the mean of the room's fresh sensors of that quantity (corrected)."""

    class Mode(models.TextChoices):
        SWITCH = "switch", _("on / off with hysteresis")
        SETPOINT = "setpoint", _("set-point")

    room = models.ForeignKey(
        Room, verbose_name=_("room"), on_delete=models.CASCADE, related_name="control_rules"
    )
    quantity = models.CharField(_("quantity"), max_length=16, choices=Quantity)
    actuator = models.ForeignKey(
        Actuator, verbose_name=_("actuator"), on_delete=models.PROTECT, related_name="rules"
    )
    mode = models.CharField(_("mode"), max_length=10, choices=Mode)
    low = models.DecimalField(_("from"), max_digits=12, decimal_places=4, null=True, blank=True)
    high = models.DecimalField(_("to"), max_digits=12, decimal_places=4, null=True, blank=True)
    hysteresis = models.DecimalField(_("hysteresis"), max_digits=12, decimal_places=4, default=0)
    setpoint = models.DecimalField(
        _("set-point"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=SHORT_TEXT, blank=True)

    class Meta:
        verbose_name = _("control rule")
        verbose_name_plural = _("control rules")
        ordering = ["room", "quantity", "pk"]

    def __str__(self):
        return f"{self.room.code} {self.get_quantity_display()} → {self.actuator.code}"


class Command(AuditedModel):
    """One command sent to an actuator, with its reason: the rule that acted, or the person
    and what they wrote (R6.11e). Audited like every write; `status` follows the delivery."""

    class Action(models.TextChoices):
        ON = "on", _("switch on")
        OFF = "off", _("switch off")
        SET = "set", _("set the set-point")

    class Source(models.TextChoices):
        RULE = "rule", _("automatic rule")
        MANUAL = "manual", _("manual")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    actuator = models.ForeignKey(
        Actuator, verbose_name=_("actuator"), on_delete=models.PROTECT, related_name="commands"
    )
    action = models.CharField(_("action"), max_length=4, choices=Action)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=4, null=True, blank=True)
    source = models.CharField(_("source"), max_length=6, choices=Source)
    rule = models.ForeignKey(
        ControlRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commands",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=SHORT_TEXT)
    issued_at = models.DateTimeField(_("issued at"))
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.PENDING)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("command")
        verbose_name_plural = _("commands")
        ordering = ["-issued_at", "-pk"]

    def __str__(self):
        return f"{self.actuator.code} {self.action} {self.issued_at:%Y-%m-%d %H:%M:%S}"


# Badge tones (core/components.py).
register_tones(
    Alarm.Kind,
    {Alarm.Kind.HIGH: "red", Alarm.Kind.LOW: "red", Alarm.Kind.OFFLINE: "grey"},
)
register_tones(
    Alarm.Status,
    {
        Alarm.Status.RAISED: "yellow",
        Alarm.Status.ACKNOWLEDGED: "blue",
        Alarm.Status.CLEARED: "green",
    },
)
register_tones(
    Command.Source,
    {Command.Source.RULE: "blue", Command.Source.MANUAL: "neutral"},
)
register_tones(
    Command.Status,
    {
        Command.Status.PENDING: "yellow",
        Command.Status.SENT: "green",
        Command.Status.FAILED: "red",
    },
)
