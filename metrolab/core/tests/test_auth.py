"""Authentication (R7.2a): Argon2, lock-out with audit, TOTP second factor, API tokens."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.test import override_settings
from django.utils import timezone

from conftest import CAST_PASSWORD
from metrolab.core.models import ApiToken, AuditEvent, User
from metrolab.core.service import ServiceError
from metrolab.core.services import (
    api_token_create,
    api_token_revoke,
    totp_begin,
    totp_disable,
    totp_enable,
)

pytestmark = pytest.mark.django_db


def _post_login(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_passwords_are_hashed_with_argon2(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = User.objects.create_user("argon", password="correct horse battery")
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("correct horse battery")


def test_production_settings_put_argon2_first():
    from config import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_login_logout_and_failure_are_audited(cast, client):
    assert _post_login(client, "receptionist", "wrong").status_code == 200
    failed = AuditEvent.objects.filter(action="auth.login_failed").last()
    assert failed.actor_type == "anonymous" and failed.changes == {"username": "receptionist"}
    response = _post_login(client, "receptionist", CAST_PASSWORD)
    assert response.status_code == 302
    login = AuditEvent.objects.filter(action="auth.login").last()
    assert login.actor_label == "receptionist"
    client.post("/logout/")
    assert AuditEvent.objects.filter(action="auth.logout", actor_label="receptionist").exists()


@override_settings(METROLAB_LOCKOUT_THRESHOLD=3)
def test_lockout_after_repeated_failures(cast, client):
    for _ in range(3):
        _post_login(client, "checker", "wrong")
    user = User.objects.get(username="checker")
    assert user.is_locked
    lock = AuditEvent.objects.filter(action="auth.lockout").last()
    assert lock.object_id == str(user.pk)
    # Even the right password is refused while locked, with a clear message.
    response = _post_login(client, "checker", CAST_PASSWORD)
    assert response.status_code == 200
    assert "locked" in response.content.decode() or "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.login_refused_locked").exists()
    # After the lock expires the right password works again and the count starts afresh.
    user.locked_until = timezone.now() - dt.timedelta(seconds=1)
    user.save(update_fields=["locked_until"])
    assert _post_login(client, "checker", CAST_PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.failed_login_count == 0


@override_settings(METROLAB_LOCKOUT_THRESHOLD=3)
def test_failures_outside_the_window_do_not_accumulate(cast, client):
    _post_login(client, "driver", "wrong")
    _post_login(client, "driver", "wrong")
    user = User.objects.get(username="driver")
    user.last_failed_login_at = timezone.now() - dt.timedelta(hours=1)
    user.save(update_fields=["last_failed_login_at"])
    _post_login(client, "driver", "wrong")
    user.refresh_from_db()
    assert not user.is_locked and user.failed_login_count == 1


def test_session_cookie_flags(cast, client, settings):
    _post_login(client, "receptionist", CAST_PASSWORD)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_totp_enrolment_and_two_step_login(cast, client, monkeypatch):
    from django.test import Client

    # The server's clock is pinned so that the 30-second steps are known to the test.
    clock = {"now": timezone.now()}
    monkeypatch.setattr("metrolab.core.auth.timezone.now", lambda: clock["now"])

    def code(seconds_later: int = 0) -> str:
        return totp.at(clock["now"] + dt.timedelta(seconds=seconds_later))

    user = cast["metrologist"]
    secret = totp_begin(user=user, actor=user)
    totp = pyotp.TOTP(secret)
    with pytest.raises(ServiceError):
        totp_enable(user=user, code="000000", actor=user)
    totp_enable(user=user, code=code(), actor=user)
    user.refresh_from_db()
    assert user.totp_enabled
    # The password alone does not sign in: it leads to the code step.
    response = _post_login(client, "metrologist", CAST_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302
    bad = client.post("/login/code/", {"code": "123456"})
    assert bad.status_code == 200 and "_auth_user_id" not in client.session
    # The code used to switch it on was accepted once already: it cannot sign in.
    replay = client.post("/login/code/", {"code": code()})
    assert replay.status_code == 200 and "_auth_user_id" not in client.session
    next_code = code(30)  # the next step's code (one step of drift is allowed)
    good = client.post("/login/code/", {"code": next_code})
    assert good.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    # Someone who saw that code cannot reuse it from another browser.
    other = Client()
    _post_login(other, "metrologist", CAST_PASSWORD)
    assert other.post("/login/code/", {"code": next_code}).status_code == 200
    assert "_auth_user_id" not in other.session
    # A minute later, turning it off needs a valid, fresh code too.
    clock["now"] += dt.timedelta(seconds=60)
    user.refresh_from_db()
    totp_disable(user=user, code=code(), actor=user)
    user.refresh_from_db()
    assert not user.totp_enabled and not user.totp_secret
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"totp.begin", "totp.enable", "totp.disable"} <= actions
    failures = AuditEvent.objects.filter(action="auth.login_failed", changes__step="totp")
    assert failures.count() == 3  # the wrong code, the replay at enable, the replay elsewhere
    # The secret never reaches the audit log.
    begin = AuditEvent.objects.filter(action="totp.begin").last()
    assert begin.changes["totp_secret"] == {"before": "***", "after": "***"}


@override_settings(METROLAB_LOCKOUT_THRESHOLD=3)
def test_guessing_codes_after_the_right_password_locks_the_account(cast, client):
    user = cast["approver"]
    secret = totp_begin(user=user, actor=user)
    totp_enable(user=user, code=pyotp.TOTP(secret).now(), actor=user)
    for _round in range(2):
        _post_login(client, "approver", CAST_PASSWORD)
        client.post("/login/code/", {"code": "000000"})
        client.post("/login/code/", {"code": "111111"})
    user.refresh_from_db()
    assert user.is_locked
    assert AuditEvent.objects.filter(action="auth.lockout", object_id=str(user.pk)).exists()


def test_pending_second_step_expires(cast, client, monkeypatch):
    import time

    user = cast["checker"]
    secret = totp_begin(user=user, actor=user)
    totp_enable(user=user, code=pyotp.TOTP(secret).now(), actor=user)
    _post_login(client, "checker", CAST_PASSWORD)
    real = time.time
    monkeypatch.setattr("metrolab.core.views.time.time", lambda: real() + 301)
    response = client.get("/login/code/")
    assert response.status_code == 302 and response.headers["Location"] == "/login/"


def test_back_office_login_goes_through_the_second_factor(cast, client):
    user = cast["admin"]
    secret = totp_begin(user=user, actor=user)
    totp_enable(user=user, code=pyotp.TOTP(secret).now(), actor=user)
    response = client.post("/admin/login/", {"username": "admin", "password": CAST_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/?next=")
    assert "_auth_user_id" not in client.session


def test_totp_page_shows_qr_code(cast, client):
    client.force_login(cast["director"])
    client.post("/account/security/", {"action": "begin"})
    html = client.get("/account/security/").content.decode()
    assert "<svg" in html and 'data-testid="totp-secret"' in html


def test_code_step_without_password_step_goes_back_to_login(client):
    assert client.get("/login/code/").headers["Location"] == "/login/"


# --- API tokens ----


def test_token_is_stored_hashed_and_authenticates(cast, client):
    token, raw = api_token_create(
        user=cast["device"], name="climate logger 1", roles=["device"], actor=cast["admin"]
    )
    assert raw not in token.key_hash and len(token.key_hash) == 64
    assert not ApiToken.objects.filter(key_hash=raw).exists()
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "device" and body["via_token"] is True
    assert [r["code"] for r in body["roles"]] == ["device"]
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_ip == "127.0.0.1"
    created = AuditEvent.objects.filter(action="api_token.create").first()
    assert created.actor_label == "admin"
    assert raw not in str(list(AuditEvent.objects.values_list("changes", flat=True)))


def test_token_is_scoped_to_its_roles(cast, client):
    user = cast["checker"]
    from metrolab.core.services import user_roles_set

    user_roles_set(user=user, roles=["checker", "device"])
    _token, raw = api_token_create(user=user, name="bench", roles=["device"])
    body = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert [r["code"] for r in body["roles"]] == ["device"]
    with pytest.raises(ServiceError):
        api_token_create(user=user, name="too wide", roles=["admin"])


def test_revoked_expired_and_wrong_tokens_are_refused(cast, client):
    token, raw = api_token_create(user=cast["device"], name="t", roles=["device"])
    api_token_revoke(token=token, actor=cast["admin"], reason="device retired")
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    token2, raw2 = api_token_create(
        user=cast["device"],
        name="t2",
        roles=["device"],
        expires_at=timezone.now() + dt.timedelta(seconds=60),
    )
    token2.expires_at = timezone.now() - dt.timedelta(seconds=1)
    token2.save(update_fields=["expires_at"])
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw2}").status_code == 401
    forged = raw2[:-4] + "AAAA"
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401
    revoke = AuditEvent.objects.filter(action="api_token.revoke").last()
    assert revoke.reason == "device retired" and "revoked_at" in revoke.changes


def test_token_page_issues_and_revokes(cast, client):
    client.force_login(cast["admin"])
    response = client.post(
        "/tokens/", {"username": "device", "name": "reader", "roles": ["device"]}
    )
    assert response.status_code == 200
    raw = response.context["new_token"]
    assert raw.startswith("mlt_")
    token = ApiToken.objects.get(name="reader")
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    # A bad request changes nothing and says why.
    response = client.post("/tokens/", {"username": "nobody", "name": "x", "roles": ["device"]})
    assert "new_token" not in response.context or response.context["new_token"] is None
    assert ApiToken.objects.count() == 1


def test_api_accepts_the_browser_session(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["receptionist"])
    assert client.get("/api/v1/me").status_code == 200


def test_token_permissions_are_only_those_of_its_roles(cast, rf):
    """A token scoped to the device role cannot use the permissions of the user's other roles,
    nor a superuser's powers."""
    from metrolab.core.access import Access, BearerTokenAuth
    from metrolab.core.services import user_roles_set

    quality = cast["quality_manager"]
    user_roles_set(user=quality, roles=["quality_manager", "device"])
    _token, raw = api_token_create(user=quality, name="own", roles=["device"], actor=quality)
    guarded = BearerTokenAuth(Access(perms=frozenset({"core.view_auditevent"})))
    from ninja.errors import AuthorizationError

    request = rf.get("/api/v1/x")
    with pytest.raises(AuthorizationError):
        guarded(rf.get("/api/v1/x", HTTP_AUTHORIZATION=f"Bearer {raw}"))
    assert quality.has_perm("core.view_auditevent")  # the person keeps their own powers
    del request

    boss = User.objects.create_superuser("boss", password="x-long-password")
    _t, boss_raw = api_token_create(user=boss, name="script", roles=["device"], actor=boss)
    request = rf.get("/api/v1/x", HTTP_AUTHORIZATION=f"Bearer {boss_raw}")
    with pytest.raises(AuthorizationError):
        BearerTokenAuth(Access(perms=frozenset({"core.change_user"})))(request)
    assert request.user.is_superuser is False
    with pytest.raises(PermissionError):
        request.user.save()
    boss.refresh_from_db()
    assert boss.is_superuser


def test_admin_cannot_issue_a_token_acting_as_another_person(cast):
    with pytest.raises(ServiceError):
        api_token_create(
            user=cast["approver"], name="sign for me", roles=["approver"], actor=cast["admin"]
        )
    token, _raw = api_token_create(
        user=cast["device"], name="logger", roles=["device"], actor=cast["admin"]
    )
    assert token.created_by == cast["admin"]
