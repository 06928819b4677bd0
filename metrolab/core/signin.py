"""Sign-in throttling and the coalesced record of failed sign-ins (R7.2a, R7.2d; GB/T 22239-2019
level 3, 8.1.4.1 b "login failure handling"). The policy is described for operators in
docs/operations.md, "Sign-in throttling".

Throttling slows the attacker, not the owner:

- Per client address: after METROLAB_SIGNIN_ADDRESS_THRESHOLD failed sign-ins from an address
  (whatever the accounts), every sign-in from it is refused for a delay that starts at
  METROLAB_SIGNIN_DELAY_SECONDS and doubles with each further failure, up to
  METROLAB_SIGNIN_MAX_DELAY_SECONDS.
- Per account: after METROLAB_SIGNIN_ACCOUNT_THRESHOLD failures against an account (from
  anywhere) the same growing delay applies to the account, but only for the addresses that
  have failed against it since their last successful sign-in to it. The right password from
  any other address still signs in, so nobody elsewhere can lock the owner out.
- Counts are forgotten METROLAB_SIGNIN_FORGET_SECONDS after the last failure or the end of the
  last delay, whichever is later. A successful sign-in restarts the account's count (a delay
  already running stays) and clears its address's failures against the account; it never
  restarts an address's count, or an attacker could reset theirs by signing in to an account
  of their own.
- An attempt refused because of a delay does the same password-hashing work and gets the same
  answer as a wrong password; it does not prolong the delay.

The counts live in the database (SigninThrottle), so every server process applies them. An
attempt is counted once its password has been checked, without holding a lock meanwhile, so
attempts checked at the same moment in several processes can pass a threshold by at most one
per further process.

The audit log gets every throttle start (auth.signin_delayed) and every successful sign-in
(auth.login, by audit_receivers). Failed sign-ins are coalesced per client address and window of
METROLAB_SIGNIN_AUDIT_WINDOW_SECONDS: the first is an event (auth.login_failed), the later ones
are counted in SigninFailureWindow, and one summary event (auth.login_failed_summary) carrying
the count is appended after the window has closed: at the next failed or successful sign-in,
or when `metrolab signin_summarise` runs. The chain stays append-only; anonymous clients add at
most two events per address and window, plus the throttle starts (each delay is longer than
the last, so these are few).
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from metrolab.core import audit
from metrolab.core.context import RequestInfo, current_request, reset_request, set_request
from metrolab.core.middleware import normalise_ip

UNKNOWN_USER = "(unknown user)"
OTHER_NAMES = "(other names)"
MAX_NAMES_PER_WINDOW = 20  # names kept per failure window; the rest are counted together
SWEEP_LIMIT = 200  # closed windows summarised per request; the command does the rest

DEFAULTS = {
    "METROLAB_SIGNIN_ADDRESS_THRESHOLD": 20,
    "METROLAB_SIGNIN_ACCOUNT_THRESHOLD": 5,
    "METROLAB_SIGNIN_DELAY_SECONDS": 60,
    "METROLAB_SIGNIN_MAX_DELAY_SECONDS": 900,
    "METROLAB_SIGNIN_FORGET_SECONDS": 3600,
    "METROLAB_SIGNIN_AUDIT_WINDOW_SECONDS": 3600,
}


@dataclass(frozen=True)
class Policy:
    """The throttling and audit-coalescing settings in force."""

    address_threshold: int
    account_threshold: int
    delay: int
    max_delay: int
    forget: int
    audit_window: int

    def delay_after(self, failures: int, threshold: int) -> int:
        """Seconds of delay after the `failures`-th failure: none below the threshold, then
        the first delay, doubling with each further failure, capped."""
        if threshold <= 0 or failures < threshold:
            return 0
        return min(self.max_delay, self.delay * 2 ** min(failures - threshold, 30))


def policy() -> Policy:
    def get(name: str) -> int:
        return int(getattr(settings, name, DEFAULTS[name]))

    return Policy(
        address_threshold=get("METROLAB_SIGNIN_ADDRESS_THRESHOLD"),
        account_threshold=get("METROLAB_SIGNIN_ACCOUNT_THRESHOLD"),
        delay=get("METROLAB_SIGNIN_DELAY_SECONDS"),
        max_delay=get("METROLAB_SIGNIN_MAX_DELAY_SECONDS"),
        forget=get("METROLAB_SIGNIN_FORGET_SECONDS"),
        audit_window=get("METROLAB_SIGNIN_AUDIT_WINDOW_SECONDS"),
    )


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt: from which client address, for which account (None when the name
    typed is no account's)."""

    address: str  # canonical IP address, "" when unknown
    user: Any = None

    @property
    def address_key(self) -> str:
        return self.address or "?"

    @property
    def account_key(self) -> str | None:
        return f"user:{self.user.pk}" if self.user is not None else None

    @property
    def pair_key(self) -> str | None:
        account = self.account_key
        return f"{account}@{self.address_key}" if account else None

    @property
    def label(self) -> str:
        """The name for the audit log: people type passwords into the user-name field, and the
        log is never erased, so a name that is no account's is not kept."""
        return self.user.get_username() if self.user is not None else UNKNOWN_USER


