"""Instrument connections and procedure runs (issue 16; R8a, R8b, R8c, R6.2a, R6.4e, R5.2).

Connections: `connection_set` (the JSON `open_driver` takes, checked), `connection_identify`
(connects, reads *IDN? and compares it with the equipment's model and serial number),
`connection_self_test`.

Runs: `run_start` refuses unless the person who measures the draft record may perform its
task with every piece of equipment today (the eligibility service, asked again before every
step), each piece has a connection and none is reported (RFID zone, `Equipment.location`) in
another room than the record's. It queues the background job (`tasks.run_procedure_task` →
`run_execute`), which opens the drivers, runs the executor, writes each point's readings into
the record (`record_write(source="instrument")`), saves the `RunState` after each step and
leaves the worker when the run stops: at a prompt (`waiting_prompt`), a fault (`paused`, with
the reason), the end or an abort. `run_confirm_prompt` and `run_resume` queue it again (a
resumed run continues from the step it stopped at); `run_pause` and `run_abort` stop it (the
worker sees the request before its next command).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import time
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from metrolab.core.context import current_request
from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import require_person
from metrolab.core.service import ServiceError, service
from metrolab.environment.models import Room
from metrolab.equipment.models import Equipment
from metrolab.instruments.connections import TRANSPORTS, driver_classes, open_driver
from metrolab.instruments.drivers.base import Identity, InstrumentError
from metrolab.instruments.errors import InstrumentRefusal
from metrolab.instruments.executor import Executor, RunState
from metrolab.instruments.models import (
    CHECK_LINE_TEXT,
    EVENT_TEXT,
    MAX_CHECK_LINES,
    MAX_TRANSCRIPT_LINES,
    ConnectionCheck,
    InstrumentConnection,
    Run,
    RunEvent,
)
from metrolab.instruments.procedure import ProcedureError, compile_procedure
from metrolab.instruments.procedure_services import approved_definition
from metrolab.qualifications.eligibility import PERFORM, eligibility_problems, task_setup
from metrolab.records.models import Record

logger = logging.getLogger(__name__)

#: The keys a connection of each kind must have (besides "kind" and "driver").
REQUIRED_KEYS = {"visa": ("resource",), "serial": ("port",), "modbus": ()}
#: How the worker waits between readings (tests replace it).
SLEEP = time.sleep
#: The run events the detail shows.
LAST_EVENTS = 20


# --- connections -------------------------------------------------------------------------


def checked_connection(connection: Any) -> dict[str, Any]:
    """The connection JSON if `open_driver` can take it; else a ServiceError naming every
    fault (`connection.<key>`)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(connection, Mapping):
        raise ServiceError(
            _("Send the connection as an object."),
            code=InstrumentRefusal.CONNECTION_INVALID,
            field="connection",
        )
    kind = connection.get("kind")
    driver = connection.get("driver")
    classes = driver_classes()
    if kind not in TRANSPORTS:
        errors["connection.kind"] = [
            _("Unknown connection kind; one of %(kinds)s.") % {"kinds": ", ".join(TRANSPORTS)}
        ]
    if driver not in classes:
        errors["connection.driver"] = [
            _("Unknown driver; one of %(drivers)s.") % {"drivers": ", ".join(classes)}
        ]
    elif kind in TRANSPORTS and kind not in classes[driver].transports:
        errors["connection.driver"] = [
            _("This driver cannot use a %(kind)s connection.") % {"kind": kind}
        ]
    for key in REQUIRED_KEYS.get(kind, ()):
        if not isinstance(connection.get(key), str) or not connection.get(key):
            errors[f"connection.{key}"] = [_("Required.")]
    if kind == "modbus":
        # Modbus TCP needs the host (its port defaults to 502); Modbus RTU the serial port.
        rtu = connection.get("method") == "rtu"
        key = "port" if rtu else "host"
        if not isinstance(connection.get(key), str) or not connection.get(key):
            errors[f"connection.{key}"] = [
                _("Give the host (Modbus TCP) or the port (Modbus RTU).")
            ]
    timeout = connection.get("timeout_ms", 2000)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= 60000:
        errors["connection.timeout_ms"] = [_("A whole number of milliseconds, 1 to 60000.")]
    if errors:
        raise ServiceError(
            next(iter(errors.values()))[0],
            code=InstrumentRefusal.CONNECTION_INVALID,
            field=next(iter(errors)),
            errors=errors,
        )
    return dict(connection)


