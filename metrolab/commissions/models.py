"""Commissions (委托单): lines, price list, appointment slots, contract review and the status
nodes of R6.1b (R6.1a-b, R6.12b, R9.1)."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.commissions.choices import CommissionStatus, Service
from metrolab.core.components import register_tones
from metrolab.core.models import AuditedModel
from metrolab.core.text import CODE, NAME, NOTE, REFERENCE, SHORT_TEXT


class Discipline(AuditedModel):
    """A measurement discipline (专业: pressure, temperature, mass, electrical, ...): the unit
    that appointment slots and the price list are organised by."""

    code = models.CharField(_("code"), max_length=CODE, unique=True)
    name = models.CharField(_("name"), max_length=NAME)

    class Meta:
        verbose_name = _("discipline")
        verbose_name_plural = _("disciplines")
        ordering = ["code"]

    def __str__(self):
        return self.name


class PriceListEntry(AuditedModel):
    """A price of the lab's price list (收费标准): instrument category × service."""

    discipline = models.ForeignKey(
        Discipline, verbose_name=_("discipline"), on_delete=models.PROTECT, related_name="prices"
    )
    instrument = models.CharField(_("instrument category"), max_length=NAME)
    service = models.CharField(_("service"), max_length=16, choices=Service)
    range_text = models.CharField(_("range"), max_length=NAME, blank=True)
    unit_price = models.DecimalField(_("unit price (CNY)"), max_digits=10, decimal_places=2)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price list entry")
        verbose_name_plural = _("price list")
        ordering = ["discipline", "instrument", "service"]

    def __str__(self):
        return f"{self.instrument} / {self.get_service_display()}: {self.unit_price}"


class AppointmentSlot(AuditedModel):
    """Capacity of one discipline on one half-day, for customers' appointments."""

    class Period(models.TextChoices):
        MORNING = "am", _("morning")
        AFTERNOON = "pm", _("afternoon")

    #: When each half-day ends, in the lab's time zone (settings.TIME_ZONE): until then its
    #: slots are offered and booked; from then on they are past.
    PERIOD_ENDS = {Period.MORNING: dt.time(12, 0), Period.AFTERNOON: dt.time(17, 30)}

    discipline = models.ForeignKey(
        Discipline, verbose_name=_("discipline"), on_delete=models.PROTECT, related_name="slots"
    )
    date = models.DateField(_("date"))
    period = models.CharField(_("period"), max_length=2, choices=Period, default=Period.MORNING)
    capacity = models.PositiveIntegerField(_("capacity (commissions)"), default=10)

    class Meta:
        verbose_name = _("appointment slot")
        verbose_name_plural = _("appointment slots")
        ordering = ["date", "period", "discipline"]
        constraints = [
            models.UniqueConstraint(fields=["discipline", "date", "period"], name="slot_unique")
        ]
        indexes = [models.Index(fields=["date", "period"], name="slot_date_idx")]

    def __str__(self):
        return f"{self.date} {self.get_period_display()} {self.discipline}"

    @property
    def ends_at(self) -> dt.datetime:
        """The end of its half-day, in the lab's time zone."""
        return dt.datetime.combine(
            self.date, self.PERIOD_ENDS[self.period], tzinfo=timezone.get_default_timezone()
        )

    def has_passed(self, now: dt.datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.ends_at


class Commission(AuditedModel):
    """A customer's request (委托单) for one or more instruments to be verified, calibrated,
    tested or inspected. Its status is derived from its items and tasks (R6.1b)."""

    class Channel(models.TextChoices):
        PORTAL = "portal", _("online (portal)")
        DESK = "desk", _("at the desk")
        ONSITE = "onsite", _("on site (mobile)")

    class Review(models.TextChoices):
        PENDING = "pending", _("awaiting review")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    number = models.CharField(_("commission no."), max_length=30, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="commissions",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel, default=Channel.DESK)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=CommissionStatus,
        default=CommissionStatus.APPLIED,
        db_index=True,
    )
    review = models.CharField(
        _("contract review"), max_length=10, choices=Review, default=Review.PENDING, db_index=True
    )
    review_note = models.TextField(_("conditions or reason"), blank=True, max_length=NOTE)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    slot = models.ForeignKey(
        AppointmentSlot,
        verbose_name=_("appointment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commissions",
    )
    query_code = models.CharField(_("query code"), max_length=8)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    promised_date = models.DateField(_("promised delivery"), null=True, blank=True)
    requirements = models.TextField(_("special requirements"), blank=True, max_length=NOTE)
    quote_total = models.DecimalField(
        _("quoted total (CNY)"), max_digits=12, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("commission")
        verbose_name_plural = _("commissions")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="commission_cust_idx"),
            models.Index(fields=["-created_at"], name="commission_created_idx"),
        ]

    def __str__(self):
        return self.number


