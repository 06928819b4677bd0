"""Writes of the platform core: roles, organisation profile, API tokens, TOTP, audit checks.

Every function here is a service (metrolab.core.service): one transaction, audited.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from metrolab.core import audit, signin
from metrolab.core.access import TOKEN_PREFIX, hash_token
from metrolab.core.auth import totp_match, totp_new_secret
from metrolab.core.models import ApiToken, AuditVerification, OrganisationProfile, User
from metrolab.core.permissions import SYSTEM, person
from metrolab.core.roles import QUALITY_MANAGER, ROLE_PERMISSIONS, ROLES, STAFF_ROLES
from metrolab.core.service import ServiceError, service
from metrolab.core.validation import validated

logger = logging.getLogger(__name__)


@service("roles.sync", record_calls=False)
def roles_sync(*, actor: Any) -> None:
    """Create a group per role and give it exactly its listed permissions (R4.4)."""
    for code in ROLES:
        group, _created = Group.objects.get_or_create(name=code)
        wanted = []
        for perm in sorted(ROLE_PERMISSIONS.get(code, ())):
            app_label, codename = perm.split(".", 1)
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is not None:
                wanted.append(found)
        group.permissions.set(wanted)


@service("user.roles_set")
def user_roles_set(*, user: User, roles: list[str], actor: Any, reason: str = "") -> User:
    """Give a user exactly these roles (R4.4); back-office access follows the roles that carry
    it. An administrator cannot remove their own administrator role (no lock-out by mistake)."""
    unknown = set(roles) - ROLES.keys()
    if unknown:
        raise ServiceError(_("Unknown role: %s") % ", ".join(sorted(unknown)), field="roles")
    acting = person(actor)
    removing_own_admin = acting is not None and acting.pk == user.pk and "admin" not in roles
    if removing_own_admin and user.has_role("admin"):
        raise ServiceError(_("You cannot remove your own administrator role."), field="roles")
    user.groups.set(Group.objects.filter(name__in=roles))
    is_staff = user.is_superuser or bool(STAFF_ROLES & set(roles))
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
    user.__dict__.pop("_role_codes", None)
    return user


@service("user.create")
def user_create(
    *,
    username: str,
    password: str | None,
    roles: list[str],
    display_name: str = "",
    email: str = "",
    actor: Any,
    reason: str = "",
) -> User:
    """Create a person's or a machine client's account with its roles (R4.4); without a
    password the account can only use API tokens."""
    if User.objects.filter(username=username).exists():
        raise ServiceError(_("A user with this name exists already."), field="username")
    user = User(username=username, display_name=display_name, email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user_roles_set(user=user, roles=roles, actor=actor, reason=reason)
    return user


def organisation_get() -> OrganisationProfile:
    """The lab's profile (created empty on first use)."""
    profile = OrganisationProfile.objects.filter(pk=1).first()
    return profile or OrganisationProfile(pk=1, name="")


ORGANISATION_FIELDS = [
    f.name
    for f in OrganisationProfile._meta.concrete_fields
    if f.name not in {"id", "created_at", "updated_at"}
]


