"""Sign-in throttling and the coalesced record of failed sign-ins (R7.2a, R7.2d; GB/T 22239-2019
level 3, 8.1.4.1 b), through the sign-in page. The server's clock is pinned; nothing sleeps."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from conftest import CAST_PASSWORD
from metrolab.core import audit
from metrolab.core.models import AuditEvent, SigninFailureWindow, SigninThrottle
from metrolab.core.services import totp_begin, totp_enable

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


class Clock:
    def __init__(self):
        self.now = timezone.now()

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock.now)
    return clock


def sign_in(username: str, password: str, address: str, path: str = "/login/"):
    """A fresh browser posting the sign-in form; returns (client, response)."""
    client = Client()
    response = client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)
    return client, response


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("seq")


# --- The owner is not locked out by an attacker elsewhere ----


def test_wrong_passwords_elsewhere_do_not_lock_the_owner_out(cast):
    """The defect: five wrong passwords from anywhere locked the account for everyone, and
    the owner's right password was refused."""
    for _ in range(5):
        _client, response = sign_in("checker", "wrong", ATTACKER)
        assert response.status_code == 200
    owner, response = sign_in("checker", CAST_PASSWORD, OWNER)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert owner.session["_auth_user_id"] == str(cast["checker"].pk)


def test_the_attackers_address_is_refused_even_with_the_right_password(cast, clock):
    for _ in range(5):
        sign_in("checker", "wrong", ATTACKER)
    attacker, response = sign_in("checker", CAST_PASSWORD, ATTACKER)
    assert response.status_code == 200 and not signed_in(attacker)
    # Refused attempts do not prolong the delay: once it is over the password is checked.
    clock.advance(61)
    attacker, response = sign_in("checker", CAST_PASSWORD, ATTACKER)
    assert response.status_code == 302 and signed_in(attacker)


def test_the_administrator_signs_in_through_the_back_office_while_under_attack(cast, clock):
    """The back office signs in through the same page and second factor."""
    admin = cast["admin"]
    totp = pyotp.TOTP(totp_begin(user=admin, actor=admin))
    totp_enable(user=admin, code=totp.at(clock.now), actor=admin)
    for _ in range(12):
        sign_in("admin", "guess", ATTACKER)
    assert events("auth.signin_delayed").filter(object_id=str(admin.pk)).count() == 1
    owner = Client(REMOTE_ADDR=OWNER)
    to_admin_login = owner.get("/admin/")
    assert to_admin_login.headers["Location"].startswith("/admin/login/")
    to_login = owner.get(to_admin_login.headers["Location"])
    assert to_login.headers["Location"] == "/login/?next=/admin/"
    response = owner.post(
        to_login.headers["Location"], {"username": "admin", "password": CAST_PASSWORD}
    )
    assert response.headers["Location"] == "/login/code/"
    clock.advance(30)
    response = owner.post("/login/code/", {"code": totp.at(clock.now)})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert owner.get("/admin/").status_code == 200
    # The attacker's address stays delayed for the account, whatever it sends.
    attacker, response = sign_in("admin", CAST_PASSWORD, ATTACKER, path="/login/?next=/admin/")
    assert response.status_code == 200 and not signed_in(attacker)


# --- Increasing delays ----


def test_account_delays_double_up_to_the_cap(cast, clock, settings):
    settings.METROLAB_SIGNIN_ACCOUNT_THRESHOLD = 3
    settings.METROLAB_SIGNIN_DELAY_SECONDS = 60
    settings.METROLAB_SIGNIN_MAX_DELAY_SECONDS = 300
    for _ in range(3):
        sign_in("checker", "wrong", ATTACKER)
    for expected in (60, 120, 240, 300, 300):
        clock.advance(expected - 1)
        attacker, _response = sign_in("checker", CAST_PASSWORD, ATTACKER)
        assert not signed_in(attacker), f"signed in {expected - 1} s into a {expected} s delay"
        clock.advance(2)
        sign_in("checker", "wrong", ATTACKER)  # checked again, wrong: the next, longer delay
    # One delay start each time: each wrong password after a delay was checked, not refused.
    delays = [e.changes["delay_seconds"] for e in events("auth.signin_delayed")]
    assert delays == [60, 120, 240, 300, 300, 300]
    assert {e.changes["scope"] for e in events("auth.signin_delayed")} == {"account"}
    # Meanwhile the owner signs in from their own address at any time.
    owner, _response = sign_in("checker", CAST_PASSWORD, OWNER)
    assert signed_in(owner)