class CommissionLine(AuditedModel):
    """One line of a commission: an instrument (or several alike) and the service asked."""

    commission = models.ForeignKey(
        Commission, verbose_name=_("commission"), on_delete=models.CASCADE, related_name="lines"
    )
    instrument_name = models.CharField(_("instrument name"), max_length=NAME)
    model_range = models.CharField(_("model / range"), max_length=NAME, blank=True)
    accuracy_class = models.CharField(_("accuracy class"), max_length=NAME, blank=True)
    serial_no = models.CharField(_("serial no."), max_length=REFERENCE, blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=NAME, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    service = models.CharField(_("service"), max_length=16, choices=Service)
    requested_method = models.CharField(_("requested method"), max_length=NAME, blank=True)
    requirements = models.TextField(_("special requirements"), blank=True, max_length=NOTE)
    promised_date = models.DateField(_("promised delivery"), null=True, blank=True)
    price_entry = models.ForeignKey(
        PriceListEntry,
        verbose_name=_("price list entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit_price = models.DecimalField(
        _("unit price (CNY)"), max_digits=10, decimal_places=2, default=0
    )
    price_confirmed = models.BooleanField(
        _("price confirmed"),
        default=False,
        help_text=_("The unit price was confirmed or set at contract review."),
    )
    price_note = models.CharField(
        _("reason for the price set by hand"), max_length=SHORT_TEXT, blank=True
    )
    instrument = models.ForeignKey(
        "customers.Instrument",
        verbose_name=_("customer instrument"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("commission line")
        verbose_name_plural = _("commission lines")
        ordering = ["commission", "pk"]

    def __str__(self):
        return f"{self.instrument_name} × {self.quantity}"

    @property
    def priced(self) -> bool:
        """The line has a price: confirmed at contract review, or from the price list."""
        return self.price_confirmed or self.price_entry_id is not None

    @property
    def amount(self):
        return self.unit_price * self.quantity


class StatusEvent(AuditedModel):
    """A status node reached by a commission, with its time (R6.1b: pushed to the applicant and
    shown by the self-service query)."""

    commission = models.ForeignKey(
        Commission,
        verbose_name=_("commission"),
        on_delete=models.CASCADE,
        related_name="status_events",
    )
    status = models.CharField(_("status"), max_length=20, choices=CommissionStatus)
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=SHORT_TEXT, blank=True)

    class Meta:
        verbose_name = _("status event")
        verbose_name_plural = _("status events")
        ordering = ["commission", "at", "pk"]

    def __str__(self):
        return f"{self.commission} {self.status}"


class CommissionCounter(AuditedModel):
    """The last sequence number of the commission numbers of a year (WT2026-000001, ...),
    incremented under a row lock so that concurrent desks never get the same number."""

    year = models.PositiveIntegerField(_("year"), unique=True)
    last = models.PositiveIntegerField(_("last sequence"), default=0)

    class Meta:
        verbose_name = _("commission number counter")
        verbose_name_plural = _("commission number counters")

    def __str__(self):
        return f"{self.year}: {self.last}"


# Badge tones (core/components.py).
register_tones(
    Commission.Review,
    {
        Commission.Review.PENDING: "yellow",
        Commission.Review.ACCEPTED: "green",
        Commission.Review.REJECTED: "red",
    },
)