@service("organisation.update")
def organisation_update(
    *, data: dict[str, Any], actor: Any, reason: str = ""
) -> OrganisationProfile:
    """Edit the lab's profile, printed on certificates (R6.3b seal texts); fields not named in
    `data` keep their value."""
    unknown = set(data) - set(ORGANISATION_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown field: %s") % ", ".join(sorted(unknown)))
    profile = organisation_get()
    for name, value in data.items():
        setattr(profile, name, value)
    if not profile.name:
        raise ServiceError(_("The laboratory name is required."), field="name")
    validated(profile)
    profile.save()
    return profile


@service("api_token.create")
def api_token_create(
    *,
    user: User,
    name: str,
    roles: list[str],
    expires_at: dt.datetime | None = None,
    actor: Any,
    reason: str = "",
) -> tuple[ApiToken, str]:
    """Issue a token for a machine client or integration (R7.2a). The raw token is returned
    once and never stored; its roles must be roles the user holds. Tokens are issued for
    accounts holding the device role, or by a user for themself: an administrator cannot mint
    a token that acts as another person."""
    name = (name or "").strip()
    acting = person(actor)
    is_self = acting is not None and acting.pk == user.pk
    if not is_self and not user.has_role("device"):
        raise ServiceError(
            _("Tokens are issued for device accounts, or by a user for themself."),
            field="username",
        )
    if not name:
        raise ServiceError(_("Give the token a name."), field="name")
    if not roles:
        raise ServiceError(_("Choose at least one role for the token."), field="roles")
    not_held = set(roles) - set(user.role_codes)
    if not_held and not user.is_superuser:
        raise ServiceError(
            _("The user does not hold these roles: %s") % ", ".join(sorted(not_held)), field="roles"
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError(_("The expiry must be in the future."), field="expires_at")
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        key_hash=hash_token(raw),
        expires_at=expires_at,
        created_by=acting,
    )
    token.roles.set(Group.objects.filter(name__in=roles))
    return token, raw


@service("api_token.revoke")
def api_token_revoke(*, token: ApiToken, actor: Any, reason: str = "") -> ApiToken:
    """Revoke a token at once (R7.2a); it stays listed, with who revoked it in the audit log."""
    if token.revoked_at is not None:
        raise ServiceError(_("This token is revoked already."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    return token


@service("totp.begin")
def totp_begin(*, user: User, actor: Any, reason: str = "") -> str:
    """Start enrolment: a new secret, not yet active until a code from it is confirmed."""
    if user.totp_enabled:
        raise ServiceError(_("Two-factor authentication is on already."))
    user.totp_secret = totp_new_secret()
    user.save(update_fields=["totp_secret"])
    return user.totp_secret


def _accept_code(user: User, code: str) -> bool:
    step = totp_match(user.totp_secret, code, after_step=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


@service("totp.enable")
def totp_enable(*, user: User, code: str, actor: Any, reason: str = "") -> User:
    """Turn the second factor on once a code from the new secret proves the phone has it."""
    if not user.totp_secret:
        raise ServiceError(_("Start the set-up first."))
    if not _accept_code(user, code):
        raise ServiceError(_("The code is not valid. Check the time on your phone."), field="code")
    user.totp_enabled = True
    user.save(update_fields=["totp_enabled", "totp_last_step"])
    return user


@service("totp.disable")
def totp_disable(*, user: User, code: str, actor: Any, reason: str = "") -> User:
    """Turn the second factor off; a current code is required, so a stolen session cannot."""
    if not user.totp_enabled:
        raise ServiceError(_("Two-factor authentication is not on."))
    if not _accept_code(user, code):
        raise ServiceError(_("The code is not valid. Check the time on your phone."), field="code")
    user.totp_enabled = False
    user.totp_secret = ""
    user.save(update_fields=["totp_enabled", "totp_secret", "totp_last_step"])
    return user


@service("auth.second_factor", record_calls=False)
def login_second_factor(*, user: User, code: str, actor: Any) -> bool:
    """Check the code of the sign-in's second step (R7.2a). A wrong code is a failed sign-in
    of the account from this address (throttled and recorded as a wrong password is, see
    metrolab.core.signin); while the address is delayed for the account no code is checked.
    A right code is accepted once (no replay) and completes the sign-in. The actor is the
    visitor signing in (not yet signed in: `request.user`)."""
    attempt = signin.attempt_of(user)
    if signin.is_delayed(attempt):
        signin.log_failure(attempt, refused=True, step="totp")
        return False
    if _accept_code(user, code):
        user.save(update_fields=["totp_last_step"])
        signin.register_success(attempt)
        return True
    signin.register_failure(attempt, step="totp")
    signin.log_failure(attempt, step="totp")
    return False


@service("auth.signin_release")
def signin_release(
    *, user: User | None = None, address: str = "", actor: Any, reason: str = ""
) -> int:
    """Lift the sign-in delays of an account (with its addresses' failures against it) or of a
    client address, and forget their failed sign-ins (R7.2a): for an owner kept out by their
    own mistyped passwords. Audited with who did it and why; returns the counts removed."""
    if user is None and not address:
        raise ServiceError(_("Name an account or a client address."))
    released = signin.release(user=user, address=address)
    audit.record(
        "auth.signin_release",
        object_type="core.user" if user is not None else "",
        object_id=str(user.pk) if user is not None else "",
        changes={
            "username": user.get_username() if user is not None else None,
            "address": address or None,
            "released": released,
        },
    )
    return released


@service("audit.verification_request")
def audit_verification_request(*, actor: Any, reason: str = "") -> AuditVerification:
    """Queue a recomputation of the audit chain; the background worker runs it."""
    from metrolab.core.tasks import audit_verification_run_task

    verification = AuditVerification.objects.create(requested_by=person(actor))
    audit_verification_run_task.enqueue(verification_id=verification.pk)
    return verification


def audit_verification_run(*, verification_id: int) -> AuditVerification:
    """Recompute the chain against every anchor and store the outcome (called by the worker).
    An intact chain's head becomes an anchor, in the database (this verification) and in the
    anchor file; a broken chain is reported to the quality managers (R7.2b). The worker's
    writes are the system's."""
    verification = AuditVerification.objects.get(pk=verification_id)
    _verification_status(verification, AuditVerification.Status.RUNNING, actor=SYSTEM)
    try:
        report = audit.verify_chain()
    except Exception as exc:
        _verification_finish(
            verification,
            status=AuditVerification.Status.FAILED,
            message=str(exc),
            actor=SYSTEM,
        )
        raise
    _verification_finish(
        verification,
        status=AuditVerification.Status.INTACT if report.ok else AuditVerification.Status.BROKEN,
        event_count=report.count,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        first_bad_seq=report.first_bad_seq,
        message=report.problem,
        actor=SYSTEM,
    )
    if not report.ok:
        audit_chain_alert(problem=f"event {report.first_bad_seq}: {report.problem}", actor=SYSTEM)
    elif report.head_seq:
        try:
            audit.anchor_file_append(_anchor_of(verification), kind="verification")
        except OSError:
            logger.exception("could not append the verified head to the audit anchor file")
    return verification


def _anchor_of(verification: AuditVerification) -> audit.Anchor:
    when = (verification.finished_at or verification.created_at).astimezone(dt.UTC)
    return audit.Anchor(
        verification.head_seq, verification.head_hash, when.isoformat(timespec="seconds")
    )


def audit_anchor(*, kind: str = "hourly") -> AuditVerification | None:
    """Anchor the chain's head (R7.2b): note its sequence number and hash in the database (an
    AuditVerification "head anchored") and as one line of the anchor file in the backup
    location, outside the database. However completely the chain is later rewritten, it no
    longer contains these heads, and `metrolab audit verify` says so. None for an empty chain.

    Called outside any transaction (the worker does), so the file only names committed heads."""
    verification = _audit_anchor_record(kind=kind, actor=SYSTEM)
    if verification is not None:
        audit.anchor_file_append(_anchor_of(verification), kind=kind)
    return verification


@service("audit.anchor", record_calls=False)
def _audit_anchor_record(*, kind: str, actor: Any) -> AuditVerification | None:
    # The service holds the chain lock: the head read here is the newest committed event.
    seq, digest = audit.chain_head()
    if not seq:
        return None
    return AuditVerification.objects.create(
        status=AuditVerification.Status.ANCHORED,
        finished_at=timezone.now(),
        head_seq=seq,
        head_hash=digest,
        message=kind,
    )


def audit_anchor_scheduled() -> AuditVerification | None:
    """What the worker runs every hour (METROLAB_AUDIT_ANCHOR_SECONDS) and when it starts: a
    quick look that the newest anchor of the database and of the anchor file are still in
    the chain unchanged (the quality managers are told at once if not), then a new anchor."""
    try:
        database, in_file = audit.database_anchors(), audit.anchor_file_read()
        newest = [max(found, key=lambda a: a.seq) for found in (database, in_file) if found]
        lost = audit.anchors_newest_check(newest)
        problem = lost[1] if lost else ""
    except audit.AnchorFileError as exc:
        problem = str(exc)
    if problem:
        logger.error("audit chain check failed: %s", problem)
        audit_chain_alert(problem=problem, actor=SYSTEM)
    return audit_anchor(kind="hourly")


@service("audit.chain_alert")
def audit_chain_alert(*, problem: str, actor: Any) -> int:
    """Tell the quality managers (inbox and e-mail) that the audit chain failed a check: a
    broken link, or a rewrite or cut revealed by an anchor (R7.2b). Returns how many."""
    from metrolab.core.notices import notify

    managers = list(
        User.objects.filter(is_active=True, groups__name=QUALITY_MANAGER).distinct().order_by("pk")
    )
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("The audit log failed its integrity check")
        body = _(
            "MetroLab found the audit log changed behind its back: %(problem)s\n"
            "Run `metrolab audit verify` on the server and compare with the backups."
        ) % {"problem": problem}
    for user in managers:
        notify(
            event="audit.chain_broken",
            subject=subject,
            body=body,
            recipient_user=user,
            channels={"email": user.email},
            payload={"problem": problem},
            actor=actor,
        )
    return len(managers)


@service("audit.verification_progress")
def _verification_status(verification: AuditVerification, status: str, *, actor: Any) -> None:
    verification.status = status
    verification.save(update_fields=["status"])


@service("audit.verification_finish")
def _verification_finish(verification: AuditVerification, *, actor: Any, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(verification, name, value)
    verification.finished_at = timezone.now()
    verification.save(update_fields=[*fields, "finished_at"])
