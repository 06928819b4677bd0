"""Core API: health, "who am I" and the audit log."""

from datetime import datetime
from typing import Any

from django.db import connection
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from metrolab import __version__
from metrolab.core import audit_names, selectors
from metrolab.core.access import api_access, public_api
from metrolab.core.filters import AuditEventFilter
from metrolab.core.roles import ROLES

router = Router(tags=["core"])


class HealthOut(Schema):
    status: str
    version: str
    database: str


class RoleOut(Schema):
    code: str
    label: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    roles: list[RoleOut]
    via_token: bool
    totp_enabled: bool


@router.get("/health", response=HealthOut, summary="Service health", **public_api())
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok", "version": __version__, "database": connection.vendor}


@router.get("/me", response=MeOut, summary="Who am I, and my roles", auth=api_access())
def me(request):
    user = request.auth
    codes = sorted(user.role_codes)
    return {
        "id": user.pk,
        "username": user.get_username(),
        "display_name": user.display_name,
        "email": user.email,
        "roles": [{"code": c, "label": str(ROLES[c].label)} for c in codes if c in ROLES],
        "via_token": getattr(request, "api_token", None) is not None,
        "totp_enabled": user.totp_enabled,
    }


class AuditEventOut(Schema):
    seq: int
    created_at: datetime
    actor_type: str
    actor_label: str
    action: str
    action_name: str
    object_type: str
    object_type_name: str
    object_id: str
    changes: dict[str, Any]
    reason: str

    @staticmethod
    def resolve_action_name(event) -> str:
        return audit_names.action_name(event.action)

    @staticmethod
    def resolve_object_type_name(event) -> str:
        return audit_names.object_type_name(event.object_type)


@router.get(
    "/audit/events",
    response=list[AuditEventOut],
    auth=api_access(perms=["core.view_auditevent"]),
    summary="Audit log: codes and their translated names, newest first",
)
@paginate
def audit_events(request, filters: Query[AuditEventFilter]):
    """The audit page's events and filter (R7.2, `AuditEventFilter`): `action` and
    `object_type` are the stored codes, `action_name` and `object_type_name` what the page
    shows, in the caller's language."""
    return selectors.audit_event_list(filters)