@service("instrument.connection_set")
def connection_set(
    *, equipment: Equipment, connection: Mapping[str, Any], actor: Any
) -> InstrumentConnection:
    """Set how a piece of equipment is connected (R8a); the identity read before is kept
    until it is identified again."""
    require_person(actor)
    clean = checked_connection(connection)
    found, _created = InstrumentConnection.objects.get_or_create(
        equipment=equipment, defaults={"connection": clean, "driver": clean["driver"]}
    )
    if found.connection != clean:
        found.connection = clean
        found.driver = clean["driver"]
        found.save(update_fields=["connection", "driver", "updated_at"])
    return found


def _connection_of(equipment: Equipment) -> InstrumentConnection:
    found = InstrumentConnection.objects.filter(equipment=equipment).first()
    if found is None:
        raise ServiceError(
            _("Equipment %(equipment)s has no instrument connection.") % {"equipment": equipment},
            code=InstrumentRefusal.NO_CONNECTION,
        )
    return found


def _unreachable(equipment: Equipment, error: Exception) -> ServiceError:
    return ServiceError(
        _("Equipment %(equipment)s did not answer: %(error)s")
        % {"equipment": equipment, "error": error},
        code=InstrumentRefusal.UNREACHABLE,
    )


def identity_mismatches(equipment: Equipment, identity: Mapping[str, str]) -> list[str]:
    """What the instrument's identity says against the equipment's register: its model and
    serial number (when the register has them)."""
    found = []
    checks = (
        ("model", equipment.model, identity.get("model", ""), _("model")),
        ("serial", equipment.serial_no, identity.get("serial", ""), _("serial no.")),
    )
    for _key, registered, reported, label in checks:
        if registered and registered.strip().casefold() != (reported or "").strip().casefold():
            found.append(
                _("The %(what)s is %(reported)s; the register says %(registered)s.")
                % {"what": label, "reported": reported or "—", "registered": registered}
            )
    return found


class _CheckTranscript:
    """The transcript of one connection check: each command sent and answer received, at most
    MAX_CHECK_LINES (the rest counted), each line cut to CHECK_LINE_TEXT."""

    def __init__(self) -> None:
        self.lines: list[list[str]] = []
        self.dropped = 0

    def __call__(self, direction: str, text: str) -> None:
        if len(self.lines) >= MAX_CHECK_LINES:
            self.dropped += 1
            return
        self.lines.append([direction, str(text)[:CHECK_LINE_TEXT]])


def _store_check(link, kind, actor, outcome, transcript, *, identity=None, problems=()):
    return ConnectionCheck.objects.create(
        connection=link,
        kind=kind,
        at=timezone.now(),
        by=actor,
        outcome=outcome,
        identity=identity or {},
        problems=[str(p)[:CHECK_LINE_TEXT] for p in problems],
        transcript=transcript.lines,
        dropped_lines=transcript.dropped,
    )


@service("instrument.identify")
def _identify_checked(*, equipment: Equipment, actor: Any) -> tuple[dict | None, Any]:
    user = require_person(actor)
    link = _connection_of(equipment)
    transcript = _CheckTranscript()
    try:
        driver = open_driver(link.connection, transcript=transcript)
    except (InstrumentError, ValueError, OSError) as error:
        _store_check(
            link,
            ConnectionCheck.Kind.IDENTIFY,
            user,
            ConnectionCheck.Outcome.UNREACHABLE,
            transcript,
            problems=[error],
        )
        return None, _unreachable(equipment, error)
    try:
        identity = driver.connected_identity
    finally:
        with contextlib.suppress(Exception):
            driver.close()
    values = {
        "manufacturer": identity.manufacturer,
        "model": identity.model,
        "serial": identity.serial,
        "firmware": identity.firmware,
    }
    link.identity = values
    link.identified_at = timezone.now()
    link.save(update_fields=["identity", "identified_at", "updated_at"])
    mismatches = identity_mismatches(equipment, values)
    outcome = ConnectionCheck.Outcome.MISMATCH if mismatches else ConnectionCheck.Outcome.PASSED
    check = _store_check(
        link,
        ConnectionCheck.Kind.IDENTIFY,
        user,
        outcome,
        transcript,
        identity=values,
        problems=mismatches,
    )
    return {"identity": values, "matches": not mismatches, "mismatches": mismatches}, check


