"""`/api/v1/instruments/...`: instrument connections and procedure runs (issue 16; R8a, R8b).

- `GET|PUT /connections/{equipment_id}`: how a piece of equipment is connected (the JSON of
  `open_driver`, checked); `POST .../identify` connects, reads *IDN? and compares it with the
  equipment's model and serial number; `POST .../self-test` runs its self-test; `GET
  .../checks` every identify and self-test with its transcript, paginated.
- `POST /runs/` starts a run of a procedure on a draft record (refused: not the record's
  measurer 403, not eligible / no connection / equipment in another room 409, a procedure
  that does not fit the record 422); `GET /runs/{id}` its status, state and last events;
  `GET /runs/{id}/events` the events, paginated; `POST /runs/{id}/confirm|pause|resume|abort`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.core.roles import ADMIN, EQUIPMENT_MANAGER, LAB_STAFF, METROLOGIST
from metrolab.core.service import ServiceError
from metrolab.core.text import Code, Reason
from metrolab.equipment.models import Equipment
from metrolab.instruments import services
from metrolab.instruments.models import ConnectionCheck, InstrumentConnection, Run, RunEvent
from metrolab.records.models import Record

router = Router(tags=["instruments"])
router.add_router("/procedures/", "metrolab.instruments.procedure_api.router")

READERS = tuple(LAB_STAFF)
CONNECTION_EDITORS = (ADMIN, EQUIPMENT_MANAGER, METROLOGIST)
OPERATORS = (METROLOGIST,)
MAX_ROLES = 20


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ConnectionIn(Strict):
    connection: dict[str, Any]


class ConnectionOut(Schema):
    equipment: int
    asset_no: str
    connection: dict[str, Any]
    driver: str
    identity: dict[str, str]
    identified_at: dt.datetime | None


class IdentifyOut(Schema):
    identity: dict[str, str]
    matches: bool
    mismatches: list[str]


class SelfTestOut(Schema):
    passed: bool
    failures: list[str]


class RunStartIn(Strict):
    """The draft record (id), the procedure (a procedure's code: its approved version runs),
    the lab's equipment per role ({role: equipment id}) and, for a meter role without
    equipment (the item under test), its connection ({role: connection})."""

    record: int
    procedure: Code
    equipment: dict[Code, int]
    connections: dict[Code, dict[str, Any]] = {}
    #: Why the values are measured again: required when the record came back from its check.
    reason: Reason = ""


class RunAbortIn(Strict):
    reason: Reason


class RunPauseIn(Strict):
    reason: Reason = ""


class EmptyIn(Strict):
    pass


class EventOut(Schema):
    id: int
    at: dt.datetime
    kind: str
    role: str
    text: str
    by: str | None
    address: str | None


class RunOut(Schema):
    id: int
    task: int
    record: int
    procedure: str
    procedure_version: str
    started_by: str
    roles: dict[str, int]
    status: str
    reason: str
    state: dict[str, Any]
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    events: list[EventOut]


def _connection_out(link: InstrumentConnection) -> dict:
    return {
        "equipment": link.equipment_id,
        "asset_no": link.equipment.asset_no,
        "connection": link.connection,
        "driver": link.driver,
        "identity": link.identity or {},
        "identified_at": link.identified_at,
    }


def _event_out(event: RunEvent) -> dict:
    return {
        "id": event.pk,
        "at": event.at,
        "kind": event.kind,
        "role": event.role,
        "text": event.text,
        "by": event.by.get_username() if event.by_id else None,
        "address": event.address,
    }


def _run_out(run: Run) -> dict:
    run = Run.objects.select_related("started_by").get(pk=run.pk)
    last = list(run.events.select_related("by").order_by("-pk")[: services.LAST_EVENTS])
    return {
        "id": run.pk,
        "task": run.task_id,
        "record": run.record_id,
        "procedure": run.procedure_code,
        "procedure_version": run.procedure_version,
        "started_by": run.started_by.get_username(),
        "roles": run.roles,
        "status": run.status,
        "reason": run.reason,
        "state": run.state,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "events": [_event_out(e) for e in reversed(last)],
    }


def _equipment(pk: int) -> Equipment:
    return get_object_or_404(Equipment, pk=pk)


def _run(pk: int) -> Run:
    return get_object_or_404(Run, pk=pk)


@router.get(
    "/connections/{equipment_id}",
    response=ConnectionOut,
    auth=api_access(roles=READERS),
    summary="How a piece of equipment is connected",
)
def connection_get(request, equipment_id: int):
    link = get_object_or_404(
        InstrumentConnection.objects.select_related("equipment"), equipment_id=equipment_id
    )
    return _connection_out(link)


@router.put(
    "/connections/{equipment_id}",
    response=ConnectionOut,
    auth=api_access(roles=CONNECTION_EDITORS),
    summary="Set how a piece of equipment is connected",
)
def connection_put(request, equipment_id: int, data: ConnectionIn):
    """Refused (422 `connection_invalid`, every fault listed): an unknown kind or driver, a
    driver that cannot use the kind, a missing resource / port, a bad timeout."""
    link = services.connection_set(
        equipment=_equipment(equipment_id), connection=data.connection, actor=request.auth
    )
    return _connection_out(link)


@router.post(
    "/connections/{equipment_id}/identify",
    response=IdentifyOut,
    auth=api_access(roles=READERS),
    summary="Connect, read *IDN? and compare it with the equipment's register",
)
def connection_identify(request, equipment_id: int, data: EmptyIn | None = None):
    """409 `no_connection` without a connection, 409 `instrument_unreachable` when the
    instrument does not answer."""
    return services.connection_identify(equipment=_equipment(equipment_id), actor=request.auth)


@router.post(
    "/connections/{equipment_id}/self-test",
    response=SelfTestOut,
    auth=api_access(roles=READERS),
    summary="Run the instrument's self-test",
)
def connection_self_test(request, equipment_id: int, data: EmptyIn | None = None):
    failures = services.connection_self_test(equipment=_equipment(equipment_id), actor=request.auth)
    return {"passed": not failures, "failures": failures}


@router.post(
    "/runs/",
    response={201: RunOut},
    auth=api_access(roles=OPERATORS),
    summary="Start a procedure run on a draft record",
)
def run_start(request, data: RunStartIn):
    record = get_object_or_404(Record, pk=data.record)
    if len(data.equipment) > MAX_ROLES or len(data.connections) > MAX_ROLES:
        raise ServiceError(_("Too many roles."), field="equipment")
    pieces = {e.pk: e for e in Equipment.objects.filter(pk__in=data.equipment.values())}
    missing = [pk for pk in data.equipment.values() if pk not in pieces]
    if missing:
        raise ServiceError(_("No such equipment."), field="equipment")
    run = services.run_start(
        record=record,
        procedure=data.procedure,
        equipment_roles={role: pieces[pk] for role, pk in data.equipment.items()},
        connections=data.connections,
        reason=data.reason,
        actor=request.auth,
    )
    return Status(201, _run_out(run))


@router.get(
    "/runs/{run_id}",
    response=RunOut,
    auth=api_access(roles=READERS),
    summary="A run: status, state, the reason it stopped and its last events",
)
def run_detail(request, run_id: int):
    return _run_out(_run(run_id))


@router.get(
    "/runs/{run_id}/events",
    response=list[EventOut],
    auth=api_access(roles=READERS),
    summary="A run's events (transcript and progress), in order",
)
@paginate
def run_events(request, run_id: int):
    return Mapped(_run(run_id).events.select_related("by").order_by("pk"), _event_out)


@router.post(
    "/runs/{run_id}/confirm",
    response=RunOut,
    auth=api_access(roles=OPERATORS),
    summary="Confirm the waiting prompt",
)
def run_confirm(request, run_id: int, data: EmptyIn | None = None):
    return _run_out(services.run_confirm_prompt(run=_run(run_id), actor=request.auth))


@router.post(
    "/runs/{run_id}/pause",
    response=RunOut,
    auth=api_access(roles=OPERATORS),
    summary="Pause the run",
)
def run_pause(request, run_id: int, data: RunPauseIn | None = None):
    reason = data.reason if data else ""
    return _run_out(services.run_pause(run=_run(run_id), actor=request.auth, reason=reason))


@router.post(
    "/runs/{run_id}/resume",
    response=RunOut,
    auth=api_access(roles=OPERATORS),
    summary="Resume a paused run from the step it stopped at",
)
def run_resume(request, run_id: int, data: EmptyIn | None = None):
    return _run_out(services.run_resume(run=_run(run_id), actor=request.auth))


@router.post(
    "/runs/{run_id}/abort",
    response=RunOut,
    auth=api_access(roles=OPERATORS),
    summary="Abort the run (a reason is required)",
)
def run_abort(request, run_id: int, data: RunAbortIn):
    return _run_out(services.run_abort(run=_run(run_id), actor=request.auth, reason=data.reason))


# --- connection checks (the identify / self-test log of a connection) ----------------------


class CheckOut(Schema):
    id: int
    kind: str
    outcome: str
    passed: bool
    at: dt.datetime
    by: str
    identity: dict[str, str]
    problems: list[str]
    transcript: list[list[str]]
    dropped_lines: int


def _check_out(check: ConnectionCheck) -> dict:
    return {
        "id": check.pk,
        "kind": check.kind,
        "outcome": check.outcome,
        "passed": check.passed,
        "at": check.at,
        "by": check.by.get_username(),
        "identity": check.identity or {},
        "problems": check.problems or [],
        "transcript": check.transcript or [],
        "dropped_lines": check.dropped_lines,
    }


@router.get(
    "/connections/{equipment_id}/checks",
    response=list[CheckOut],
    auth=api_access(roles=READERS),
    summary="A connection's identify and self-test checks with their transcripts, newest first",
)
@paginate
def connection_checks(request, equipment_id: int):
    link = get_object_or_404(InstrumentConnection, equipment_id=equipment_id)
    return Mapped(link.checks.select_related("by").order_by("-at", "-pk"), _check_out)