def current_address() -> str:
    request = current_request()
    return (normalise_ip(request.client_ip) if request else None) or ""


def attempt_for(username: str | None, address: str | None = None) -> Attempt:
    from metrolab.core.models import User

    name = str(username or "")[:150]
    user = User.objects.filter(username=name).first() if name else None
    address = normalise_ip(address) if address else current_address()
    return Attempt(address=address or "", user=user)


def attempt_of(user, address: str | None = None) -> Attempt:
    address = normalise_ip(address) if address else current_address()
    return Attempt(address=address or "", user=user)


# --- Throttling ----


def _rows(attempt: Attempt, now: dt.datetime) -> dict[tuple[str, str], Any]:
    from metrolab.core.models import SigninThrottle

    scope = SigninThrottle.Scope
    wanted = Q(scope=scope.ADDRESS, key=attempt.address_key)
    if attempt.account_key:
        wanted |= Q(scope=scope.ACCOUNT, key=attempt.account_key)
        wanted |= Q(scope=scope.PAIR, key=attempt.pair_key)
    rows = SigninThrottle.objects.filter(wanted, expires_at__gt=now)
    return {(row.scope, row.key): row for row in rows}


def delayed_until(attempt: Attempt, now: dt.datetime | None = None) -> dt.datetime | None:
    """When this attempt may be checked again: None when it may be checked now."""
    from metrolab.core.models import SigninThrottle

    now = now or timezone.now()
    scope = SigninThrottle.Scope
    rows = _rows(attempt, now)
    until = []
    address = rows.get((scope.ADDRESS, attempt.address_key))
    if address is not None and address.blocked_until and address.blocked_until > now:
        until.append(address.blocked_until)
    account = rows.get((scope.ACCOUNT, attempt.account_key))
    suspect = (scope.PAIR, attempt.pair_key) in rows
    if suspect and account is not None and account.blocked_until and account.blocked_until > now:
        until.append(account.blocked_until)
    return max(until) if until else None


def is_delayed(attempt: Attempt, now: dt.datetime | None = None) -> bool:
    return delayed_until(attempt, now) is not None


def _locked_row(scope: str, key: str, now: dt.datetime):
    from metrolab.core.models import SigninThrottle

    rows = SigninThrottle.objects.select_for_update()
    row = rows.filter(scope=scope, key=key).first()
    if row is not None and row.expires_at <= now:
        row.failures, row.last_failure_at, row.blocked_until = 0, None, None
    if row is None:
        try:
            with transaction.atomic():
                row = SigninThrottle.objects.create(scope=scope, key=key, expires_at=now)
        except IntegrityError:  # created meanwhile by another process
            row = rows.get(scope=scope, key=key)
    return row