def connection_identify(*, equipment: Equipment, actor: Any) -> dict[str, Any]:
    """Connect, read the instrument's identity and compare it with the equipment's model and
    serial number (R8a). Returns {"identity", "matches", "mismatches"}; the identity and the
    time are kept with the connection. Every check is kept (`ConnectionCheck`, with its
    transcript), an unreachable instrument's too: the refusal is raised once it is stored."""
    result, outcome = _identify_checked(equipment=equipment, actor=actor)
    if result is None:
        raise outcome
    return result


@service("instrument.self_test")
def _self_test_checked(*, equipment: Equipment, actor: Any) -> tuple[list[str] | None, Any]:
    user = require_person(actor)
    link = _connection_of(equipment)
    transcript = _CheckTranscript()
    try:
        driver = open_driver(link.connection, transcript=transcript)
        try:
            failures = list(driver.self_test())
        finally:
            with contextlib.suppress(Exception):
                driver.close()
    except (InstrumentError, ValueError, OSError) as error:
        _store_check(
            link,
            ConnectionCheck.Kind.SELF_TEST,
            user,
            ConnectionCheck.Outcome.UNREACHABLE,
            transcript,
            problems=[error],
        )
        return None, _unreachable(equipment, error)
    outcome = ConnectionCheck.Outcome.FAILED if failures else ConnectionCheck.Outcome.PASSED
    check = _store_check(
        link, ConnectionCheck.Kind.SELF_TEST, user, outcome, transcript, problems=failures
    )
    return failures, check


def connection_self_test(*, equipment: Equipment, actor: Any) -> list[str]:
    """Run the instrument's self-test; the failures ([] when it passes). Every check is kept
    (`ConnectionCheck`, with its transcript), an unreachable instrument's too: the refusal is
    raised once it is stored."""
    failures, outcome = _self_test_checked(equipment=equipment, actor=actor)
    if failures is None:
        raise outcome
    return failures


def instrument_label(identity: Identity | None, role: str, run_id: int) -> str:
    """How a reading's instrument is named on the record's change trail (R8b): its identity
    (manufacturer, model, serial number), its role and the run."""
    who = (
        " ".join(part for part in (identity.manufacturer, identity.model) if part)
        if identity
        else ""
    )
    serial = f" S/N {identity.serial}" if identity and identity.serial else ""
    return f"{who or '?'}{serial} · {role} · #{run_id}"


# --- runs: checks ------------------------------------------------------------------------


def run_problems(run_or_task, person, equipment: list[Equipment]) -> list[str]:
    """Why `person` may not perform the task with `equipment` today (the eligibility service:
    qualification, and each piece's status, calibration and intermediate check)."""
    task = run_or_task
    setup = task_setup(task)
    pieces = {e.pk: e for e in setup["equipment"]}
    for piece in equipment:
        pieces[piece.pk] = piece
    setup["equipment"] = list(pieces.values())
    return [p.message for p in eligibility_problems(person, capacity=PERFORM, **setup)]


def _elsewhere(record: Record, equipment: list[Equipment]) -> list[str]:
    """The pieces whose reported location (an RFID zone: a room's code) is another room than
    the record's (R8c)."""
    if record.room_id is None:
        return []
    reported = {e.location for e in equipment if e.location and e.location != record.room.code}
    rooms = set(Room.objects.filter(code__in=reported).values_list("code", flat=True))
    return [
        _("Equipment %(equipment)s is reported in %(where)s, not in %(room)s.")
        % {"equipment": e, "where": e.location, "room": record.room.code}
        for e in equipment
        if e.location in rooms
    ]


def _procedure(code: Any) -> tuple[dict[str, Any], str]:
    """The definition of the approved version of the procedure `code` (a copy: the run keeps
    it as its snapshot) and that version's number; refused (422) when there is no approved
    version."""
    version = approved_definition(code)
    return copy.deepcopy(version.definition), str(version.number)


