"""Platform foundation: settings, CLI, demo lab, API docs and errors, audit coverage of models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps

from metrolab.core.models import AuditedModel
from metrolab.core.permissions import SYSTEM

ROOT = Path(__file__).resolve().parents[3]

# Models that are not lab data written through services, and why they are not AuditedModel.
AUDIT_EXEMPT = {
    "core.auditevent": "the audit log itself",
    "instruments.runevent": "a procedure run's instrument transcript, append-only; the run's "
    "changes and the readings written into the record are audited",
    "admin.logentry": "Django admin's own history; the admin's writes are audited on the models",
    "auth.permission": "created by migrations; grants are audited through m2m changes",
    "auth.group": "a role; created by roles_sync, its permission grants are audited",
    "contenttypes.contenttype": "framework bookkeeping",
    "sessions.session": "login sessions; logins and logouts are audited",
    "core.signinthrottle": "sign-in failure counts that expire; every delay they start is audited",
    "core.signinfailurewindow": "counters of failed sign-ins per address, written to the audit "
    "log as one summary event per window",
    "core.idempotencykey": "the stored answer to an API create, replayed to its retries; the "
    "create itself is audited",
    "core.authversion": "a version stamp of roles and permissions, read by token "
    "authentication's cache; the changes it follows are audited",
    "django_tasks_database.dbtaskresult": "queue bookkeeping of background tasks",
    "environment.reading": "a measurement stream (thousands a second), written once, never edited",
    "environment.aggregate": "statistics computed from the readings",
    "environment.ingestcounter": "counters of the ingester (accepted / rejected per device)",
    "environment.alarmstate": "the alarm engine's position per (requirement, sensor); alarms "
    "themselves are audited",
}


def test_every_model_is_audited_or_explicitly_exempt():
    """A model added later by any app must derive from AuditedModel, or be listed above with
    the reason it may change without audit events."""
    missing = []
    for model in apps.get_models(include_auto_created=False):
        label = model._meta.label_lower
        if label in AUDIT_EXEMPT or issubclass(model, AuditedModel):
            continue
        missing.append(label)
    assert not missing, f"models neither audited nor exempt: {missing}"


def _run(args, env_extra=None, **kwargs):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "metrolab.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {
            "METROLAB_ENV": "production",
            "SECRET_KEY": "x" * 30 + "-production-key-" + "y" * 30,
            "ALLOWED_HOSTS": "lab.example.cn",
            "METROLAB_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_requires_a_secret_key(tmp_path):
    env = {
        "METROLAB_ENV": "production",
        "ALLOWED_HOSTS": "lab.example.cn",
        "METROLAB_VAR_DIR": str(tmp_path),
    }
    env_no_key = {k: v for k, v in {**os.environ, **env}.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "metrolab.cli", "check"],
        cwd=ROOT,
        env=env_no_key,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_cli_reaches_every_management_command():
    result = _run(["help", "--commands"])
    commands = set(result.stdout.split())
    assert {
        "demo",
        "serve",
        "worker",
        "audit",
        "migrate",
        "createsuperuser",
        "db_worker",
        "collectstatic",
    } <= commands


@pytest.mark.django_db
def test_demo_seed_creates_one_user_per_role_once():
    from metrolab.core.demo import DEMO_PASSWORD, demo_seed
    from metrolab.core.models import OrganisationProfile, User
    from metrolab.core.roles import ROLES

    assert demo_seed(actor=SYSTEM) is True
    assert demo_seed(actor=SYSTEM) is False
    assert OrganisationProfile.objects.get().name
    held = set()
    for user in User.objects.all():
        held |= user.role_codes
        assert user.check_password(DEMO_PASSWORD)
    assert held == set(ROLES)
    assert User.objects.get(username="admin").is_staff


@pytest.mark.django_db
def test_roles_are_synchronised_once_after_migrate_and_flush(monkeypatch):
    """`migrate` and `flush` send post_migrate once per app; the roles are synchronised once,
    after the last app (every app's permissions exist then), with their permissions."""
    from django.contrib.auth.models import Group
    from django.core.management.sql import emit_post_migrate_signal

    from metrolab.core import services
    from metrolab.core.roles import ROLES

    Group.objects.all().delete()
    calls = []
    real = services.roles_sync
    monkeypatch.setattr(services, "roles_sync", lambda **kwargs: calls.append(1) or real(**kwargs))
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert calls == [1]
    assert set(Group.objects.values_list("name", flat=True)) == set(ROLES)
    assert Group.objects.get(name="admin").permissions.exists()


@pytest.mark.django_db
def test_openapi_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/me" in schema["paths"] and "/api/v1/health" in schema["paths"]
    html = client.get("/api/v1/docs").content.decode()
    assert "swagger" in html.lower()
    assert "cdn." not in html and "https://" not in html.split("<body")[0]


@pytest.mark.django_db
def test_api_errors_have_one_shape(cast, client):
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    for r in (client.get("/api/v1/me"),):
        body = r.json()
        assert set(body) == {"error", "request_id"}
        assert set(body["error"]) == {"status", "code", "message", "details"}


@pytest.mark.django_db
def test_me_for_a_session_user(cast, client):
    client.force_login(cast["approver"])
    body = client.get("/api/v1/me").json()
    assert body["username"] == "approver"
    assert body["roles"] == [{"code": "approver", "label": body["roles"][0]["label"]}]
    assert body["via_token"] is False


@pytest.mark.django_db
def test_pages_carry_security_headers(client):
    response = client.get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode():
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


@pytest.mark.django_db
def test_errors_outside_operations_are_json_too(client):
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = client.post("/api/v1/health")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert wrong_method.json()["request_id"] == wrong_method["X-Request-ID"]
