"""Reads of the platform core."""

from __future__ import annotations

from django.db.models import QuerySet

from metrolab.core.filters import AuditEventFilter
from metrolab.core.models import ApiToken, AuditEvent, AuditVerification


def audit_event_list(filters: AuditEventFilter | None = None, **values) -> QuerySet[AuditEvent]:
    """Audit events, newest first, filtered as the audit page and API filter
    (`core.filters.AuditEventFilter`, or its values by name; indexes cover each filter)."""
    filters = filters if filters is not None else AuditEventFilter(**values)
    return filters.filter(AuditEvent.objects.all()).order_by("-seq")


def audit_object_types() -> list[str]:
    return list(
        AuditEvent.objects.exclude(object_type="")
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )


def audit_verification_latest() -> AuditVerification | None:
    """The newest verification shown on the audit page (the worker's hourly anchors are not
    verifications)."""
    return (
        AuditVerification.objects.exclude(status=AuditVerification.Status.ANCHORED)
        .order_by("-created_at", "-pk")
        .first()
    )


def api_token_list() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("user").prefetch_related("roles").order_by("-created_at")