def _plan(run_definition: Mapping[str, Any], record: Record):
    template = record.template_version.definition
    compiled = compile_procedure(run_definition, template=template)
    return compiled, compiled.plan(record.cells, template=template)


def _procedure_refusal(error: ProcedureError) -> ServiceError:
    errors = {f"procedure.{k}": list(v) for k, v in (error.errors or {}).items()}
    return ServiceError(
        _("The procedure does not fit this record: %(error)s") % {"error": error},
        code=InstrumentRefusal.PROCEDURE_INVALID,
        field="procedure",
        errors=errors or None,
    )


# --- runs: services ----------------------------------------------------------------------


def _enqueue(run_id: int) -> None:
    from metrolab.instruments.tasks import run_procedure_task

    run_procedure_task.enqueue(run_id=run_id)


def _queue(run: Run) -> None:
    transaction.on_commit(partial(_enqueue, run.pk))


@service("instrument.run_start")
def run_start(
    *,
    record: Record,
    procedure: Any,
    equipment_roles: Mapping[str, Equipment],
    actor: Any,
    task: Any = None,
    connections: Mapping[str, Mapping[str, Any]] | None = None,
    reason: str = "",
) -> Run:
    """Start a procedure run filling a draft record (R8b). `procedure` is a procedure's
    code: the run uses its approved version (refused without one) and keeps its definition
    as a snapshot with the version's number. `equipment_roles` {role:
    Equipment} gives the lab's equipment; a `meter` role without equipment (the item under
    test) takes its connection JSON from `connections` {role: connection}. Refused unless the
    actor measures the record and may perform its task with every piece today, each piece
    has a connection, none is reported in another room than the record's (R8c), and the
    procedure fits the record's template and cells. A record that came back from its check
    is measured again only with a `reason` (R6.2c), kept with every value the run writes."""
    user = require_person(actor)
    record = Record.objects.select_related("task", "room", "template_version").get(pk=record.pk)
    task = task or record.task
    if record.task_id != task.pk:
        raise ServiceError(_("The record is not this task's."), field="record")
    if record.status != Record.Status.DRAFT:
        raise ServiceError(
            _("Only a draft record is filled by a procedure."),
            code=CoreRefusal.INVALID_TRANSITION,
        )
    if user.pk != record.measured_by_id:
        raise ServiceError(
            _("Only the person who measures this record runs its procedure."),
            code=CoreRefusal.FORBIDDEN,
        )
    reason = (reason or "").strip()
    if record.submitted_at is not None and not reason:
        raise ServiceError(
            _("The record came back from its check: say why its values are measured again."),
            code=InstrumentRefusal.REASON_REQUIRED,
            field="reason",
        )
    definition, version_number = _procedure(procedure)
    try:
        compiled, _planned = _plan(definition, record)
    except ProcedureError as error:
        raise _procedure_refusal(error) from error
    connections = dict(connections or {})
    errors: dict[str, list[str]] = {}
    roles: dict[str, int] = {}
    for role, piece in equipment_roles.items():
        if role not in compiled.roles:
            errors.setdefault("equipment", []).append(
                _("The procedure has no role %(role)s.") % {"role": role}
            )
        else:
            roles[role] = piece.pk
    for role, spec in compiled.roles.items():
        if role in roles:
            continue
        if role not in connections:
            errors.setdefault("equipment", []).append(
                _("Give the equipment for the role %(role)s.") % {"role": role}
            )
        elif spec.get("kind") != "meter":
            errors.setdefault("connections", []).append(
                _("The role %(role)s needs a piece of the lab's equipment.") % {"role": role}
            )
        else:
            try:
                connections[role] = checked_connection(connections[role])
            except ServiceError as error:
                errors.setdefault("connections", []).append(f"{role}: {error.message}")
    unknown = set(connections) - set(compiled.roles)
    for role in sorted(unknown | (set(connections) & set(roles))):
        errors.setdefault("connections", []).append(
            _("The role %(role)s takes no connection here.") % {"role": role}
        )
    if errors:
        raise ServiceError(next(iter(errors.values()))[0], field=next(iter(errors)), errors=errors)
    pieces = list(equipment_roles.values())
    missing = [
        str(e) for e in pieces if not InstrumentConnection.objects.filter(equipment=e).exists()
    ]
    if missing:
        raise ServiceError(
            _("No instrument connection for: %(equipment)s.") % {"equipment": ", ".join(missing)},
            code=InstrumentRefusal.NO_CONNECTION,
            field="equipment",
        )
    problems = run_problems(task, user, pieces)
    if problems:
        raise ServiceError(
            " ".join(problems), code=InstrumentRefusal.NOT_ELIGIBLE, errors={"": problems}
        )
    elsewhere = _elsewhere(record, pieces)
    if elsewhere:
        raise ServiceError(
            " ".join(elsewhere), code=InstrumentRefusal.WRONG_ROOM, errors={"": elsewhere}
        )
    run = Run.objects.create(
        task=task,
        record=record,
        procedure_code=compiled.code,
        procedure_version=version_number,
        definition=definition,
        started_by=user,
        roles=roles,
        connections={r: c for r, c in connections.items() if r not in roles},
        state=RunState().to_json(),
        change_reason=reason,
    )
    _event(run, RunEvent.Kind.START, reason, actor=user)
    _queue(run)
    return run


