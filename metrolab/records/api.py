"""`/api/v1/records/...`: original records (R6.2, R4.4): list and read, make one from a started
task (with its equipment's roles), set the roles of a draft's equipment, write cells (people
and device tokens, so that instruments can fill a record), preview
the calculation, submit / check / approve with the signer's password (and TOTP code), return,
cancel, amend, and the history with the replay of a moment (`?at=`).

A refused signature (wrong password or code, or delayed after failures) answers 403 with
`error.code` "reauthentication_failed". Customers' portal accounts reach nothing here.
"""

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.core.service import ServiceError
from metrolab.core.text import Code, Name, Reason, ShortText
from metrolab.environment.models import Room
from metrolab.records import selectors, services
from metrolab.records.filters import RecordFilter
from metrolab.records.models import Record, TemplateVersion
from metrolab.records.roles import RECORD_API, RECORD_DEVICES, RECORD_READERS
from metrolab.tasks.models import Task

router = Router(tags=["records"])

# Readings an instrument may send in one request.
MAX_CELLS = 5000
# Pieces of equipment whose roles one request may set.
MAX_ROLES = 200


class RecordListOut(Schema):
    id: int
    number: str
    revision: int
    status: str
    task: int
    item: str
    commission: str
    customer: str
    template: str
    template_version: int
    measured_by: str
    started_at: dt.datetime
    submitted_at: dt.datetime | None
    decision: str
    complete: bool
    locked: bool


class RecordEquipmentOut(Schema):
    id: int
    asset_no: str
    name: str
    role: str
    certificate_no: str | None
    due_date: str | None
    snapshot: dict[str, Any]


class RecordRoleOut(Schema):
    name: str
    label: str  # in the user's language
    declared: bool  # declared in the template's "roles" (with what fits it)


class RecordSignatureOut(Schema):
    id: int
    meaning: str
    signer: str
    printed_name: str
    signed_at: dt.datetime
    authenticated_by: str
    content_digest: str
    valid: bool  # the record's content is still what was signed


class RecordTransitionOut(Schema):
    source: str
    target: str
    by: str
    at: dt.datetime
    reason: str


class RecordOut(RecordListOut):
    amends: str | None
    amendments: list[str]
    method: str | None
    room: str | None
    cells: dict[str, str]
    results: dict[str, Any]
    context: dict[str, Any]
    conditions: dict[str, Any]
    conditions_held: bool | None
    conditions_note: str
    blocked: list[str]  # why readings cannot be written now
    checked_by: str | None
    checked_at: dt.datetime | None
    approved_by: str | None
    approved_at: dt.datetime | None
    locked_at: dt.datetime | None
    retain_until: dt.date | None
    equipment: list[RecordEquipmentOut]
    roles: list[RecordRoleOut]  # the template's equipment roles
    missing_roles: list[str]  # roles no equipment holds: the record cannot be submitted
    signatures: list[RecordSignatureOut]
    transitions: list[RecordTransitionOut]


class RecordCreateIn(Schema):
    """The started task (id); optionally the approved template version and the room (ids),
    and the role of each piece of the task's equipment ({equipment id: role, "" for none};
    a piece not named holds none). Without `roles`, a role is assigned only where it is
    unambiguous (docs/record-templates.md)."""

    task: int
    template_version: int | None = None
    room: int | None = None
    roles: dict[int, Code] | None = None


class RecordRolesIn(Schema):
    """{equipment id: role, "" for none} of the record's equipment (the others keep theirs).
    After a return, `reason` is required."""

    roles: dict[int, Code] = Field(..., min_length=1, max_length=MAX_ROLES)
    reason: Reason = ""


class RecordCellsIn(Schema):
    """Cell id → the value as typed (text). After a return, `reason` is required."""

    values: dict[Code, ShortText] = Field(..., max_length=MAX_CELLS)
    reason: Reason = ""


class RecordPreviewIn(Schema):
    values: dict[Code, ShortText] = Field(default_factory=dict, max_length=MAX_CELLS)


class RecordSignIn(Schema):
    """The signer's password, and the current TOTP code when two-factor is on."""

    password: Name
    otp: Code = ""
    reason: Reason = ""


class RecordReasonIn(Schema):
    reason: Reason


class RecordPreviewOut(Schema):
    decision: str | None
    complete: bool
    problems: list[dict[str, Any]]
    points: list[dict[str, Any]]
    summary: dict[str, Any]
    header: dict[str, Any]
    results_table: dict[str, Any]
    cells: list[dict[str, Any]]
    blocked: list[str]


