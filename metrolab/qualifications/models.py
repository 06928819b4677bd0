"""Qualification libraries (R6.8): the lab's authorised items (scope, 授权项目) and its
people's qualifications — certificates, training, and which items each person may perform,
check and approve. Everything is linked (R6.8b): an authorised item reaches its methods,
measurement standard, the standard's equipment and the qualified people, and back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.commissions.choices import Service
from metrolab.core.documents import DocumentFields
from metrolab.core.models import AuditedModel
from metrolab.core.text import CODE, NAME, NOTE, PHONE, REFERENCE, SHORT_TEXT, UNIT


def _valid_on(valid_from: dt.date | None, valid_until: dt.date | None, day: dt.date) -> bool:
    """Valid from `valid_from` up to and including `valid_until` (open ends allowed)."""
    return (valid_from is None or valid_from <= day) and (valid_until is None or day <= valid_until)


class AuthorisedItem(AuditedModel):
    """One item of the lab's authorised scope (授权项目 / 校准能力): a service on a measurand
    of an instrument category over a range, with its best uncertainty (CMC), the methods and
    the measurement standard it is done with, and its validity."""

    code = models.CharField(_("code"), max_length=CODE, unique=True)
    name = models.CharField(_("name"), max_length=NAME)
    service = models.CharField(_("service"), max_length=16, choices=Service)
    measurand = models.CharField(_("measurand"), max_length=NAME)
    category = models.ForeignKey(
        "methods.InstrumentCategory",
        verbose_name=_("instrument category"),
        on_delete=models.PROTECT,
        related_name="authorised_items",
    )
    range_low = models.DecimalField(
        _("range from"), max_digits=20, decimal_places=9, null=True, blank=True
    )
    range_high = models.DecimalField(
        _("range to"), max_digits=20, decimal_places=9, null=True, blank=True
    )
    unit = models.CharField(_("unit"), max_length=UNIT, blank=True)
    range_text = models.CharField(_("range (as stated)"), max_length=NAME, blank=True)
    cmc = models.CharField(_("best uncertainty (CMC) / accuracy class"), max_length=NAME)
    # The CMC as a number, for records to check (an expanded uncertainty smaller than it is
    # refused): in the item's unit, or relative to the value ("%", "ppm").
    cmc_value = models.DecimalField(
        _("CMC (expanded uncertainty)"),
        max_digits=20,
        decimal_places=9,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("The smallest expanded uncertainty the lab may state; records check it."),
    )
    cmc_unit = models.CharField(
        _("CMC unit"),
        max_length=UNIT,
        blank=True,
        help_text=_('The item\'s unit, or "%" / "ppm" for a CMC relative to the value.'),
    )
    methods = models.ManyToManyField(
        "methods.Method", verbose_name=_("methods"), related_name="authorised_items"
    )
    standard = models.ForeignKey(
        "equipment.MeasurementStandard",
        verbose_name=_("measurement standard"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="authorised_items",
    )
    authorisation_ref = models.CharField(
        _("authorisation reference"), max_length=REFERENCE, blank=True
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("authorised item")
        verbose_name_plural = _("authorised items (scope)")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def valid_on(self, day: dt.date | None = None) -> bool:
        return _valid_on(self.valid_from, self.valid_until, day or timezone.localdate())

    def covers_range(self, low: Decimal | None, high: Decimal | None) -> bool:
        """Whether [low, high] (in this item's unit) lies within the authorised range. An
        open end of the authorised range admits anything on that side. A range not stated at
        all cannot be checked and passes: task assignment reads it from the item's model /
        range (`ranges.stated_range`) and the assignment page lets the manager state it."""
        if low is None and high is None:
            return True
        if low is None:
            low = high
        if high is None:
            high = low
        if self.range_low is not None and low < self.range_low:
            return False
        return not (self.range_high is not None and high > self.range_high)


class StaffProfile(AuditedModel):
    """A staff member's profile (人员档案)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="staff_profile",
    )
    employee_no = models.CharField(_("employee no."), max_length=CODE, blank=True)
    department = models.CharField(_("department"), max_length=NAME, blank=True)
    title = models.CharField(_("professional title"), max_length=NAME, blank=True)
    education = models.CharField(_("education"), max_length=NAME, blank=True)
    joined = models.DateField(_("joined the lab"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=PHONE, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=NOTE)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        ordering = ["employee_no", "pk"]

    def __str__(self):
        return str(self.user)


class PersonnelCertificate(DocumentFields, AuditedModel):
    """A person's certificate (注册计量师证, 计量检定员证, 校准人员能力证明, internal
    authorisation...) with the authorised items it covers and its dates."""

    class Kind(models.TextChoices):
        REGISTERED_METROLOGIST = "registered", _("registered metrologist (注册计量师)")
        VERIFICATION_OFFICER = "verifier", _("verification officer (计量检定员证)")
        CALIBRATION = "calibration", _("calibration competence (校准人员能力证明)")
        TESTING = "testing", _("testing competence (检测人员上岗证)")
        INTERNAL = "internal", _("internal authorisation (内部授权)")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    number = models.CharField(_("certificate no."), max_length=REFERENCE)
    issued_by = models.CharField(_("issued by"), max_length=NAME, blank=True)
    issue_date = models.DateField(_("issued"))
    expiry_date = models.DateField(_("expires"), null=True, blank=True)
    items = models.ManyToManyField(
        AuthorisedItem, verbose_name=_("items covered"), blank=True, related_name="certificates"
    )

    class Meta:
        verbose_name = _("personnel certificate")
        verbose_name_plural = _("personnel certificates")
        ordering = ["person", "-issue_date"]

    def __str__(self):
        return f"{self.person} {self.get_kind_display()} {self.number}"

    def valid_on(self, day: dt.date | None = None) -> bool:
        return _valid_on(self.issue_date, self.expiry_date, day or timezone.localdate())


class TrainingRecord(AuditedModel):
    """A training a person attended (培训记录)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="trainings",
    )
    date = models.DateField(_("date"))
    topic = models.CharField(_("topic"), max_length=NAME)
    provider = models.CharField(_("provider"), max_length=NAME, blank=True)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1, default=0)
    result = models.CharField(_("result"), max_length=NAME, blank=True)
    items = models.ManyToManyField(
        AuthorisedItem, verbose_name=_("related items"), blank=True, related_name="trainings"
    )

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering = ["person", "-date"]

    def __str__(self):
        return f"{self.person} {self.date} {self.topic}"


class Authorisation(AuditedModel):
    """What a person may do for an authorised item (人员授权): perform (检定/校准), check
    (核验) or approve (批准/签发), over a validity period, on the basis of a certificate (then
    it also ends when the certificate expires)."""

    class Capacity(models.TextChoices):
        PERFORM = "perform", _("perform")
        CHECK = "check", _("check")
        APPROVE = "approve", _("approve")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="authorisations",
    )
    item = models.ForeignKey(
        AuthorisedItem,
        verbose_name=_("authorised item"),
        on_delete=models.PROTECT,
        related_name="authorisations",
    )
    capacity = models.CharField(_("capacity"), max_length=8, choices=Capacity)
    certificate = models.ForeignKey(
        PersonnelCertificate,
        verbose_name=_("on the basis of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="authorisations",
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked = models.BooleanField(_("revoked"), default=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.CharField(_("reason for revoking"), max_length=SHORT_TEXT, blank=True)

    class Meta:
        verbose_name = _("personnel authorisation")
        verbose_name_plural = _("personnel authorisations")
        ordering = ["person", "item", "capacity"]
        indexes = [
            models.Index(fields=["person", "item", "capacity"], name="authorisation_lookup_idx")
        ]

    def __str__(self):
        return f"{self.person}: {self.get_capacity_display()} {self.item.code}"

    def valid_until_effective(self) -> dt.date | None:
        """The last valid day: its own end or its certificate's expiry, whichever is first."""
        certificate_end = self.certificate.expiry_date if self.certificate else None
        ends = [d for d in (self.valid_until, certificate_end) if d]
        return min(ends) if ends else None

    def valid_on(self, day: dt.date | None = None) -> bool:
        day = day or timezone.localdate()
        if self.revoked:
            return False
        if self.certificate is not None and not self.certificate.valid_on(day):
            return False
        return _valid_on(self.valid_from, self.valid_until, day)
