"""Notifications to applicants and staff over pluggable channels with a delivery log (R6.1c)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from metrolab.core.components import register_tones
from metrolab.core.models import AuditedModel
from metrolab.core.text import DOCUMENT_TEXT, NAME, SHORT_TEXT


def webhook_secret_new() -> str:
    """A fresh shared secret for signing webhook bodies (HMAC-SHA256, R6.1c)."""
    return secrets.token_urlsafe(32)


class Notification(AuditedModel):
    """One message about something that happened (e.g. a commission reached a status node),
    addressed to a user's in-app inbox and/or to addresses on other channels (R6.1c). The
    addresses per channel are kept on its deliveries, one per channel."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    event = models.CharField(_("event"), max_length=64, db_index=True)
    subject = models.CharField(_("subject"), max_length=NAME)
    body = models.TextField(_("text"), blank=True, max_length=DOCUMENT_TEXT)
    payload = models.JSONField(_("data"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    related_type = models.CharField(_("object type"), max_length=100, blank=True)
    related_id = models.CharField(_("object id"), max_length=64, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "created_at"], name="notif_inbox_idx"),
            models.Index(fields=["related_type", "related_id"], name="notif_related_idx"),
        ]

    def __str__(self):
        return f"{self.event}: {self.subject}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class WebhookEndpoint(AuditedModel):
    """A URL of a customer organisation's system that receives signed JSON for the events it
    subscribed to (R6.1c). `events` lists event codes; "*" subscribes to every event."""

    audit_secret = frozenset({"secret"})

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
    )
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=128,
        default=webhook_secret_new,
        help_text=_("Shared with the customer to verify the X-MetroLab-Signature header."),
    )
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_('Event codes to send, e.g. ["commission.status_changed"]; "*" for all.'),
    )
    active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=SHORT_TEXT, blank=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["customer", "url"]

    def __str__(self):
        return self.url

    def wants(self, event: str) -> bool:
        """Whether this endpoint subscribed to `event`."""
        return self.active and ("*" in self.events or event in self.events)


class Delivery(AuditedModel):
    """One attempt history of sending a notification over one channel to one target: the
    delivery log (R6.1c). Retryable failures go back to pending with `next_attempt_at`."""

    class Channel(models.TextChoices):
        INBOX = "inbox", _("in-app inbox")
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        WEBHOOK = "webhook", _("webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        GAVE_UP = "gave_up", _("gave up")

    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    target = models.CharField(_("target"), max_length=500, blank=True)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("webhook endpoint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["channel", "status"], name="delivery_channel_status_idx"),
            models.Index(fields=["created_at"], name="delivery_created_idx"),
        ]

    def __str__(self):
        return f"{self.channel} → {self.target} ({self.status})"


# Badge tones (core/components.py).
register_tones(
    Delivery.Status,
    {
        Delivery.Status.PENDING: "yellow",
        Delivery.Status.SENDING: "yellow",
        Delivery.Status.SENT: "green",
        Delivery.Status.FAILED: "red",
        Delivery.Status.GAVE_UP: "red",
    },
)
