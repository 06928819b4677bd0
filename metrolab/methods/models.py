"""The methods library (技术依据库, R6.7a-c): regulations and specifications with their
computed status, the instrument categories they cover, and deviations from them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.core.components import register_tones
from metrolab.core.documents import DocumentFields
from metrolab.core.models import AuditedModel
from metrolab.core.text import CODE, NAME, NOTE, SHORT_TEXT, UNIT


class InstrumentCategory(AuditedModel):
    """A category of instrument (器具类别: elastic-element pressure gauge, liquid-in-glass
    thermometer, digital multimeter, ...) that methods and authorised items cover."""

    code = models.CharField(_("code"), max_length=CODE, unique=True)
    name = models.CharField(_("name"), max_length=NAME)
    name_en = models.CharField(_("name (English)"), max_length=NAME, blank=True)
    discipline = models.ForeignKey(
        "commissions.Discipline",
        verbose_name=_("discipline"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="instrument_categories",
    )

    class Meta:
        verbose_name = _("instrument category")
        verbose_name_plural = _("instrument categories")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Method(DocumentFields, AuditedModel):
    """A regulation or specification (JJG, JJF, GB, GB/T, ISO, IEC, in-house method). Its
    status on a day is computed from its dates and its successor (`status_on`)."""

    class Kind(models.TextChoices):
        JJG = "JJG", _("JJG verification regulation")
        JJF = "JJF", _("JJF technical specification")
        GB = "GB", _("GB national standard")
        GBT = "GB/T", _("GB/T national standard (recommended)")
        ISO = "ISO", _("ISO standard")
        IEC = "IEC", _("IEC standard")
        INHOUSE = "inhouse", _("in-house method")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        CURRENT = "current", _("current")
        SUPERSEDED = "superseded", _("superseded")
        ABOLISHED = "abolished", _("abolished")
        NOT_YET_EFFECTIVE = "not_yet_effective", _("not yet effective")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    code = models.CharField(_("code"), max_length=CODE, help_text=_("e.g. JJG 52"))
    year = models.CharField(_("year / version"), max_length=CODE, help_text=_("e.g. 2013"))
    title = models.CharField(_("title"), max_length=SHORT_TEXT)
    title_en = models.CharField(_("title (English)"), max_length=SHORT_TEXT, blank=True)
    published_date = models.DateField(_("published"), null=True, blank=True)
    effective_date = models.DateField(_("effective from"))
    abolished_date = models.DateField(_("abolished on"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self",
        verbose_name=_("superseded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supersedes",
    )
    disciplines = models.ManyToManyField(
        "commissions.Discipline", verbose_name=_("disciplines"), blank=True, related_name="+"
    )
    categories = models.ManyToManyField(
        InstrumentCategory,
        verbose_name=_("instrument categories"),
        blank=True,
        related_name="methods",
    )
    # What within its categories it covers (blank: not limited), so that assignment proposes a
    # method fitting the item and warns when the chosen one does not (metrolab.methods.coverage).
    accuracy_classes = models.CharField(
        _("accuracy classes covered"),
        max_length=NAME,
        blank=True,
        help_text=_("Comma-separated, e.g. 1.0, 1.6, 2.5, 4.0 (empty: any class)."),
    )
    range_low = models.DecimalField(
        _("range covered from"), max_digits=20, decimal_places=9, null=True, blank=True
    )
    range_high = models.DecimalField(
        _("range covered to"), max_digits=20, decimal_places=9, null=True, blank=True
    )
    range_unit = models.CharField(_("unit of the range covered"), max_length=UNIT, blank=True)
    services = models.CharField(
        _("services"),
        max_length=80,
        blank=True,
        help_text=_("Comma-separated service codes it is used for (verification, calibration…)"),
    )
    notes = models.TextField(_("notes"), blank=True, max_length=NOTE)

    class Meta:
        verbose_name = _("method")
        verbose_name_plural = _("methods")
        ordering = ["kind", "code", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["code", "year"], name="method_code_year_unique")
        ]

    def __str__(self):
        return f"{self.code}-{self.year}"

    @property
    def designation(self) -> str:
        """The method as cited on records and certificates: "JJG 52-2013 title"."""
        return f"{self.code}-{self.year} {self.title}"

    def status_on(self, day: dt.date | None = None) -> str:
        """The status on `day` (today by default): not yet effective before its effective
        date; abolished from its abolished date; superseded once its successor is effective;
        otherwise current."""
        day = day or timezone.localdate()
        if self.effective_date > day:
            return self.Status.NOT_YET_EFFECTIVE
        if self.abolished_date is not None and self.abolished_date <= day:
            return self.Status.ABOLISHED
        successor = self.superseded_by
        if successor is not None and successor.effective_date <= day:
            return self.Status.SUPERSEDED
        return self.Status.CURRENT

    @property
    def status(self) -> str:
        return self.status_on()

    def get_status_display(self) -> str:
        return str(self.Status(self.status).label)

    def is_current_on(self, day: dt.date | None = None) -> bool:
        return self.status_on(day) == self.Status.CURRENT


class Deviation(DocumentFields, AuditedModel):
    """A deviation from a method for one commission line (偏离, R6.7c): requested with its
    technical justification, authorised by the technical manager and accepted by the
    customer (in the portal, or by an uploaded signed acceptance: the document fields).
    Verification (检定) admits no deviation; the service refuses to create one."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("awaiting authorisation")
        AUTHORISED = "authorised", _("authorised, awaiting the customer")
        REFUSED = "refused", _("refused by the technical manager")
        ACCEPTED = "accepted", _("accepted by the customer")
        DECLINED = "declined", _("declined by the customer")

    class Acceptance(models.TextChoices):
        PORTAL = "portal", _("in the portal")
        UPLOAD = "upload", _("signed acceptance uploaded")

    line = models.ForeignKey(
        "commissions.CommissionLine",
        verbose_name=_("commission line"),
        on_delete=models.PROTECT,
        related_name="deviations",
    )
    method = models.ForeignKey(
        Method, verbose_name=_("method"), on_delete=models.PROTECT, related_name="deviations"
    )
    description = models.TextField(_("deviation"), max_length=NOTE)
    justification = models.TextField(_("technical justification"), max_length=NOTE)
    state = models.CharField(
        _("state"), max_length=12, choices=State, default=State.REQUESTED, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("authorised by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    authorised_at = models.DateTimeField(_("authorised at"), null=True, blank=True)
    decision_note = models.TextField(_("technical manager's note"), blank=True, max_length=NOTE)
    acceptance = models.CharField(
        _("customer acceptance"), max_length=8, choices=Acceptance, blank=True
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted / declined by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    accepted_at = models.DateTimeField(_("accepted / declined at"), null=True, blank=True)
    customer_note = models.TextField(_("customer's note"), blank=True, max_length=NOTE)

    class Meta:
        verbose_name = _("deviation")
        verbose_name_plural = _("deviations")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.line.commission} {self.method}: {self.get_state_display()}"

    @property
    def in_force(self) -> bool:
        """Authorised by the technical manager and accepted by the customer."""
        return self.state == self.State.ACCEPTED and self.authorised_by_id is not None


# Badge tones (core/components.py): a method in force green, no longer in force red, not yet
# in force amber.
register_tones(
    Method.Status,
    {
        Method.Status.CURRENT: "green",
        Method.Status.NOT_YET_EFFECTIVE: "yellow",
        Method.Status.SUPERSEDED: "red",
        Method.Status.ABOLISHED: "red",
    },
)
register_tones(
    Deviation.State,
    {
        Deviation.State.REQUESTED: "neutral",
        Deviation.State.AUTHORISED: "yellow",
        Deviation.State.REFUSED: "red",
        Deviation.State.ACCEPTED: "green",
        Deviation.State.DECLINED: "red",
    },
)
