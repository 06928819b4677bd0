"""Authentication (R7.2a): Argon2, sign-in delays with audit, TOTP second factor, API tokens.
The throttling policy itself is tested in test_signin_throttle.py."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from conftest import CAST_PASSWORD
from metrolab.core.models import ApiToken, AuditEvent, User
from metrolab.core.permissions import SYSTEM
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
    assert failed.actor_type == "anonymous" and failed.changes["username"] == "receptionist"
    assert failed.object_id == str(cast["receptionist"].pk) and failed.client_ip == "127.0.0.1"
    response = _post_login(client, "receptionist", CAST_PASSWORD)
    assert response.status_code == 302
    login = AuditEvent.objects.filter(action="auth.login").last()
    assert login.actor_label == "receptionist"
    client.post("/logout/")
    assert AuditEvent.objects.filter(action="auth.logout", actor_label="receptionist").exists()


@override_settings(METROLAB_SIGNIN_ACCOUNT_THRESHOLD=3)
def test_repeated_failures_delay_the_account_for_that_address(cast, client):
    for _ in range(3):
        _post_login(client, "checker", "wrong")
    user = User.objects.get(username="checker")
    delay = AuditEvent.objects.filter(action="auth.signin_delayed").get()
    assert delay.object_id == str(user.pk) and delay.changes["delay_seconds"] == 60
    # From the same address even the right password is refused, with the answer of a wrong
    # one; the refusal itself is counted in the failed sign-ins, not logged on its own.
    response = _post_login(client, "checker", CAST_PASSWORD)
    assert response.status_code == 200
    assert response.context["form"].errors["__all__"][0].startswith("用户名或密码错误")
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 1
    # Once the delay is over the right password works again.
    future = timezone.now() + dt.timedelta(seconds=61)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: future)
        assert _post_login(client, "checker", CAST_PASSWORD).status_code == 302


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
    # The wrong code, the replay of the enabling code, the replay elsewhere: the first is an
    # event, the three are summarised once their window has closed.
    failures = AuditEvent.objects.filter(action="auth.login_failed", changes__step="totp")
    assert failures.count() == 1
    clock["now"] += dt.timedelta(hours=1)
    call_command("signin", "summarise")
    summary = AuditEvent.objects.get(action="auth.login_failed_summary")
    assert summary.changes["wrong_codes"] == 3 and summary.changes["accounts"] == {"metrologist": 3}
    # The secret never reaches the audit log.
    begin = AuditEvent.objects.filter(action="totp.begin").last()
    assert begin.changes["totp_secret"] == {"before": "***", "after": "***"}


@override_settings(METROLAB_SIGNIN_ACCOUNT_THRESHOLD=3)
def test_guessing_codes_after_the_right_password_delays_the_account(cast, client):
    from django.test import Client

    user = cast["approver"]
    secret = totp_begin(user=user, actor=user)
    totp_enable(user=user, code=pyotp.TOTP(secret).now(), actor=user)
    _post_login(client, "approver", CAST_PASSWORD)
    for code in ("000000", "111111"):
        assert client.post("/login/code/", {"code": code}).status_code == 200
    # The third wrong code starts a delay and ends the half-open sign-in (GB/T 22239 8.1.4.1 b).
    response = client.post("/login/code/", {"code": "222222"})
    assert response.status_code == 302 and response.headers["Location"] == "/login/"
    ended = client.post("/login/code/", {"code": pyotp.TOTP(secret).now()})
    assert ended.status_code == 302 and ended.headers["Location"] == "/login/"
    assert "_auth_user_id" not in client.session
    delay = AuditEvent.objects.get(action="auth.signin_delayed", object_id=str(user.pk))
    assert delay.changes["step"] == "totp"
    # From this address even the right password is answered as a wrong one for now ...
    assert _post_login(client, "approver", CAST_PASSWORD).status_code == 200
    # ... while the owner, elsewhere, goes on to the code step.
    owner = Client(REMOTE_ADDR="198.51.100.7")
    response = _post_login(owner, "approver", CAST_PASSWORD)
    assert response.headers["Location"] == "/login/code/"


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

    user_roles_set(user=user, roles=["checker", "device"], actor=SYSTEM)
    _token, raw = api_token_create(user=user, name="bench", roles=["device"], actor=SYSTEM)
    body = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert [r["code"] for r in body["roles"]] == ["device"]
    with pytest.raises(ServiceError):
        api_token_create(user=user, name="too wide", roles=["admin"], actor=SYSTEM)


def test_revoked_expired_and_wrong_tokens_are_refused(cast, client):
    token, raw = api_token_create(user=cast["device"], name="t", roles=["device"], actor=SYSTEM)
    api_token_revoke(token=token, actor=cast["admin"], reason="device retired")
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    token2, raw2 = api_token_create(
        user=cast["device"],
        name="t2",
        roles=["device"],
        expires_at=timezone.now() + dt.timedelta(seconds=60),
        actor=SYSTEM,
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
    user_roles_set(user=quality, roles=["quality_manager", "device"], actor=SYSTEM)
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