def _count_failure(row, now: dt.datetime, rules: Policy, threshold: int | None) -> int:
    """Count one failure on `row`; the delay it starts (seconds), or 0 when it starts none
    (below the threshold, or a delay was running already and is only lengthened)."""
    row.failures += 1
    row.last_failure_at = now
    started = 0
    if threshold is not None:
        delay = rules.delay_after(row.failures, threshold)
        if delay:
            running = row.blocked_until is not None and row.blocked_until > now
            until = now + dt.timedelta(seconds=delay)
            if not running or until > row.blocked_until:
                row.blocked_until = until
            started = 0 if running else delay
    anchor = max(now, row.blocked_until or now)
    row.expires_at = anchor + dt.timedelta(seconds=rules.forget)
    row.save()
    return started


def register_failure(attempt: Attempt, *, step: str = "password") -> list[str]:
    """Count a failed sign-in of `attempt` (a wrong password, or a wrong second-factor code)
    against its address, its account and the pair; audit each delay it starts. Returns the
    scopes whose delay it started."""
    from metrolab.core.models import SigninThrottle

    scope = SigninThrottle.Scope
    rules = policy()
    now = timezone.now()
    started = []
    with transaction.atomic():
        audit.lock_chain()  # before the row locks: see audit.lock_chain
        forget_expired(now)
        targets = [(scope.ADDRESS, attempt.address_key, rules.address_threshold)]
        if attempt.account_key:
            targets += [
                (scope.ACCOUNT, attempt.account_key, rules.account_threshold),
                (scope.PAIR, attempt.pair_key, None),
            ]
        for name, key, threshold in targets:
            row = _locked_row(name, key, now)
            delay = _count_failure(row, now, rules, threshold)
            if delay:
                started.append(name)
                _record_delay(attempt, row, delay, step)
    return started


def _record_delay(attempt: Attempt, row, delay: int, step: str) -> None:
    from metrolab.core.models import SigninThrottle

    on_account = row.scope == SigninThrottle.Scope.ACCOUNT
    changes = {
        "scope": row.scope,
        "failures": row.failures,
        "delay_seconds": delay,
        "until": row.blocked_until,
        "step": step,
    }
    if on_account:
        changes["username"] = attempt.label
    else:
        changes["address"] = attempt.address or None
    audit.record(
        "auth.signin_delayed",
        object_type="core.user" if on_account else "",
        object_id=str(attempt.user.pk) if on_account else "",
        changes=changes,
        reason=f"{row.failures} failed sign-ins",
        actor="system",
    )


def forget_expired(now: dt.datetime | None = None) -> tuple[int, dict]:
    """Delete the counts whose time is up (they no longer count anyway)."""
    from metrolab.core.models import SigninThrottle

    return SigninThrottle.objects.filter(expires_at__lte=now or timezone.now()).delete()


def register_success(attempt: Attempt) -> None:
    """A completed sign-in (password, and code when the second factor is on): the account's
    count restarts and this address is no longer suspect for the account. The address's own
    count is kept. Summaries of closed failure windows are written now too."""
    from metrolab.core.models import SigninThrottle

    scope = SigninThrottle.Scope
    if attempt.account_key:
        SigninThrottle.objects.filter(scope=scope.PAIR, key=attempt.pair_key).delete()
        SigninThrottle.objects.filter(scope=scope.ACCOUNT, key=attempt.account_key).update(
            failures=0
        )
    summarise_closed_windows(limit=SWEEP_LIMIT)


def release(*, user=None, address: str | None = None) -> int:
    """Remove the counts and delays of an account (with its addresses' failures against it)
    or of a client address. The caller audits it (services.signin_release)."""
    from metrolab.core.models import SigninThrottle

    scope = SigninThrottle.Scope
    wanted = Q(pk__in=[])
    if user is not None:
        key = f"user:{user.pk}"
        wanted |= Q(scope=scope.ACCOUNT, key=key) | Q(scope=scope.PAIR, key__startswith=f"{key}@")
    if address:
        wanted |= Q(scope=scope.ADDRESS, key=normalise_ip(address) or address)
    deleted, _by_model = SigninThrottle.objects.filter(wanted).delete()
    return deleted


# --- The coalesced record of failed sign-ins ----


