"""Authentication: Argon2 passwords, lock-out after repeated failures, TOTP second factor.

R7.2a (no unauthorised access). Lock-out: METROLAB_LOCKOUT_THRESHOLD failures within
METROLAB_LOCKOUT_WINDOW_SECONDS lock the account for METROLAB_LOCKOUT_SECONDS; each failure
and the lock itself are audited.
"""

from __future__ import annotations

import datetime as dt
import hmac

import pyotp
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from metrolab.core import audit


def find_user(username: str | None):
    from metrolab.core.models import User

    if not username:
        return None
    return User.objects.filter(username=username).first()


def register_failure(user) -> None:
    """Count one failed attempt; lock the account when the threshold is reached."""
    from metrolab.core.models import User

    now = timezone.now()
    window = dt.timedelta(seconds=settings.METROLAB_LOCKOUT_WINDOW_SECONDS)
    with transaction.atomic():
        audit.lock_chain()  # before the row lock: see audit.lock_chain
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.last_failed_login_at is None or now - user.last_failed_login_at > window:
            user.failed_login_count = 0
        user.failed_login_count += 1
        user.last_failed_login_at = now
        fields = ["failed_login_count", "last_failed_login_at"]
        locking = user.failed_login_count >= settings.METROLAB_LOCKOUT_THRESHOLD
        if locking:
            user.locked_until = now + dt.timedelta(seconds=settings.METROLAB_LOCKOUT_SECONDS)
            user.failed_login_count = 0
            fields.append("locked_until")
        user.save(update_fields=fields)
        if locking:
            audit.record(
                "auth.lockout",
                object_type="core.user",
                object_id=str(user.pk),
                changes={"locked_until": user.locked_until},
                reason=f"{settings.METROLAB_LOCKOUT_THRESHOLD} failed logins",
                actor="system",
            )


def register_success(user) -> None:
    if user.failed_login_count or user.last_failed_login_at:
        user.failed_login_count = 0
        user.last_failed_login_at = None
        user.save(update_fields=["failed_login_count", "last_failed_login_at"])


class LockoutModelBackend(ModelBackend):
    """Django's model backend with account lock-out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = find_user(username or kwargs.get("username"))
        if user is not None and user.is_locked:
            audit.record(
                "auth.login_refused_locked",
                object_type="core.user",
                object_id=str(user.pk),
                actor_label=user.username,
                actor="anonymous",
            )
            raise PermissionDenied("account locked")
        result = super().authenticate(request, username=username, password=password, **kwargs)
        if result is None and user is not None and password is not None:
            register_failure(user)
        elif result is not None and not result.totp_enabled:
            # With a second factor, the count is reset only once the code is right too, so
            # that guessing codes after a correct password still leads to a lock-out.
            register_success(result)
        return result


# --- TOTP (RFC 6238) ----

TOTP_ISSUER = "MetroLab"


def totp_new_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=TOTP_ISSUER)


def totp_match(secret: str, code: str, after_step: int | None = None) -> int | None:
    """The time step (RFC 6238 §4) whose code this is, accepting one 30-second step of clock
    drift either side; None when it matches none, or only a step at or before `after_step`
    (a code is good once: replaying an accepted code is refused)."""
    code = (code or "").strip().replace(" ", "")
    if not secret or not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = timezone.now()
    current = totp.timecode(now)
    for offset in (0, -1, 1):
        step = current + offset
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def totp_check(secret: str, code: str) -> bool:
    return totp_match(secret, code) is not None
