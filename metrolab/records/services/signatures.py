"""Electronic signatures of original records (R4.4; 21 CFR 11.50 / 11.200 as the model).

Each signing step (submit = "measured", check = "checked", approve = "approved") asks the
signer to prove again who they are: their password, and their current TOTP code where they
have the second factor on (a code is good once: the last accepted step is kept, as at
sign-in). A wrong password or code counts as a failed sign-in of the account from this
address (metrolab.core.signin: the same growing delays, the same coalesced audit events);
while the account is delayed from this address no password is checked. A failure writes
nothing but that record of the failure, and refuses with `RecordRefusal.REAUTH_FAILED`
(HTTP 403: the session or token stays valid, only the signature was refused).

The manifest (`RecordSignature`) keeps the printed name (the user's display name), the time,
the meaning, how the signer was authenticated ("password" or "password+totp") and the
SHA-256 of the record's content (`content_digest`). The content is the canonical JSON (values
as metrolab.core.audit.to_json_value makes them; sorted keys, no spaces, UTF-8) of:

- "record": number, revision, and the number of the record it amends (or null);
- "template": code, version number and the digest of the version's definition;
- "method": the method as cited ("JJG 52-2013"), "room": the room's code (or null);
- "cells": the values typed; "results": the evaluation stored; "decision";
- "conditions": the environmental conditions stored at submission;
- "equipment": [{asset_no, role, snapshot}] in asset-number order (the calibration data);
- "context": the header data frozen at creation.

Not in it: the status, who checked or approved, the times (a later signature must not void an
earlier one). Any later change of the content makes `signature_valid` False: the selectors and
the API show each signature valid or not.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.core import signin
from metrolab.core.audit import to_json_value
from metrolab.core.auth import totp_match
from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import person
from metrolab.core.service import ServiceError
from metrolab.records.errors import RecordRefusal
from metrolab.records.models import Record, RecordSignature
from metrolab.records.roles import RECORD_DEVICES

PASSWORD = "password"
PASSWORD_TOTP = "password+totp"


def content_of(record: Record, uses=None) -> dict[str, Any]:
    """What a signature is bound to (see the module docstring)."""
    version = record.template_version
    if uses is None:
        uses = record.equipment_used.select_related("equipment")
    equipment = sorted(
        (
            {"asset_no": use.equipment.asset_no, "role": use.role, "snapshot": use.snapshot}
            for use in uses
        ),
        key=lambda e: e["asset_no"],
    )
    return {
        "record": {
            "number": record.number,
            "revision": record.revision,
            "amends": record.amends.number if record.amends_id else None,
        },
        "template": {
            "code": version.template.code,
            "version": version.number,
            "digest": version.digest,
        },
        "method": str(record.method) if record.method_id else None,
        "room": record.room.code if record.room_id else None,
        "cells": record.cells,
        "results": record.results,
        "decision": record.decision,
        "conditions": record.conditions,
        "equipment": equipment,
        "context": record.context,
    }


def content_digest(record: Record, uses=None) -> str:
    """SHA-256 (hex) of the record's content as signatures bind it."""
    text = json.dumps(
        to_json_value(content_of(record, uses)),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def signature_valid(signature: RecordSignature, digest: str | None = None) -> bool:
    """Whether the signature still stands: not withdrawn, and the record's content is what
    was signed. `digest`: the record's current digest, when the caller has it already."""
    if signature.revoked_at is not None:
        return False
    if digest is None:
        digest = content_digest(signature.record)
    return signature.content_digest == digest


def _refused(message: str) -> ServiceError:
    return ServiceError(message, code=RecordRefusal.REAUTH_FAILED, field="password")


def reauthenticate(*, actor: Any, password: str, otp: str = "") -> tuple[Any, str]:
    """Prove the signer again (see the module docstring): returns (the user, how they were
    authenticated) or refuses with REAUTH_FAILED after recording the failure. Call it outside
    the signing service's transaction, so that the record of a failure is kept."""
    from metrolab.core.models import User

    user = person(actor)
    if user is None:
        raise ServiceError(_("A signed-in person must sign."), code=CoreRefusal.FORBIDDEN)
    if user.has_role(*RECORD_DEVICES) and not user.is_superuser:
        raise ServiceError(_("A device cannot sign a record."), code=CoreRefusal.FORBIDDEN)
    account = User.objects.get(pk=user.pk)
    attempt = signin.attempt_of(account)
    if signin.is_delayed(attempt):
        signin.log_failure(attempt, refused=True)
        raise _refused(
            _("Too many failed attempts: signing is delayed for your account. Try again later.")
        )
    if not password or not account.check_password(password):
        signin.register_failure(attempt)
        signin.log_failure(attempt)
        raise _refused(_("The password is not right: the record was not signed."))
    if not account.totp_enabled:
        signin.register_success(attempt)
        return user, PASSWORD
    step = totp_match(account.totp_secret, otp or "", after_step=account.totp_last_step)
    if step is None:
        signin.register_failure(attempt, step="totp")
        signin.log_failure(attempt, step="totp")
        message = (
            _("Enter the code from your authenticator app to sign.")
            if not (otp or "").strip()
            else _("The code is not valid: the record was not signed.")
        )
        raise ServiceError(message, code=RecordRefusal.REAUTH_FAILED, field="otp")
    account.totp_last_step = step
    account.save(update_fields=["totp_last_step"])
    signin.register_success(attempt)
    return user, PASSWORD_TOTP


def sign(record: Record, *, user: Any, meaning: str, authenticated_by: str) -> RecordSignature:
    """Write the manifest of a signature on the record as it now is (inside a service)."""
    return RecordSignature.objects.create(
        record=record,
        meaning=meaning,
        signer=user,
        printed_name=str(user.display_name or user.get_full_name() or user.username),
        signed_at=timezone.now(),
        content_digest=content_digest(record),
        authenticated_by=authenticated_by,
    )
