"""Reads of notifications that depend on who asks (R6.1c)."""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from metrolab.notifications.models import Delivery, Notification


def notification_list(*, user: Any) -> QuerySet[Notification]:
    """The user's own notifications, unread first, newest first within each group."""
    unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    return (
        Notification.objects.filter(recipient_id=user.pk)
        .annotate(unread=unread)
        .order_by("-unread", "-created_at", "-id")
    )


def notification_get(*, user: Any, pk: int) -> Notification | None:
    """One of the user's own notifications, or None (someone else's is not found either)."""
    return Notification.objects.filter(recipient_id=user.pk, pk=pk).first()


def notification_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def delivery_list(*, status: str = "", channel: str = "") -> QuerySet[Delivery]:
    """The delivery log, newest first, optionally filtered by status and channel."""
    deliveries = Delivery.objects.select_related("notification")
    if status:
        deliveries = deliveries.filter(status=status)
    if channel:
        deliveries = deliveries.filter(channel=channel)
    return deliveries.order_by("-created_at", "-id")


def channel_status() -> list[dict]:
    """Every delivery channel with whether it is configured, for the delivery log (R6.1c)."""
    from metrolab.notifications.channels import configured

    return [
        {"code": code, "label": label, "configured": configured(code)}
        for code, label in Delivery.Channel.choices
    ]
