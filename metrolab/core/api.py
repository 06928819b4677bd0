"""Core API: health and "who am I"."""

from __future__ import annotations

from django.db import connection
from ninja import Router, Schema

from metrolab import __version__
from metrolab.core.access import api_access, public_api
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
