"""Reads of the platform core."""

from __future__ import annotations

from django.db.models import QuerySet

from metrolab.core.models import ApiToken, AuditEvent, AuditVerification


def audit_event_list(
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    since=None,
    until=None,
) -> QuerySet[AuditEvent]:
    """Audit events, newest first, filtered as on the audit page (indexes cover each filter)."""
    qs = AuditEvent.objects.all()
    if actor:
        qs = qs.filter(actor_label=actor)
    if action:
        qs = qs.filter(action__startswith=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lte=until)
    return qs.order_by("-seq")


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
