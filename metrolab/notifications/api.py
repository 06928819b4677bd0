"""`/api/v1/notifications/...`: the caller's in-app inbox (R6.1c)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404
from ninja import Router, Schema
from ninja.pagination import paginate

from metrolab.core.access import api_access
from metrolab.notifications import selectors, services

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    event: str
    subject: str
    body: str
    payload: dict[str, Any]
    related_type: str
    related_id: str
    created_at: datetime
    read_at: datetime | None


@router.get(
    "/inbox",
    response=list[NotificationOut],
    summary="My notifications, unread first",
    auth=api_access(),
)
@paginate
def inbox(request):
    return selectors.notification_list(user=request.auth)


@router.post(
    "/{notification_id}/read",
    response=NotificationOut,
    summary="Mark one of my notifications read",
    auth=api_access(),
)
def mark_read(request, notification_id: int):
    user = request.auth
    notification = selectors.notification_get(user=user, pk=notification_id)
    if notification is None:
        raise Http404
    return services.notification_mark_read(notification, user, actor=user)
