"""Writes of notifications (R6.1c): create a notification with one delivery per channel, send
each delivery from a background task with retries, and mark notifications read.

Other apps call `notify(...)` inside their own service (so inside their transaction), e.g. when
a commission reaches a status node::

    notify(
        event="commission.status_changed",
        subject=_("Commission %(no)s: items received") % {"no": c.number},
        body=...,
        recipient_user=portal_user,              # in-app inbox
        channels={"email": contact.email, "sms": contact.phone, "wechat": contact.wechat_id},
        payload={"number": c.number, "status": c.status},
        related=c,
        webhooks_for=c.customer,                 # the customer's subscribed endpoints
    )

Background tasks are enqueued with `transaction.on_commit`: a notification whose transaction
rolls back sends nothing, and this holds for every task backend (the database backend would
also store its row inside the transaction, a Redis queue would not).
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError, service
from metrolab.core.text import DOCUMENT_TEXT, NAME, excerpt
from metrolab.notifications.channels import REGISTRY, DeliveryError, channel_get, configured
from metrolab.notifications.models import Delivery, Notification, WebhookEndpoint

logger = logging.getLogger(__name__)

# Waits after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure gives up.
DEFAULT_RETRY_DELAYS = (60, 300, 1800, 7200)


def retry_delays() -> tuple[int, ...]:
    """Seconds to wait before each retry (setting METROLAB_NOTIFY_RETRY_DELAYS)."""
    return tuple(getattr(settings, "METROLAB_NOTIFY_RETRY_DELAYS", DEFAULT_RETRY_DELAYS))


def max_attempts() -> int:
    return len(retry_delays()) + 1


@service("notification.create")
def notify(
    *,
    event: str,
    subject: str,
    body: str,
    recipient_user: Any = None,
    channels: dict[str, str] | None = None,
    payload: dict | None = None,
    related: models.Model | None = None,
    webhooks_for: Any = None,
    actor: Any,
    reason: str = "",
) -> Notification:
    """Record a notification and queue its deliveries (R6.1c): the inbox of `recipient_user`,
    one delivery per `channels` entry (channel → address; empty addresses and channels that
    are not configured, e.g. SMS without a gateway, are skipped, so a contact's fields can be
    passed as they are), and a webhook to each active endpoint of
    `webhooks_for` subscribed to `event`. Unknown channels are refused."""
    channels = _channels_checked(channels or {}, recipient_user)
    notification = Notification.objects.create(
        recipient=recipient_user,
        event=event,
        # Composed by the platform from texts kept in full where they belong.
        subject=excerpt(subject, NAME),
        body=excerpt(body, DOCUMENT_TEXT),
        payload=payload or {},
        related_type=related._meta.label_lower if related is not None else "",
        related_id=str(related.pk) if related is not None else "",
    )
    if recipient_user is not None:
        channels = {"inbox": recipient_user.get_username(), **channels}
    deliveries = [_delivery_new(notification, name, target) for name, target in channels.items()]
    if webhooks_for is not None:
        deliveries += _webhook_deliveries(notification, webhooks_for)
    for delivery in deliveries:
        if delivery.status == Delivery.Status.PENDING:
            transaction.on_commit(partial(_enqueue, delivery.pk, None))
    return notification


def _channels_checked(channels: dict[str, str], recipient_user: Any) -> dict[str, str]:
    """Drop empty targets; refuse unknown channels, a bare inbox and hand-addressed webhooks."""
    channels = {name: (target or "").strip() for name, target in channels.items()}
    channels = {name: target for name, target in channels.items() if target}
    unknown = set(channels) - set(REGISTRY)
    if unknown:
        raise ServiceError(_("Unknown notification channel: %s") % ", ".join(sorted(unknown)))
    if "inbox" in channels:
        raise ServiceError(_("The inbox is addressed through the recipient user."))
    if "webhook" in channels:
        raise ServiceError(_("Webhooks go to a customer's registered endpoints only."))
    return {name: target for name, target in channels.items() if configured(name)}


def _delivery_new(notification: Notification, channel: str, target: str, endpoint=None):
    """A pending delivery; an inline channel's (the inbox) is delivered as it is created."""
    delivery = Delivery(
        notification=notification, channel=channel, target=target[:500], endpoint=endpoint
    )
    if REGISTRY[channel].inline:
        REGISTRY[channel]().send(delivery)
        delivery.status = Delivery.Status.SENT
        delivery.attempts = 1
        delivery.last_attempt_at = delivery.sent_at = timezone.now()
    delivery.save()
    return delivery