def _run_for(run: Run, actor: Any) -> Run:
    user = require_person(actor)
    run = Run.objects.select_for_update().get(pk=run.pk)
    if user.pk not in (run.started_by_id, run.record.measured_by_id):
        raise ServiceError(
            _("Only the person who started the run controls it."), code=CoreRefusal.FORBIDDEN
        )
    return run


def _status_refusal(run: Run) -> ServiceError:
    return ServiceError(
        _("A %(status)s run cannot do that.") % {"status": run.get_status_display()},
        code=InstrumentRefusal.RUN_STATUS,
    )


def _event(run: Run, kind: str, text: str = "", role: str = "", *, actor: Any = None) -> None:
    """One event of the run; for a person's action (`actor`), who and from which client
    address (R6.9d: a run is driven from the web page, wherever the person is)."""
    info = current_request() if actor is not None else None
    RunEvent.objects.create(
        run=run,
        at=timezone.now(),
        kind=kind,
        role=role or "",
        text=text[:EVENT_TEXT],
        by=actor if getattr(actor, "pk", None) else None,
        address=(info.client_ip or None) if info else None,
    )


@service("instrument.run_confirm")
def run_confirm_prompt(*, run: Run, actor: Any) -> Run:
    """The operator did what the prompt asks; the run is queued again and goes on after it."""
    run = _run_for(run, actor)
    if run.status != Run.Status.WAITING_PROMPT:
        raise _status_refusal(run)
    state = RunState.from_json(run.state)
    state.prompt_confirmed = True
    state.status = "running"
    run.state = state.to_json()
    run.status = Run.Status.QUEUED
    run.reason = ""
    run.save(update_fields=["state", "status", "reason", "updated_at"])
    _event(run, RunEvent.Kind.CONFIRM, actor=actor)
    _queue(run)
    return run


@service("instrument.run_pause")
def run_pause(*, run: Run, actor: Any, reason: str = "") -> Run:
    """Pause the run: at once when no worker runs it, else before the worker's next command
    (the point being measured is discarded and re-taken on resume). Either way its sources
    are put to standby."""
    run = _run_for(run, actor)
    if run.status == Run.Status.RUNNING:
        run.requested = "pause"
        run.reason = (reason or "").strip()
        run.save(update_fields=["requested", "reason", "updated_at"])
        _event(run, RunEvent.Kind.PAUSE, run.reason, actor=actor)
        return run
    if run.status not in (Run.Status.QUEUED, Run.Status.WAITING_PROMPT):
        raise _status_refusal(run)
    state = RunState.from_json(run.state)
    state.status = "paused"
    state.prompt_confirmed = False
    run.state = state.to_json()
    run.status = Run.Status.PAUSED
    run.reason = (reason or "").strip() or _("paused by the operator")
    run.save(update_fields=["state", "status", "reason", "updated_at"])
    _event(run, RunEvent.Kind.PAUSE, run.reason, actor=actor)
    # A paused run leaves no output on: its sources to standby (the point is set again on
    # resume).
    _standby_sources(run)
    return run


