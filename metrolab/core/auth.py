"""Authentication: Argon2 passwords, sign-in throttling, TOTP second factor.

R7.2a (no unauthorised access). Failed sign-ins slow down their address and the account
(metrolab.core.signin); a delayed attempt gets the same answer as a wrong password.
"""

from __future__ import annotations

import hmac

import pyotp
from asgiref.sync import sync_to_async
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from metrolab.core import signin
from metrolab.core.middleware import client_ip

# Set on the request when an attempt was turned away by a delay (its password not checked),
# for the record of failed sign-ins (audit_receivers.on_login_failed).
REFUSED_ATTR = "metrolab_signin_refused"


class ThrottledModelBackend(ModelBackend):
    """Django's model backend behind the sign-in throttle (metrolab.core.signin)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        from metrolab.core.models import User

        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        attempt = signin.attempt_for(username, client_ip(request) if request else None)
        if signin.is_delayed(attempt):
            # The same hashing work as a checked password, so that the answer's timing does
            # not tell a delayed account from a wrong password or an unknown name.
            User().set_password(password)
            if request is not None:
                setattr(request, REFUSED_ATTR, True)
            raise PermissionDenied("sign-in delayed")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            signin.register_failure(attempt)
        elif not user.totp_enabled:
            # With a second factor, success is registered once the code is right too.
            signin.register_success(attempt)
        return user

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        return await sync_to_async(self.authenticate)(
            request, username=username, password=password, **kwargs
        )


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