def _webhook_deliveries(notification: Notification, owner: Any) -> list[Delivery]:
    """One delivery per active endpoint of the customer subscribed to the event."""
    endpoints = WebhookEndpoint.objects.filter(customer=owner, active=True).order_by("pk")
    return [
        _delivery_new(notification, "webhook", endpoint.url, endpoint)
        for endpoint in endpoints
        if endpoint.wants(notification.event)
    ]


def _enqueue(delivery_id: int, run_after: dt.datetime | None) -> None:
    from metrolab.notifications.tasks import delivery_attempt_task

    task = delivery_attempt_task.using(run_after=run_after) if run_after else delivery_attempt_task
    task.enqueue(delivery_id=delivery_id)


def delivery_attempt(delivery_id: int) -> str:
    """One attempt to send a delivery (R6.1c), run by the background worker. Network I/O runs
    outside any transaction; the start and the outcome are each recorded by a service.
    Returns the delivery's status afterwards ("skipped" when it was not pending). The
    worker's writes are the system's."""
    delivery = _delivery_start(delivery_id, actor=SYSTEM)
    if delivery is None:
        return "skipped"
    try:
        channel_get(delivery.channel).send(delivery)
    except DeliveryError as exc:
        return _delivery_failed(delivery, str(exc), retryable=exc.retryable, actor=SYSTEM).status
    except Exception as exc:
        logger.exception(
            "delivery %s: unexpected error in channel %s", delivery_id, delivery.channel
        )
        return _delivery_failed(
            delivery, f"{type(exc).__name__}: {exc}", retryable=True, actor=SYSTEM
        ).status
    return _delivery_sent(delivery, actor=SYSTEM).status


@service("delivery.attempt_start")
def _delivery_start(delivery_id: int, *, actor: Any) -> Delivery | None:
    """Claim a pending delivery (status sending, one more attempt); None if not pending."""
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("notification", "endpoint")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.status != Delivery.Status.PENDING:
        return None
    delivery.status = Delivery.Status.SENDING
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "attempts", "last_attempt_at", "next_attempt_at"])
    return delivery


@service("delivery.sent")
def _delivery_sent(delivery: Delivery, *, actor: Any) -> Delivery:
    delivery.status = Delivery.Status.SENT
    delivery.sent_at = timezone.now()
    delivery.last_error = ""
    delivery.save(update_fields=["status", "sent_at", "last_error"])
    return delivery


@service("delivery.failed")
def _delivery_failed(delivery: Delivery, error: str, *, retryable: bool, actor: Any) -> Delivery:
    """Record the error; schedule a retry with back-off, or end as failed / gave up."""
    delivery.last_error = error[:2000]
    if not retryable:
        delivery.status = Delivery.Status.FAILED
    elif delivery.attempts >= max_attempts():
        delivery.status = Delivery.Status.GAVE_UP
    else:
        delay = retry_delays()[delivery.attempts - 1]
        delivery.status = Delivery.Status.PENDING
        delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=delay)
        transaction.on_commit(partial(_enqueue, delivery.pk, delivery.next_attempt_at))
    delivery.save(update_fields=["status", "last_error", "next_attempt_at"])
    return delivery


@service("notification.mark_read")
def notification_mark_read(
    notification: Notification, user: Any, *, actor: Any, reason: str = ""
) -> Notification:
    """The recipient has read a notification in their inbox (R6.1c); only they may mark it."""
    if notification.recipient_id is None or notification.recipient_id != user.pk:
        raise ServiceError(_("This notification is not yours."), code=CoreRefusal.FORBIDDEN)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@service("notification.mark_all_read")
def notification_mark_all_read(*, user: Any, actor: Any, reason: str = "") -> int:
    """Mark every unread notification of `user` read; returns how many."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    count = 0
    for notification in unread:
        notification_mark_read(notification, user, actor=actor)
        count += 1
    return count