def test_an_address_spraying_many_accounts_is_delayed_for_all_of_them(cast, clock, settings):
    settings.METROLAB_SIGNIN_ADDRESS_THRESHOLD = 4
    for name in ("checker", "driver", "nobody", "approver"):
        sign_in(name, "wrong", ATTACKER)
    attacker, response = sign_in("metrologist", CAST_PASSWORD, ATTACKER)
    assert response.status_code == 200 and not signed_in(attacker)
    owner, _response = sign_in("metrologist", CAST_PASSWORD, OWNER)
    assert signed_in(owner)
    delay = events("auth.signin_delayed").get()
    assert delay.changes["scope"] == "address" and delay.changes["address"] == ATTACKER
    assert delay.changes["delay_seconds"] == 60 and delay.client_ip == ATTACKER
    clock.advance(61)
    sign_in("someone", "wrong", ATTACKER)
    clock.advance(61)  # the second delay is 120 s
    attacker, _response = sign_in("metrologist", CAST_PASSWORD, ATTACKER)
    assert not signed_in(attacker)
    clock.advance(60)
    attacker, _response = sign_in("metrologist", CAST_PASSWORD, ATTACKER)
    assert signed_in(attacker)


def test_failures_are_forgotten_after_a_quiet_hour(cast, clock):
    for _ in range(4):
        sign_in("driver", "wrong", ATTACKER)
    clock.advance(3601)
    for _ in range(4):
        sign_in("driver", "wrong", ATTACKER)
    attacker, _response = sign_in("driver", CAST_PASSWORD, ATTACKER)
    assert signed_in(attacker)  # 4 + 4 would have been a delay
    assert not events("auth.signin_delayed").exists()


def test_a_successful_sign_in_restarts_the_accounts_count(cast):
    for _ in range(4):
        sign_in("driver", "wrong", OWNER)
    assert signed_in(sign_in("driver", CAST_PASSWORD, OWNER)[0])
    for _ in range(4):
        sign_in("driver", "wrong", OWNER)
    assert signed_in(sign_in("driver", CAST_PASSWORD, OWNER)[0])
    assert not events("auth.signin_delayed").exists()


def test_the_state_is_shared_through_the_database_and_expires(cast, clock):
    for _ in range(5):
        sign_in("checker", "wrong", ATTACKER)
    rows = {(r.scope, r.failures) for r in SigninThrottle.objects.all()}
    assert rows == {("address", 5), ("account", 5), ("pair", 5)}
    clock.advance(60 + 3600 + 1)
    call_command("signin", "summarise")
    assert not SigninThrottle.objects.exists()


# --- One answer for a wrong password, an unknown name and a delayed attempt ----


class CountingHasher(MD5PasswordHasher):
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


def _normalised(response) -> str:
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "CSRF", html)
    html = re.sub(r'nonce="[^"]*"', "NONCE", html)
    return re.sub(r'name="username" value="[^"]*"', "USERNAME", html)