def log_failure(
    attempt: Attempt,
    *,
    refused: bool = False,
    step: str = "password",
    now: dt.datetime | None = None,
):
    """Record one failed sign-in of `attempt` (refused: turned away by a delay, the password
    not checked). The first from its address in a window is an audit event, returned; later
    ones only count towards the window's summary (None is returned)."""
    from metrolab.core.models import SigninFailureWindow

    now = now or timezone.now()
    open_windows = SigninFailureWindow.objects.select_for_update().filter(
        address=attempt.address, closes_at__gt=now
    )
    with transaction.atomic():
        window = open_windows.order_by("-opened_at").first()
        if window is not None:
            _add_to_window(window, attempt, refused, step)
            return None
    with transaction.atomic():
        audit.lock_chain()  # one process at a time opens windows (and summarises closed ones)
        summarise_closed_windows(now=now, limit=SWEEP_LIMIT)
        window = open_windows.order_by("-opened_at").first()
        if window is not None:  # opened by another process meanwhile
            _add_to_window(window, attempt, refused, step)
            return None
        closes_at = now + dt.timedelta(seconds=policy().audit_window)
        changes = {"username": attempt.label, "summarised_until": closes_at}
        if step != "password":
            changes["step"] = step
        if refused:
            changes["refused_while_delayed"] = True
        event = audit.record(
            "auth.login_failed",
            object_type="core.user" if attempt.user is not None else "",
            object_id=str(attempt.user.pk) if attempt.user is not None else "",
            changes=changes,
            actor="anonymous",
            actor_label=attempt.label,
        )
        window = SigninFailureWindow(
            address=attempt.address, opened_at=now, closes_at=closes_at, first_event_seq=event.seq
        )
        window.failures = 0
        _add_to_window(window, attempt, refused, step)
        return event


def _add_to_window(window, attempt: Attempt, refused: bool, step: str) -> None:
    window.failures += 1
    window.refused += int(refused)
    window.code_failures += int(step == "totp")
    accounts = dict(window.accounts or {})
    name = attempt.label
    if name not in accounts and len(accounts) >= MAX_NAMES_PER_WINDOW:
        name = OTHER_NAMES
    accounts[name] = accounts.get(name, 0) + 1
    window.accounts = accounts
    window.save()


@contextmanager
def _as_client(address: str):
    """Audit events written here carry the summarised client address, not the address of the
    request that happens to write them."""
    token = set_request(RequestInfo(request_id="", client_ip=address or None))
    try:
        yield
    finally:
        reset_request(token)


def summarise_closed_windows(*, now: dt.datetime | None = None, limit: int | None = None) -> int:
    """Append one summary event per closed failure window holding more than its first
    failure, and drop the closed windows. Returns the number of summaries written."""
    from metrolab.core.models import SigninFailureWindow

    now = now or timezone.now()
    written = 0
    if not SigninFailureWindow.objects.filter(closes_at__lte=now).exists():
        return 0  # the common case: no need to wait for the chain lock
    with transaction.atomic():
        audit.lock_chain()
        closed = (
            SigninFailureWindow.objects.select_for_update()
            .filter(closes_at__lte=now)
            .order_by("closes_at", "pk")
        )
        for window in closed[:limit] if limit else closed:
            if window.failures > 1:
                with _as_client(window.address):
                    audit.record(
                        "auth.login_failed_summary",
                        changes={
                            "failures": window.failures,
                            "refused_while_delayed": window.refused,
                            "wrong_codes": window.code_failures,
                            "accounts": window.accounts,
                            "from": window.opened_at,
                            "to": window.closes_at,
                            "first_event": window.first_event_seq,
                        },
                        reason=f"{window.failures} failed sign-ins from "
                        f"{window.address or 'an unknown address'} in this window",
                        actor="anonymous",
                        actor_label=UNKNOWN_USER
                        if set(window.accounts) <= {UNKNOWN_USER}
                        else ", ".join(sorted(window.accounts))[:150],
                    )
                written += 1
            window.delete()
    return written
