"""Customer organisations, their contacts, portal accounts and instrument register
(R6.1a, R9.1)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from metrolab.core.models import AuditedModel
from metrolab.core.text import CODE, NAME, NOTE, PHONE, REFERENCE, SHORT_TEXT


class Customer(AuditedModel):
    """A customer organisation (委托单位) with its settlement terms."""

    class Settlement(models.TextChoices):
        CASH = "cash", _("pay on collection")
        MONTHLY = "monthly", _("monthly statement")
        CONTRACT = "contract", _("framework contract")

    code = models.CharField(_("customer code"), max_length=CODE, unique=True)
    name = models.CharField(_("name"), max_length=NAME, db_index=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    address = models.CharField(_("address"), max_length=SHORT_TEXT, blank=True)
    settlement = models.CharField(
        _("settlement terms"), max_length=16, choices=Settlement, default=Settlement.CASH
    )
    credit_limit = models.DecimalField(
        _("credit limit (CNY)"), max_digits=12, decimal_places=2, default=0
    )
    notes = models.TextField(_("notes"), blank=True, max_length=NOTE)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Contact(AuditedModel):
    """A person at a customer organisation, and how they want to be told of progress."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=NAME)
    phone = models.CharField(_("phone"), max_length=PHONE, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat_id = models.CharField(_("WeChat id"), max_length=CODE, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notify_sms = models.BooleanField(_("notify by SMS"), default=True)
    notify_email = models.BooleanField(_("notify by e-mail"), default=True)
    notify_wechat = models.BooleanField(_("notify by WeChat"), default=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["customer", "-is_primary", "name"]

    def __str__(self):
        return self.name


class PortalAccount(AuditedModel):
    """Links a user holding the customer role to the organisation whose data they may see
    (only their own: R4.3)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="portal_account",
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="portal_accounts",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("portal account")
        verbose_name_plural = _("portal accounts")

    def __str__(self):
        return f"{self.user} → {self.customer}"


class Instrument(AuditedModel):
    """An instrument of the customer's that the lab has served: the register of what falls due
    for recalibration (reminders 30 days ahead)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="instruments"
    )
    name = models.CharField(_("instrument name"), max_length=NAME)
    model_range = models.CharField(_("model / range"), max_length=NAME, blank=True)
    accuracy_class = models.CharField(_("accuracy class"), max_length=NAME, blank=True)
    serial_no = models.CharField(_("serial no."), max_length=REFERENCE, blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=NAME, blank=True)
    last_service_date = models.DateField(_("last served"), null=True, blank=True)
    next_due_date = models.DateField(_("next due"), null=True, blank=True)
    reminder_sent_for = models.DateField(_("reminder sent for due date"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer instrument")
        verbose_name_plural = _("customer instruments")
        ordering = ["next_due_date", "name"]
        indexes = [
            models.Index(fields=["customer", "next_due_date"], name="instrument_due_idx"),
            models.Index(fields=["next_due_date"], name="instrument_next_due_idx"),
        ]

    def __str__(self):
        return f"{self.name} {self.serial_no}".strip()
