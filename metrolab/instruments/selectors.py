"""What the run pages read (issue 16; R8b, R8c, R6.9d): the procedures a record may be run
with, the lab's equipment that can play a role, the runs newest first, one run's live view
(the current step, the settle state, the readings and step reports as the executor saved
them, the operator prompt, the instruments in use and where each is) and its events."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import get_language, gettext, gettext_lazy

from metrolab.core.components import register_tones
from metrolab.core.versions import VersionStatus
from metrolab.environment.models import Room
from metrolab.equipment.models import Equipment
from metrolab.instruments.models import InstrumentConnection, ProcedureVersion, Run, RunEvent
from metrolab.instruments.procedure import (
    MeasureStep,
    ProcedureError,
    PromptStep,
    compile_procedure,
)
from metrolab.records.models import Record

register_tones(
    Run.Status,
    {
        Run.Status.QUEUED: "grey",
        Run.Status.RUNNING: "blue",
        Run.Status.PAUSED: "yellow",
        Run.Status.WAITING_PROMPT: "purple",
        Run.Status.ABORTED: "red",
        Run.Status.DONE: "green",
    },
)
register_tones(
    RunEvent.Kind,
    {
        RunEvent.Kind.COMMAND: "grey",
        RunEvent.Kind.ANSWER: "grey",
        RunEvent.Kind.READING: "neutral",
        RunEvent.Kind.STEP: "blue",
        RunEvent.Kind.FAULT: "red",
        RunEvent.Kind.PROMPT: "purple",
        RunEvent.Kind.PAUSE: "yellow",
        RunEvent.Kind.RESUME: "blue",
        RunEvent.Kind.ABORT: "red",
        RunEvent.Kind.DONE: "green",
        RunEvent.Kind.START: "blue",
        RunEvent.Kind.CONFIRM: "purple",
    },
)


class Whereabouts(models.TextChoices):
    """Where a piece of equipment is reported (R8c), against the record's room."""

    HERE = "here", gettext_lazy("in the record's room")
    ELSEWHERE = "elsewhere", gettext_lazy("in another room")
    UNKNOWN = "unknown", gettext_lazy("room not known")


register_tones(
    Whereabouts,
    {Whereabouts.HERE: "green", Whereabouts.ELSEWHERE: "red", Whereabouts.UNKNOWN: "grey"},
)


class StepState(models.TextChoices):
    """Where a step of the plan stands in the run."""

    DONE = "done", gettext_lazy("done")
    CURRENT = "current", gettext_lazy("this step")
    PENDING = "pending", gettext_lazy("to do")


register_tones(
    StepState, {StepState.DONE: "green", StepState.CURRENT: "blue", StepState.PENDING: "grey"}
)

#: How many of the last events the run page shows (the transcript page shows them all).
LAST_EVENTS = 12


def label(value: Any) -> str:
    """A procedure's label ({"zh", "en"}) in the active language."""
    if isinstance(value, Mapping):
        first = "zh" if (get_language() or "zh").startswith("zh") else "en"
        return str(value.get(first) or value.get("en") or value.get("zh") or "")
    return str(value or "")


# --- starting a run ----------------------------------------------------------------------


def procedures_for(record: Record) -> dict[str, dict[str, Any]]:
    """The procedures a run on `record` may use, by code: those filling its template, each
    with the definition of its approved version (the one a run uses)."""
    versions = (
        ProcedureVersion.objects.filter(
            procedure__template=record.template_version.template.code,
            status=VersionStatus.APPROVED,
        )
        .select_related("procedure")
        .order_by("procedure__code", "-number")
    )
    found: dict[str, dict[str, Any]] = {}
    for version in versions:
        found.setdefault(version.procedure.code, version.definition)
    return found