class RecordChangeOut(Schema):
    old: str
    new: str
    by: str
    at: dt.datetime
    reason: str
    status: str
    source: str
    instrument: str


class RecordFieldHistoryOut(Schema):
    cell: str
    label: dict[str, str]
    changes: list[RecordChangeOut]


class RecordStateOut(Schema):
    at: dt.datetime
    existed: bool
    status: str
    cells: dict[str, str]
    roles: dict[str, str] = {}  # asset no. → the role the equipment held then
    decision: str | None
    complete: bool
    results: dict[str, Any]


class RecordHistoryOut(Schema):
    fields: list[RecordFieldHistoryOut]
    transitions: list[RecordTransitionOut]
    state: RecordStateOut | None  # the replay of `?at=`


def _list_out(record: Record) -> dict:
    item = record.task.item
    return {
        "id": record.pk,
        "number": record.number,
        "revision": record.revision,
        "status": record.status,
        "task": record.task_id,
        "item": item.number,
        "commission": item.commission.number,
        "customer": item.commission.customer.name,
        "template": record.template_version.template.code,
        "template_version": record.template_version.number,
        "measured_by": record.measured_by.username,
        "started_at": record.started_at,
        "submitted_at": record.submitted_at,
        "decision": record.decision,
        "complete": record.complete,
        "locked": record.locked_at is not None,
    }


def _record_out(record: Record) -> dict:
    record = selectors.record_get(record.pk)
    detail = selectors.record_detail(record)
    return {
        **_list_out(record),
        "amends": record.amends.number if record.amends_id else None,
        "amendments": [a["number"] for a in detail["amendments"]],
        "method": str(record.method) if record.method_id else None,
        "room": record.room.code if record.room_id else None,
        "cells": record.cells,
        "results": record.results,
        "context": record.context,
        "conditions": record.conditions,
        "conditions_held": record.conditions_held,
        "conditions_note": detail["conditions_note"],
        "blocked": detail["blocked"],
        "checked_by": record.checked_by.username if record.checked_by_id else None,
        "checked_at": record.checked_at,
        "approved_by": record.approved_by.username if record.approved_by_id else None,
        "approved_at": record.approved_at,
        "locked_at": record.locked_at,
        "retain_until": record.retain_until,
        "equipment": detail["equipment"],
        "roles": detail["roles"],
        "missing_roles": [r["name"] for r in detail["missing_roles"]],
        "signatures": detail["signatures"],
        "transitions": detail["transitions"],
    }


def _record(pk: int) -> Record:
    record = Record.objects.filter(pk=pk).first()
    if record is None:
        raise HttpError(404, _("No such record."))
    return record


def _get(model, pk: int | None, field: str, message: str):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ServiceError(message, field=field)
    return found


@router.get(
    "/",
    response=list[RecordListOut],
    auth=api_access(roles=RECORD_READERS),
    summary="Original records",
)
@paginate
def record_list(request, filters: Query[RecordFilter]):
    """Newest first; the filters of `RecordFilter`."""
    return Mapped(selectors.record_list(filters), _list_out)


@router.post(
    "/",
    response={201: RecordOut},
    auth=api_access(roles=RECORD_READERS),
    summary="Make the record of a started task",
)
def record_create(request, data: RecordCreateIn):
    task = _get(Task, data.task, "task", _("No such task."))
    record = services.record_create(
        task=task,
        actor=request.auth,
        template_version=_get(
            TemplateVersion, data.template_version, "template_version", _("No such version.")
        ),
        room=_get(Room, data.room, "room", _("No such room.")),
        roles=data.roles,
    )
    return Status(201, _record_out(record))


@router.put(
    "/{record_id}/roles",
    response=RecordOut,
    auth=api_access(roles=RECORD_READERS),
    summary="Set the roles of a draft record's equipment (its measurer)",
)
def record_roles(request, record_id: int, data: RecordRolesIn):
    """Refused: a role the template does not name, a role given to several pieces,
    equipment not the record's (422 `equipment_roles_invalid`, every reason listed), a
    change after a return without a reason (422 `reason_required`), a record not in draft
    (409), someone else than its measurer (403)."""
    record = services.record_set_roles(
        record=_record(record_id),
        roles=data.roles,
        actor=request.auth,
        reason=data.reason,
        source="api",
    )
    return _record_out(record)


@router.get(
    "/{record_id}",
    response=RecordOut,
    auth=api_access(roles=RECORD_API),
    summary="One record: cells, results, conditions, equipment, signatures (valid or not)",
)
def record_detail(request, record_id: int):
    return _record_out(_record(record_id))


