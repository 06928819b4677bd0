"""Which steps a record's page offers to the person looking at it. The rules are the
services' (services/records.py): a signing step runs the service's own read-only checks
(`refusal`) so that the page says why before asking for a password; the other buttons are
offered by status and role and the service refuses what is not allowed, with its reasons."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from metrolab.core.permissions import holds
from metrolab.core.service import ServiceError
from metrolab.records import services as record_services
from metrolab.records.models import Record, RecordSignature
from metrolab.records.roles import APPROVERS, CHECKERS, RECORD_MANAGERS

SIGN_STEPS = ("submit", "check", "approve")
REASON_STEPS = ("return", "cancel", "amend")

# The status each signing step starts from.
STEP_STATUS = {
    "submit": Record.Status.DRAFT,
    "check": Record.Status.SUBMITTED,
    "approve": Record.Status.CHECKED,
}


@dataclass(frozen=True)
class Step:
    name: str
    label: str | Promise
    meaning: str | Promise  # what the signature or the step means, said before it is taken
    sign: bool


STEPS = {
    "submit": Step(
        "submit",
        _("Submit for check"),
        _(
            "I confirm that the data of this record are true and complete and were measured "
            "by me; I sign it as the person who measured."
        ),
        True,
    ),
    "check": Step(
        "check",
        _("Check and sign"),
        _("I sign this record as its checker: I have checked its data and calculations."),
        True,
    ),
    "approve": Step(
        "approve",
        _("Approve and sign"),
        _("I sign this record as its approver: its results are approved and it is locked."),
        True,
    ),
    "return": Step(
        "return",
        _("Return to the measurer"),
        _("The record goes back to its measurer as a draft; say what is to be put right."),
        False,
    ),
    "cancel": Step(
        "cancel",
        _("Cancel the record"),
        _("The record is cancelled and its task goes back to assigned, to be reassigned."),
        False,
    ),
    "amend": Step(
        "amend",
        _("Amend"),
        _(
            "A correction after approval is a new revision of the record, with its own "
            "check and approval; say what it corrects."
        ),
        False,
    ),
}

MEANING_OF_STEP = {
    "submit": RecordSignature.Meaning.MEASURED,
    "check": RecordSignature.Meaning.CHECKED,
    "approve": RecordSignature.Meaning.APPROVED,
}


def refusal(record: Record, user, step: str) -> list[str]:
    """Why `user` cannot take the signing `step` now (empty: they may), as the service says."""
    try:
        record_services.refuse_unless_may_sign(record, user, step, STEP_STATUS[step])
    except ServiceError as exc:
        return reasons(exc)
    return []


def reasons(exc: ServiceError) -> list[str]:
    """Every reason of a refusal (the service lists them in `errors`), else its message."""
    found = [str(m) for messages in exc.errors.values() for m in messages]
    return found or [exc.message]


def offered(record: Record, user) -> list[Step]:
    """The steps this page offers `user` on `record` (by status and role; see the module
    docstring)."""
    status = record.status
    mine = user.pk == record.measured_by_id
    manager = holds(user, RECORD_MANAGERS)
    steps: list[str] = []
    if status == Record.Status.DRAFT and mine:
        steps.append("submit")
    if status == Record.Status.SUBMITTED and not mine and holds(user, CHECKERS):
        steps += ["check", "return"]
    if status == Record.Status.CHECKED and not mine:
        if holds(user, APPROVERS) and user.pk != record.checked_by_id:
            steps.append("approve")
        if holds(user, (*CHECKERS, *APPROVERS)):
            steps.append("return")
    if status in (Record.Status.DRAFT, Record.Status.SUBMITTED) and (mine or manager):
        steps.append("cancel")
    if status == Record.Status.APPROVED and (mine or manager):
        steps.append("amend")
    return [STEPS[name] for name in steps]
