"""Token authentication without a write per request, with the token's roles cached (R7.2a,
R7.1): last use written at most once a minute; revocation, role changes and deactivation
take effect on the next request despite the cache; fewer queries per request."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrolab.core.access import TOKEN_LAST_USE_SECONDS
from metrolab.core.models import ApiToken
from metrolab.core.permissions import SYSTEM
from metrolab.core.services import api_token_create, api_token_revoke, user_roles_set

LIST = "/api/v1/commissions/?limit=20"
ROOT = Path(__file__).resolve().parents[3]


def _token(user, roles):
    token, raw = api_token_create(user=user, name="erp", roles=roles, actor=user)
    return token, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _token_updates(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('UPDATE "core_apitoken"')]


def test_fifty_uses_within_a_minute_write_the_last_use_once(cast, client):
    token, auth = _token(cast["receptionist"], ["receptionist"])
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(50):
            assert client.get(LIST, **auth).status_code == 200
    assert len(_token_updates(ctx)) == 1
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and token.last_used_ip == "127.0.0.1"

    later = first + dt.timedelta(seconds=TOKEN_LAST_USE_SECONDS + 1)
    with (
        mock.patch("django.utils.timezone.now", return_value=later),
        CaptureQueriesContext(connection) as ctx,
    ):
        for _ in range(5):
            assert client.get(LIST, **auth).status_code == 200
    assert len(_token_updates(ctx)) == 1
    token.refresh_from_db()
    assert token.last_used_at == later


def test_a_new_address_is_recorded_at_once(cast, client):
    token, auth = _token(cast["receptionist"], ["receptionist"])
    assert client.get(LIST, **auth).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(LIST, REMOTE_ADDR="192.0.2.7", **auth).status_code == 200
        assert client.get(LIST, REMOTE_ADDR="192.0.2.7", **auth).status_code == 200
    assert len(_token_updates(ctx)) == 1
    token.refresh_from_db()
    assert token.last_used_ip == "192.0.2.7"


def test_last_use_writes_no_audit_event(cast, client):
    from metrolab.core.models import AuditEvent

    _token_obj, auth = _token(cast["receptionist"], ["receptionist"])
    before = AuditEvent.objects.count()
    assert client.get(LIST, **auth).status_code == 200
    assert AuditEvent.objects.count() == before


def test_revoked_token_is_refused_on_the_next_request(cast, client):
    token, auth = _token(cast["receptionist"], ["receptionist"])
    assert client.get(LIST, **auth).status_code == 200
    api_token_revoke(token=token, actor=cast["admin"], reason="leaked")
    assert client.get(LIST, **auth).status_code == 401


def test_role_removed_from_the_user_applies_on_the_next_request(cast, client):
    user = cast["receptionist"]
    user_roles_set(user=user, roles=["receptionist", "device"], actor=SYSTEM)
    _token_obj, auth = _token(user, ["receptionist", "device"])
    assert client.get(LIST, **auth).status_code == 200
    assert client.get(LIST, **auth).status_code == 200  # served from the cache
    user_roles_set(user=user, roles=["device"], actor=SYSTEM)
    assert client.get(LIST, **auth).status_code == 403
    me = client.get("/api/v1/me", **auth).json()
    assert [r["code"] for r in me["roles"]] == ["device"]


def test_role_removed_from_the_token_applies_on_the_next_request(cast, client):
    from django.contrib.auth.models import Group

    user = cast["receptionist"]
    user_roles_set(user=user, roles=["receptionist", "device"], actor=SYSTEM)
    token, auth = _token(user, ["receptionist", "device"])
    assert client.get(LIST, **auth).status_code == 200
    token.roles.remove(Group.objects.get(name="receptionist"))
    assert client.get(LIST, **auth).status_code == 403


def test_permission_taken_from_a_role_applies_on_the_next_request(cast, rf):
    from django.contrib.auth.models import Group
    from ninja.errors import AuthorizationError

    from metrolab.core.access import Access, BearerTokenAuth

    group = Group.objects.filter(permissions__isnull=False, name__in=cast).distinct().first()
    perm = group.permissions.select_related("content_type").first()
    name = f"{perm.content_type.app_label}.{perm.codename}"
    _token_obj, auth = _token(cast[group.name], [group.name])
    guarded = BearerTokenAuth(Access(perms=frozenset({name})))
    assert guarded(rf.get("/api/v1/x", **auth)).has_perm(name)
    group.permissions.remove(perm)
    with pytest.raises(AuthorizationError):
        guarded(rf.get("/api/v1/x", **auth))


def test_deactivated_user_is_refused_on_the_next_request(cast, client):
    user = cast["receptionist"]
    _token_obj, auth = _token(user, ["receptionist"])
    assert client.get(LIST, **auth).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get(LIST, **auth).status_code == 401


def test_expired_token_is_refused_on_the_next_request(cast, client):
    token, auth = _token(cast["receptionist"], ["receptionist"])
    assert client.get(LIST, **auth).status_code == 200
    token.expires_at = timezone.now() - dt.timedelta(seconds=1)
    token.save(update_fields=["expires_at"])
    assert client.get(LIST, **auth).status_code == 401


def test_a_change_made_in_another_process_applies_despite_the_cache(cast, client):
    """Another server process changes the roles: no signal reaches this process's cache; the
    version read with the token tells it."""
    from metrolab.core.access import bump_auth_version
    from metrolab.core.models import User

    user = cast["receptionist"]
    user_roles_set(user=user, roles=["receptionist", "device"], actor=SYSTEM)
    _token_obj, auth = _token(user, ["receptionist", "device"])
    assert client.get(LIST, **auth).status_code == 200
    through = User.groups.through
    # The membership row removed behind the ORM's signals, as another process would...
    through.objects.filter(user=user, group__name="receptionist").delete()
    # ...the cached scope still answers (nothing told this process)...
    assert client.get(LIST, **auth).status_code == 200
    # ...until the version that process's change bumped is read with the token.
    bump_auth_version()
    assert client.get(LIST, **auth).status_code == 403


def test_authenticated_list_request_takes_three_queries(cast, client):
    """Before: 9 statements (token, token roles, user roles, permissions, savepoint, last-use
    update, release, count, page). Now: the token with its user and the version, the count and
    the page."""
    _token_obj, auth = _token(cast["receptionist"], ["receptionist"])
    assert client.get(LIST, **auth).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(LIST, **auth).status_code == 200
    assert len(ctx.captured_queries) == 3, [q["sql"][:120] for q in ctx.captured_queries]
    assert ctx.captured_queries[0]["sql"].startswith('SELECT "core_apitoken"')


def test_first_request_of_a_token_computes_its_scope_in_one_query(cast, client):
    _token_obj, auth = _token(cast["receptionist"], ["receptionist"])
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(LIST, **auth).status_code == 200
    # token, scope, last-use update, count, page
    assert len(ctx.captured_queries) == 5, [q["sql"][:120] for q in ctx.captured_queries]
    assert ApiToken.objects.get(pk=_token_obj.pk).last_used_at is not None


def _settings_in_subprocess(env_extra: dict) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
        "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS'))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_connection_pool_setting():
    """PostgreSQL gets psycopg's connection pool in production by default, elsewhere with
    METROLAB_DB_POOL=1; METROLAB_DB_POOL=0 turns it off; SQLite never has one."""
    url = "postgres://metrolab:x@127.0.0.1:5432/metrolab"
    production = {
        "METROLAB_ENV": "production",
        "SECRET_KEY": "x" * 30 + "-production-key-" + "y" * 30,
        "ALLOWED_HOSTS": "lab.example",
    }
    asked = _settings_in_subprocess({"DATABASE_URL": url, "METROLAB_DB_POOL": "1"})
    assert asked.returncode == 0, asked.stderr
    assert "'pool': {'min_size': 2, 'max_size': 8" in asked.stdout
    plain = _settings_in_subprocess({"DATABASE_URL": url, "METROLAB_DB_POOL": ""})
    assert plain.returncode == 0, plain.stderr
    assert "pool" not in plain.stdout
    by_default = _settings_in_subprocess({**production, "DATABASE_URL": url})
    assert by_default.returncode == 0, by_default.stderr
    assert "'pool'" in by_default.stdout
    off = _settings_in_subprocess({**production, "DATABASE_URL": url, "METROLAB_DB_POOL": "0"})
    assert off.returncode == 0, off.stderr
    assert "pool" not in off.stdout