def test_delayed_unknown_and_wrong_get_the_same_answer(cast, settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    settings.METROLAB_SIGNIN_ACCOUNT_THRESHOLD = 2
    settings.METROLAB_SIGNIN_ADDRESS_THRESHOLD = 3
    for _ in range(2):
        sign_in("checker", "wrong", "192.0.2.1")  # the account is delayed for this address
    for name in ("x", "y", "z"):
        sign_in(name, "wrong", "192.0.2.2")  # this address is delayed for every account
    cases = {
        "wrong password": ("checker", "wrong", "192.0.2.10"),
        "unknown user": ("no-such-user", "wrong", "192.0.2.11"),
        "account delayed, right password": ("checker", CAST_PASSWORD, "192.0.2.1"),
        "address delayed, right password": ("metrologist", CAST_PASSWORD, "192.0.2.2"),
    }
    answers, hashing = {}, {}
    for case, (username, password, address) in cases.items():
        before = CountingHasher.calls
        client, response = sign_in(username, password, address)
        hashing[case] = CountingHasher.calls - before
        assert not signed_in(client)
        answers[case] = (
            response.status_code,
            response.context["form"].errors.get_json_data(),
            sorted(response.cookies),
            _normalised(response),
        )
    reference = answers["wrong password"]
    assert reference[0] == 200
    assert reference[1] == {
        "__all__": [
            {
                "message": "用户名或密码错误。多次登录失败后，本设备的登录将暂停几分钟。",
                "code": "invalid_login",
            }
        ]
    }
    for case, answer in answers.items():
        assert answer == reference, case
    # The same password-hashing work too, so that timing does not tell them apart.
    assert set(hashing.values()) == {1}, hashing


# --- The audit log: failures coalesced, successes and delays individually ----


def test_two_hundred_failures_from_one_address_add_a_bounded_number_of_events(cast, clock):
    first_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    for i in range(200):
        name = "checker" if i % 2 else f"guess{i}"
        _client, response = sign_in(name, "wrong", ATTACKER)
        assert response.status_code == 200
        clock.advance(0.2)
    new = AuditEvent.objects.filter(seq__gt=first_seq).order_by("seq")
    assert [e.action for e in new] == [
        "auth.login_failed",  # the first failure of the window
        "auth.signin_delayed",  # checker: 5 failures from this address
        "auth.signin_delayed",  # the address: 20 failures
    ]
    assert new[0].client_ip == ATTACKER and new[0].changes["username"] == "(unknown user)"
    assert [e.changes["scope"] for e in new[1:]] == ["account", "address"]
    # After the window, the next failure (from anywhere) brings the summary of the 200.
    clock.advance(3600)
    sign_in("nobody", "wrong", OWNER)
    summary = events("auth.login_failed_summary").get()
    assert summary.client_ip == ATTACKER
    assert summary.changes["failures"] == 200
    assert summary.changes["accounts"] == {"checker": 100, "(unknown user)": 100}
    # 5 checked against checker, 20 checked in all; the rest were refused unchecked.
    assert summary.changes["refused_while_delayed"] == 180
    assert summary.changes["first_event"] == new[0].seq
    assert AuditEvent.objects.filter(seq__gt=first_seq).count() == 5
    assert audit.verify_chain().ok


def test_failures_over_hours_stay_bounded_per_window(cast, clock):
    """One attempt a minute for three hours: per one-hour window one event and one summary,
    plus the delay starts, which thin out as the delays grow."""
    first_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    for i in range(180):
        sign_in(f"guess{i}", "wrong", ATTACKER)
        clock.advance(60)
    call_command("signin", "summarise")
    new = AuditEvent.objects.filter(seq__gt=first_seq)
    actions = list(new.values_list("action", flat=True))
    assert actions.count("auth.login_failed") == 3
    summaries = events("auth.login_failed_summary")
    assert [s.changes["failures"] for s in summaries] == [60, 60, 60]
    assert actions.count("auth.signin_delayed") <= 15
    assert len(actions) <= 21


def test_every_successful_sign_in_is_recorded(cast, clock):
    for i in range(30):
        sign_in("receptionist", "wrong" if i % 3 == 0 else CAST_PASSWORD, OWNER)
        clock.advance(5)
    logins = events("auth.login").filter(actor_label="receptionist")
    assert logins.count() == 20
    assert set(logins.values_list("client_ip", flat=True)) == {OWNER}
    assert events("auth.login_failed").count() == 1


def test_the_command_writes_the_summaries_of_closed_windows(cast, clock):
    for _ in range(3):
        sign_in("nobody", "wrong", ATTACKER)
    call_command("signin", "summarise")
    assert not events("auth.login_failed_summary").exists()  # the window is still open
    clock.advance(3601)
    call_command("signin", "summarise")
    summary = events("auth.login_failed_summary").get()
    assert summary.changes["failures"] == 3 and summary.client_ip == ATTACKER
    call_command("signin", "summarise")
    assert events("auth.login_failed_summary").count() == 1


def test_a_single_failure_needs_no_summary(cast, clock):
    sign_in("nobody", "wrong", ATTACKER)
    clock.advance(3601)
    call_command("signin", "summarise")
    assert events("auth.login_failed").count() == 1
    assert not events("auth.login_failed_summary").exists()


# --- Lifting the delays ----


def test_an_administrator_lifts_an_accounts_delays_in_the_back_office(cast, client):
    for _ in range(5):
        sign_in("driver", "wrong", OWNER)  # the owner mistyped, from their own desk
    assert not signed_in(sign_in("driver", CAST_PASSWORD, OWNER)[0])
    client.force_login(cast["admin"])
    response = client.post(
        "/admin/core/user/",
        {"action": "release_signin_delays", "_selected_action": [cast["driver"].pk]},
    )
    assert response.status_code == 302
    release = events("auth.signin_release").get()
    assert release.object_id == str(cast["driver"].pk) and release.actor_label == "admin"
    assert signed_in(sign_in("driver", CAST_PASSWORD, OWNER)[0])


def test_an_address_is_lifted_from_the_command_line(cast, settings):
    settings.METROLAB_SIGNIN_ADDRESS_THRESHOLD = 2
    sign_in("a", "wrong", ATTACKER)
    sign_in("b", "wrong", ATTACKER)
    assert not signed_in(sign_in("driver", CAST_PASSWORD, ATTACKER)[0])
    call_command("signin", "release", "--address", ATTACKER, "--reason", "office proxy")
    assert signed_in(sign_in("driver", CAST_PASSWORD, ATTACKER)[0])
    release = events("auth.signin_release").get()
    assert release.reason == "office proxy" and release.changes["address"] == ATTACKER


# --- Several server processes ----


def _subprocess_env(**extra: str) -> dict[str, str]:
    from urllib.parse import quote

    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{Path(s['NAME']).resolve()}"
    else:
        auth = f"{quote(s['USER'])}:{quote(s['PASSWORD'] or '')}@" if s["USER"] else ""
        url = f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings", **extra}


@pytest.mark.django_db(transaction=True)
def test_processes_share_the_counts_and_the_failure_window():
    """Three server processes take failed sign-ins from one address at once: they share its
    count (one delay start, at the threshold) and open one failure window, not one each."""
    writers, each = 3, 12
    start_at = time.time() + 4  # after every process has started Django
    env = _subprocess_env(METROLAB_SIGNIN_ADDRESS_THRESHOLD="18")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "metrolab.core.tests.signin_writer",
                str(w),
                str(each),
                str(start_at),
                ATTACKER,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(writers)
    ]
    for p in procs:
        _out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-2000:]
    # Attempts checked at the same moment in several processes may each pass before the
    # first of them is counted: at most one more per other process.
    address = SigninThrottle.objects.get(scope="address", key=ATTACKER)
    assert 18 <= address.failures <= 18 + writers - 1
    assert events("auth.signin_delayed").count() == 1
    assert events("auth.login_failed").count() == 1
    window = SigninFailureWindow.objects.get()
    assert window.failures == writers * each
    assert window.refused == writers * each - address.failures
    assert audit.verify_chain().ok