@service("instrument.run_resume")
def run_resume(*, run: Run, actor: Any) -> Run:
    """Queue a paused run again; it continues from the step it stopped at. The equipment's
    eligibility is asked again before every step."""
    run = _run_for(run, actor)
    if run.status != Run.Status.PAUSED:
        raise _status_refusal(run)
    run.status = Run.Status.QUEUED
    run.requested = ""
    run.reason = ""
    run.save(update_fields=["status", "requested", "reason", "updated_at"])
    _event(run, RunEvent.Kind.RESUME, actor=actor)
    _queue(run)
    return run


@service("instrument.run_abort")
def run_abort(*, run: Run, actor: Any, reason: str) -> Run:
    """End the run for good with a reason; the readings already written stay in the record.
    The worker stops a running run itself (its sources to standby); a run no worker runs has
    its sources put to standby here, best effort, each command logged with the run."""
    run = _run_for(run, actor)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(
            _("Give the reason."), code=InstrumentRefusal.REASON_REQUIRED, field="reason"
        )
    if run.status in Run.FINAL:
        raise _status_refusal(run)
    if run.status == Run.Status.RUNNING:
        run.requested = "abort"
        run.reason = reason
        run.save(update_fields=["requested", "reason", "updated_at"])
        _event(run, RunEvent.Kind.ABORT, reason, actor=actor)
        return run
    state = RunState.from_json(run.state)
    state.status = "aborted"
    state.abort_reason = reason
    run.state = state.to_json()
    run.status = Run.Status.ABORTED
    run.reason = reason
    run.ended_at = timezone.now()
    run.save(update_fields=["state", "status", "reason", "ended_at", "updated_at"])
    _event(run, RunEvent.Kind.ABORT, reason, actor=actor)
    _standby_sources(run)
    return run


def _standby_sources(run: Run) -> None:
    """Best effort, for a run aborted while no worker runs it (queued, paused, waiting for
    the operator): each source role's instrument (the calibrator) to standby. Every command
    and answer is a run event; an instrument that cannot be reached is a fault event; the
    abort stands either way."""
    try:  # the procedure's roles alone (not planned on the record: it may have changed)
        roles = compile_procedure(run.definition).roles
    except ProcedureError:
        roles = {}
    sources = [name for name, role in roles.items() if role.get("kind") == "source"]
    recorder = _Recorder(run)
    links = {
        link.equipment_id: link.connection
        for link in InstrumentConnection.objects.filter(equipment_id__in=run.roles.values())
    }
    for role in sources:
        connection = links.get(run.roles[role]) if role in run.roles else None
        connection = connection or run.connections.get(role)
        if not connection:
            continue
        try:
            driver = open_driver(connection, transcript=recorder.transcript(role))
            try:
                driver.standby()
            finally:
                with contextlib.suppress(Exception):
                    driver.close()
        except (InstrumentError, ValueError, OSError) as error:
            recorder.add(
                RunEvent.Kind.FAULT,
                _("The instrument for %(role)s could not be put to standby: %(error)s")
                % {"role": role, "error": error},
                role,
            )
    recorder.flush()
    if recorder.dropped:
        run.dropped_lines += recorder.dropped
        run.save(update_fields=["dropped_lines", "updated_at"])


# --- the worker --------------------------------------------------------------------------


class _Recorder:
    """Collects a run's transcript and progress and writes them as RunEvents in batches."""

    def __init__(self, run: Run):
        self.run = run
        self.pending: list[RunEvent] = []
        self.kept = RunEvent.objects.filter(
            run=run, kind__in=(RunEvent.Kind.COMMAND, RunEvent.Kind.ANSWER)
        ).count()
        self.dropped = 0

    def add(self, kind: str, text: str, role: str = "") -> None:
        self.pending.append(
            RunEvent(
                run=self.run, at=timezone.now(), kind=kind, role=role, text=str(text)[:EVENT_TEXT]
            )
        )

    def transcript(self, role: str):
        def _line(direction: str, text: str) -> None:
            if self.kept >= MAX_TRANSCRIPT_LINES:
                self.dropped += 1
                return
            self.kept += 1
            kind = RunEvent.Kind.COMMAND if direction == ">" else RunEvent.Kind.ANSWER
            self.add(kind, text, role)

        return _line

    def flush(self) -> None:
        if self.pending:
            RunEvent.objects.bulk_create(self.pending)
            self.pending = []