@router.patch(
    "/{record_id}/cells",
    response=RecordOut,
    auth=api_access(roles=RECORD_API),
    summary="Write cells of a draft record (people, or a device token: readings only)",
)
def record_cells(request, record_id: int, data: RecordCellsIn):
    """Refused: unknown or protected cells (422), readings while the environmental
    conditions do not hold (409 `conditions_not_met`), a change after a return without a
    reason (422 `reason_required`), a record not in draft (409)."""
    source = "device" if request.auth.has_role(*RECORD_DEVICES) else "api"
    record = services.record_write(
        record=_record(record_id),
        values=data.values,
        actor=request.auth,
        reason=data.reason,
        source=source,
    )
    return _record_out(record)


@router.post(
    "/{record_id}/preview",
    response=RecordPreviewOut,
    auth=api_access(roles=RECORD_API),
    summary="Evaluate the record with these values laid over its cells (nothing saved)",
)
def record_preview(request, record_id: int, data: RecordPreviewIn):
    record = _record(record_id)
    preview = services.record_preview(record, data.values)
    preview["blocked"] = services.measurement_blocked(record)
    return preview


def _signed(step, request, record_id: int, data: RecordSignIn) -> dict:
    record = step(
        record=_record(record_id),
        actor=request.auth,
        password=data.password,
        otp=data.otp,
        reason=data.reason,
    )
    return _record_out(record)


def _with_reason(step, request, record_id: int, data: RecordReasonIn) -> dict:
    record = step(record=_record(record_id), actor=request.auth, reason=data.reason)
    return _record_out(record)


@router.post(
    "/{record_id}/submit",
    response=RecordOut,
    auth=api_access(roles=RECORD_READERS),
    summary="Submit for the check, signing 'measured' (password, TOTP code)",
)
def record_submit(request, record_id: int, data: RecordSignIn):
    return _signed(services.record_submit, request, record_id, data)


@router.post(
    "/{record_id}/check",
    response=RecordOut,
    auth=api_access(roles=RECORD_READERS),
    summary="Check (核验), signing 'checked' (password, TOTP code)",
)
def record_check(request, record_id: int, data: RecordSignIn):
    return _signed(services.record_check, request, record_id, data)


@router.post(
    "/{record_id}/approve",
    response=RecordOut,
    auth=api_access(roles=RECORD_READERS),
    summary="Approve (批准) and lock, signing 'approved' (password, TOTP code)",
)
def record_approve(request, record_id: int, data: RecordSignIn):
    return _signed(services.record_approve, request, record_id, data)


@router.post(
    "/{record_id}/return",
    response=RecordOut,
    auth=api_access(roles=RECORD_READERS),
    summary="Return to the measurer with a reason",
)
def record_return(request, record_id: int, data: RecordReasonIn):
    return _with_reason(services.record_return, request, record_id, data)


@router.post(
    "/{record_id}/cancel",
    response=RecordOut,
    auth=api_access(roles=RECORD_READERS),
    summary="Cancel before approval with a reason (the task may be reassigned)",
)
def record_cancel(request, record_id: int, data: RecordReasonIn):
    return _with_reason(services.record_cancel, request, record_id, data)


@router.post(
    "/{record_id}/amend",
    response={201: RecordOut},
    auth=api_access(roles=RECORD_READERS),
    summary="Amend an approved record: a new draft revision linked to it",
)
def record_amend(request, record_id: int, data: RecordReasonIn):
    return Status(201, _with_reason(services.record_amend, request, record_id, data))


@router.post(
    "/{record_id}/delete",
    response={204: None},
    auth=api_access(roles=RECORD_READERS),
    summary="Delete a record after its retention period, with a reason (lab managers)",
)
def record_delete(request, record_id: int, data: RecordReasonIn):
    services.record_delete(record=_record(record_id), actor=request.auth, reason=data.reason)
    return Status(204, None)


@router.get(
    "/{record_id}/history",
    response=RecordHistoryOut,
    auth=api_access(roles=RECORD_READERS),
    summary="Changes field by field, status changes, and the record as it was at `at`",
)
def record_history(request, record_id: int, at: dt.datetime | None = None):
    record = selectors.record_get(_record(record_id).pk)
    state = None
    if at is not None:
        when = timezone.make_aware(at) if timezone.is_naive(at) else at
        state = selectors.record_state_at(record, when)
    return {
        "fields": selectors.record_history(record),
        "transitions": selectors.transitions_of(record),
        "state": state,
    }