def last_connections(record: Record, procedure: str) -> dict[str, dict[str, Any]]:
    """{role: connection}: the item under test's connection of the last run of `procedure`
    on this record, else on another record of the same item model, to start the form with
    (the operator checks it)."""
    runs = Run.objects.filter(procedure_code=procedure).exclude(connections={})
    found = runs.filter(record=record).values_list("connections", flat=True).first()
    if found is None:
        item = record.task.item
        found = (
            runs.filter(
                record__task__item__manufacturer=item.manufacturer,
                record__task__item__model_range=item.model_range,
            )
            .values_list("connections", flat=True)
            .first()
        )
    return dict(found or {})


def connected_equipment() -> QuerySet[Equipment]:
    """The lab's equipment that has an instrument connection, by asset number."""
    return (
        Equipment.objects.filter(instrument_connection__isnull=False)
        .exclude(status=Equipment.Status.SCRAPPED)
        .order_by("asset_no")
    )


def preselected(record: Record, roles: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """{procedure role: equipment pk}: the record's equipment that fits each role — the piece
    in the record template's role the procedure names, else the only connected piece."""
    used = list(
        record.equipment_used.filter(equipment__instrument_connection__isnull=False).values_list(
            "equipment_id", "role"
        )
    )
    found: dict[str, int] = {}
    for name, spec in roles.items():
        wanted = spec.get("template_role")
        match = [pk for pk, role in used if wanted and role == wanted]
        if match:
            found[name] = match[0]
        elif spec.get("kind") != "meter" and len(used) == 1:
            found[name] = used[0][0]
    return found


# --- runs --------------------------------------------------------------------------------


def run_list(status: str = "") -> QuerySet[Run]:
    rows = Run.objects.select_related("record", "started_by").order_by("-created_at", "-pk")
    if status in Run.Status.values:
        rows = rows.filter(status=status)
    return rows


def run_events(run: Run, kind: str = "") -> QuerySet[RunEvent]:
    rows = run.events.select_related("by").order_by("pk")
    if kind in RunEvent.Kind.values:
        rows = rows.filter(kind=kind)
    return rows


def _plan(run: Run):
    template = run.record.template_version.definition
    try:
        compiled = compile_procedure(run.definition, template=template)
        return compiled, compiled.plan(run.record.cells, template=template)
    except ProcedureError:
        return None, None


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _step_row(step, state: Mapping[str, Any], current: int, final: bool) -> dict[str, Any]:
    key = str(step.index)
    if step.index < current or (final and key in state.get("results", {})):
        where = StepState.DONE
    elif step.index == current and not final:
        where = StepState.CURRENT
    else:
        where = StepState.PENDING
    row: dict[str, Any] = {
        "index": step.index,
        "number": step.index + 1,
        "kind": step.kind,
        "name": step.name,
        "title": label(step.title)
        or (gettext("Operator prompt") if isinstance(step, PromptStep) else step.name),
        "state": where,
        "measure": isinstance(step, MeasureStep),
        "readings": state.get("readings", {}).get(key, []),
        "result": state.get("results", {}).get(key),
    }
    if isinstance(step, MeasureStep):
        limit = step.tolerance_limit()
        row.update(
            function=step.function,
            nominal=step.nominal,
            unit=step.unit,
            point=step.point,
            tolerance=None if limit is None else limit.normalize(),
            settle=step.settle,
            cells=step.cells,
        )
    if isinstance(step, PromptStep):
        row["message"] = label(step.message)
    return row


def _settle(step_row: dict[str, Any] | None, settle: Mapping[str, Any] | None) -> dict | None:
    """The current step's settle state beside its rule (threshold, longest wait)."""
    if not settle or step_row is None or settle.get("step") != step_row["index"]:
        return None
    rule = step_row.get("settle") or {}
    stdev, below = _decimal(settle.get("stdev")), _decimal(rule.get("below"))
    shown = None if stdev is None else format(stdev, "f")
    if stdev:
        # two significant digits, as a plain decimal beside the threshold
        shown = format(stdev.quantize(Decimal(1).scaleb(stdev.adjusted() - 1)), "f")
    return {
        "rule": settle.get("rule"),
        "readings": settle.get("readings", []),
        "last": rule.get("last"),
        "stdev": shown,
        "below": below,
        "settled": stdev is not None and below is not None and stdev < below,
        "elapsed": _decimal(settle.get("elapsed")),
        "max_seconds": rule.get("max_seconds"),
        "seconds": settle.get("seconds"),
    }


def _instruments(run: Run, roles: Mapping[str, Mapping[str, Any]], state) -> list[dict]:
    record = run.record
    pieces = {
        e.pk: e
        for e in Equipment.objects.filter(pk__in=list(run.roles.values())).select_related(
            "instrument_connection"
        )
    }
    locations = {e.location for e in pieces.values() if e.location}
    room_codes = set(Room.objects.filter(code__in=locations).values_list("code", flat=True))
    here = record.room.code if record.room_id else ""
    rows = []
    for name, spec in roles.items():
        identity = (state.get("identities") or {}).get(name) or {}
        row: dict[str, Any] = {
            "role": name,
            "label": label(spec.get("label")) or name,
            "kind": spec.get("kind", ""),
            "identity": identity,
            "equipment": None,
            "connection": run.connections.get(name) or {},
        }
        piece = pieces.get(run.roles.get(name))
        if piece is not None:
            link = getattr(piece, "instrument_connection", None)
            row["equipment"] = piece
            row["connection"] = link.connection if isinstance(link, InstrumentConnection) else {}
            row["identity"] = identity or (link.identity if link else {}) or {}
            if not piece.location or not here:
                row["where"] = None  # nothing to compare: only the location is shown
            elif piece.location == here:
                row["where"] = Whereabouts.HERE
            elif piece.location in room_codes:
                row["where"] = Whereabouts.ELSEWHERE
            else:
                row["where"] = Whereabouts.UNKNOWN
        rows.append(row)
    return rows


def _address(connection: Mapping[str, Any]) -> str:
    if connection.get("resource"):
        return str(connection["resource"])
    if connection.get("host"):
        return f"{connection['host']}:{connection.get('port', 502)}"
    return str(connection.get("port") or "")


def run_live(run: Run) -> dict[str, Any]:
    """Everything the run page's live part shows (read again at every poll)."""
    run = (
        Run.objects.select_related(
            "record__template_version__template", "record__room", "started_by", "task"
        )
        .filter(pk=run.pk)
        .get()
    )
    state = run.state or {}
    final = run.status in Run.FINAL
    compiled, plan = _plan(run)
    current = int(state.get("step") or 0)
    steps = [_step_row(s, state, current, final) for s in plan.steps] if plan else []
    step = steps[current] if 0 <= current < len(steps) and not final else None
    settle = _settle(step, state.get("settle"))
    taking: list[RunEvent] = []
    if step is not None and step["measure"] and run.status == Run.Status.RUNNING:
        last_step = run.events.filter(kind=RunEvent.Kind.STEP).order_by("-pk").first()
        if last_step is not None:
            taking = list(
                run.events.filter(kind=RunEvent.Kind.READING, pk__gt=last_step.pk).order_by("pk")
            )
    instruments = _instruments(run, compiled.roles if compiled else {}, state)
    for row in instruments:
        row["address"] = _address(row["connection"])
    events = list(run.events.select_related("by").order_by("-pk")[:LAST_EVENTS])
    results = [s for s in steps if s["result"]]
    return {
        "run": run,
        "record": run.record,
        "title": label(compiled.title) if compiled else run.procedure_code,
        "final": final,
        "steps": steps,
        "step": step,
        "step_count": len(steps),
        "done_count": sum(1 for s in steps if s["state"] == StepState.DONE),
        "settle": settle,
        "taking": taking,
        "results": results,
        "passed": sum(1 for s in results if s["result"].get("passed") is True),
        "failed": sum(1 for s in results if s["result"].get("passed") is False),
        "prompt": step.get("message") if step and run.status == Run.Status.WAITING_PROMPT else "",
        "fault": state.get("fault") if run.status == Run.Status.PAUSED else None,
        "instruments": instruments,
        "events": list(reversed(events)),
    }