_STATUS = {
    "done": Run.Status.DONE,
    "paused": Run.Status.PAUSED,
    "waiting_prompt": Run.Status.WAITING_PROMPT,
    "aborted": Run.Status.ABORTED,
}


def _label(value: Any) -> str:
    """A procedure's label ({"zh", "en"}) in the active language."""
    if isinstance(value, Mapping):
        first = "zh" if (get_language() or "zh").startswith("zh") else "en"
        return str(value.get(first) or value.get("en") or value.get("zh") or "")
    return str(value or "")


def run_execute(*, run_id: int) -> str:
    """The background job of a run: runs it until it is done, paused, waiting for a prompt
    or aborted, and returns that status. A run not queued is left alone."""
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != Run.Status.QUEUED:
            return run.status if run else "missing"
        run.status = Run.Status.RUNNING
        run.started_at = run.started_at or timezone.now()
        run.save(update_fields=["status", "started_at", "updated_at"])
    run = Run.objects.select_related("record__template_version", "task", "started_by").get(
        pk=run_id
    )
    recorder = _Recorder(run)
    state = RunState.from_json(run.state) if run.state else RunState()
    drivers: dict[str, Any] = {}
    try:
        executor = _open(run, state, drivers, recorder)
        if executor is not None:
            _drive(run, executor, recorder)
    except Exception as error:
        # A defect must not leave the run "running" for ever: it pauses with the reason.
        logger.exception("procedure run %s failed", run_id)
        state.status = "paused"
        recorder.add(RunEvent.Kind.FAULT, f"{type(error).__name__}: {error}")
        _stop(run, state, Run.Status.PAUSED, f"{type(error).__name__}: {error}", recorder)
    finally:
        for driver in drivers.values():
            with contextlib.suppress(Exception):
                driver.close()
        recorder.flush()
    return run.status


def _stop(run: Run, state: RunState, status: str, reason: str, recorder: _Recorder) -> None:
    run.state = state.to_json()
    run.status = status
    run.reason = reason[:4000]
    run.requested = ""
    run.dropped_lines += recorder.dropped
    recorder.dropped = 0
    fields = ["state", "status", "reason", "requested", "dropped_lines", "updated_at"]
    if status in Run.FINAL:
        run.ended_at = timezone.now()
        fields.append("ended_at")
    run.save(update_fields=fields)


def _open(run: Run, state: RunState, drivers: dict, recorder: _Recorder):
    try:
        _compiled, plan = _plan(run.definition, run.record)
    except ProcedureError as error:
        state.status = "paused"
        recorder.add(RunEvent.Kind.FAULT, str(error))
        _stop(run, state, Run.Status.PAUSED, str(error), recorder)
        return None
    pieces = {
        e.pk: e
        for e in Equipment.objects.filter(pk__in=run.roles.values()).select_related(
            "instrument_connection"
        )
    }
    for role, pk in run.roles.items():
        link = getattr(pieces.get(pk), "instrument_connection", None)
        connection = link.connection if link else None
        if connection is None:
            continue  # the executor names the missing role (fault missing_driver)
        try:
            drivers[role] = open_driver(connection, transcript=recorder.transcript(role))
        except (InstrumentError, ValueError, OSError) as error:
            return _open_failed(run, state, role, error, recorder)
    for role, connection in run.connections.items():
        try:
            drivers[role] = open_driver(connection, transcript=recorder.transcript(role))
        except (InstrumentError, ValueError, OSError) as error:
            return _open_failed(run, state, role, error, recorder)
    equipment = list(pieces.values())

    def check_before_step(step, _state) -> str | None:
        fresh = list(Equipment.objects.filter(pk__in=[e.pk for e in equipment]))
        problems = run_problems(run.task, run.started_by, fresh)
        return " ".join(problems) or None

    def on_readings(taken, role, identity) -> None:
        # A point's readings in one write: the record takes all of them or none (a refusal,
        # e.g. the conditions stopped holding, leaves no half-written point).
        from metrolab.records.services import record_write

        record_write(
            record=run.record,
            values={cell: format(reading.value, "f") for cell, reading in taken},
            actor=run.started_by,
            reason=run.change_reason,
            source="instrument",
            taken_at={cell: reading.at for cell, reading in taken},
            instrument=instrument_label(identity, role, run.pk),
        )

    def on_event(kind: str, data: Mapping[str, Any]) -> None:
        _progress(run, executor, recorder, kind, data)

    executor = Executor(
        plan,
        drivers,
        state=state,
        on_readings=on_readings,
        check_before_step=check_before_step,
        on_event=on_event,
        sleep=lambda seconds: SLEEP(seconds),
    )
    return executor


def _open_failed(run, state, role, error, recorder) -> None:
    message = _("The instrument for %(role)s could not be reached: %(error)s") % {
        "role": role,
        "error": error,
    }
    state.status = "paused"
    state.fault = {
        "step": state.step,
        "name": None,
        "kind": "connection_lost",
        "message": str(error),
        "role": role,
        "at": timezone.now().isoformat(),
    }
    recorder.add(RunEvent.Kind.FAULT, message, role)
    _stop(run, state, Run.Status.PAUSED, message, recorder)


#: The settle state is saved at most this often (seconds) while a step settles and reads.
PROGRESS_SECONDS = 1.0


def _progress(run: Run, executor: Executor, recorder: _Recorder, kind: str, data) -> None:
    """The executor's progress: events, the state saved after each step, and a pause or an
    abort asked for meanwhile handed to the executor."""
    if kind == "step":
        recorder.add(RunEvent.Kind.STEP, f"{data.get('step')}: {data.get('name')}")
    elif kind == "reading":
        recorder.add(RunEvent.Kind.READING, f"{data.get('cell')} = {data.get('value')}")
    elif kind == "prompt":
        recorder.add(RunEvent.Kind.PROMPT, _label(data.get("message")))
    if kind in ("step", "result", "settle", "reading"):
        requested = Run.objects.filter(pk=run.pk).values_list("requested", "reason").first()
        if requested and requested[0] == "pause":
            executor.pause()
        elif requested and requested[0] == "abort":
            executor.abort(requested[1] or _("aborted by the operator"))
    # After each step and result; while settling and reading at most once a PROGRESS_SECONDS,
    # so that the run's page shows the settling live.
    now = time.monotonic()
    due = now - getattr(recorder, "saved_at", float("-inf")) >= PROGRESS_SECONDS
    if kind in ("step", "result") or (kind in ("settle", "reading") and due):
        recorder.flush()
        run.state = executor.state.to_json()
        run.save(update_fields=["state", "updated_at"])
        recorder.saved_at = now


def _drive(run: Run, executor: Executor, recorder: _Recorder) -> None:
    from metrolab.core.service import ServiceError as Refused

    state = executor.state
    try:
        if state.status == "paused":
            executor.resume()
        else:
            executor.run()
    except Refused as error:
        # The record refused the readings (e.g. the conditions do not hold): the point is
        # re-taken when the run resumes.
        executor._discard_current()
        executor._safe_standby()
        state.status = "paused"
        state.fault = {
            "step": state.step,
            "name": None,
            "kind": "record",
            "message": error.message,
            "role": None,
            "at": timezone.now().isoformat(),
        }
    status = _STATUS.get(state.status, Run.Status.PAUSED)
    reason = ""
    if status == Run.Status.PAUSED:
        fault = state.fault or {}
        asked = Run.objects.filter(pk=run.pk).values_list("reason", flat=True).first()
        reason = fault.get("message") or asked or _("paused by the operator")
        kind = RunEvent.Kind.FAULT if state.fault else RunEvent.Kind.PAUSE
        recorder.add(kind, f"{fault.get('kind', '')}: {reason}" if state.fault else reason)
    elif status == Run.Status.ABORTED:
        reason = state.abort_reason or ""
        recorder.add(RunEvent.Kind.ABORT, reason)
    elif status == Run.Status.DONE:
        recorder.add(RunEvent.Kind.DONE, "")
    elif status == Run.Status.WAITING_PROMPT:
        step = executor.plan.steps[state.step]
        reason = _label(getattr(step, "message", ""))
    recorder.flush()
    _stop(run, state, status, reason, recorder)
