"""Reads of original records: lists, one record with everything its page and API show (each
signature valid or not), the change history field by field, the replay of a record's state
at any moment (R6.2c), and the records made with a piece of equipment (reverse
traceability, R4.5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.records import calculation
from metrolab.records.labels import role_label
from metrolab.records.models import Record, RecordChange
from metrolab.records.services.records import ROLE_CELL, conditions_note, measurement_blocked
from metrolab.records.services.signatures import content_digest, signature_valid


def records() -> QuerySet[Record]:
    return Record.objects.select_related(
        "task__item__commission__customer",
        "template_version__template",
        "measured_by",
        "checked_by",
        "approved_by",
        "method",
        "room",
        "amends",
    )


def record_list(filters=None) -> QuerySet[Record]:
    rows = records().order_by("-started_at", "-pk")
    return filters.filter(rows) if filters is not None else rows


def record_get(pk: int) -> Record:
    try:
        return records().get(pk=pk)
    except Record.DoesNotExist:
        raise Http404 from None


def record_url(record: Record) -> str:
    try:
        return reverse("records:detail", args=[record.pk])
    except NoReverseMatch:
        return ""


def signatures_of(record: Record) -> list[dict[str, Any]]:
    """Each signature with `valid`: whether the record's content is still what was signed."""
    uses = list(record.equipment_used.select_related("equipment"))
    digest = content_digest(record, uses)
    return [
        {
            "id": s.pk,
            "meaning": s.meaning,
            "meaning_label": str(s.get_meaning_display()),
            "signer": s.signer.username,
            "printed_name": s.printed_name,
            "signed_at": s.signed_at,
            "authenticated_by": s.authenticated_by,
            "content_digest": s.content_digest,
            "valid": signature_valid(s, digest),
        }
        for s in record.signatures.select_related("signer").order_by("signed_at", "pk")
    ]


def equipment_of(record: Record) -> list[dict[str, Any]]:
    return [
        {
            "id": use.equipment_id,
            "asset_no": use.equipment.asset_no,
            "name": use.equipment.name,
            "role": use.role,
            "role_label": role_label(use.role),
            "certificate_no": (use.snapshot or {}).get("certificate_no"),
            "due_date": (use.snapshot or {}).get("due_date"),
            "snapshot": use.snapshot,
        }
        for use in record.equipment_used.select_related("equipment").order_by("equipment__asset_no")
    ]


def transitions_of(record: Record) -> list[dict[str, Any]]:
    return [
        {
            "source": t.source,
            "target": t.target,
            "target_label": str(t.get_target_display()),
            "by": t.by.username,
            "by_name": str(t.by),
            "at": t.at,
            "reason": t.reason,
        }
        for t in record.transitions.select_related("by").order_by("at", "pk")
    ]


def changes_of(record: Record) -> list[RecordChange]:
    return list(record.changes.select_related("by").order_by("at", "pk"))


def record_history(record: Record) -> list[dict[str, Any]]:
    """The changes field by field, in the order each field was first changed: {"cell",
    "label", "changes": [{"old", "new", "by", "by_name", "at", "reason", "status",
    "source", "instrument"}]}."""
    labels = {}
    try:
        cells = calculation.input_cells(record)
        labels = {cell_id: cell.label for cell_id, cell in cells.items()}
    except Exception:
        labels = {}
    grouped: dict[str, dict[str, Any]] = {}
    for change in changes_of(record):
        entry = grouped.setdefault(
            change.cell,
            {"cell": change.cell, "label": dict(labels.get(change.cell) or {}), "changes": []},
        )
        entry["changes"].append(
            {
                "old": change.old,
                "new": change.new,
                "by": change.by.username,
                "by_name": str(change.by),
                "at": change.at,
                "reason": change.reason,
                "status": change.status,
                "source": change.source,
                "instrument": change.instrument,
            }
        )
    return list(grouped.values())


def record_state_at(record: Record, when: dt.datetime) -> dict[str, Any]:
    """The record as it was at `when` (R6.2c "process replay"): its status, its cells (the
    current cells with every later change undone, newest first), its equipment's roles
    ({asset no.: role}, later role changes undone the same way) and their evaluation."""
    cells = dict(record.cells)
    uses = list(record.equipment_used.select_related("equipment").order_by("equipment__asset_no"))
    roles = {use.equipment.asset_no: use.role for use in uses}
    for change in sorted(
        record.changes.filter(at__gt=when), key=lambda c: (c.at, c.pk), reverse=True
    ):
        role = ROLE_CELL.match(change.cell)
        if role and role["asset_no"] in roles:  # an equipment's role, not a cell
            roles[role["asset_no"]] = change.old
        elif change.old:
            cells[change.cell] = change.old
        else:
            cells.pop(change.cell, None)
    transitions = list(record.transitions.filter(at__lte=when).order_by("at", "pk"))
    existed = record.started_at <= when
    status = transitions[-1].target if transitions else (Record.Status.DRAFT if existed else "")
    replayed = [
        SimpleNamespace(role=roles[use.equipment.asset_no], snapshot=use.snapshot) for use in uses
    ]
    evaluation = calculation.evaluate(record, cells, uses=replayed)
    return {
        "at": when,
        "existed": existed,
        "status": status,
        "cells": cells if existed else {},
        "roles": roles if existed else {},
        "results": evaluation.as_json(),
        "decision": evaluation.decision,
        "complete": evaluation.complete,
    }


def roles_of(record: Record) -> list[dict[str, Any]]:
    """The template's equipment roles: {"name", "label" (the user's language), "declared"}."""
    try:
        roles = calculation.roles_of(record.template_version)
    except Exception:  # a template that no longer compiles still shows its record
        return []
    return [
        {"name": r.name, "label": role_label(r.name, r.label), "declared": r.declared}
        for r in roles
    ]


def missing_roles(record: Record) -> list[dict[str, Any]]:
    """The template's roles no equipment of the record holds ({"name", "label"})."""
    try:
        missing = calculation.missing_roles(record)
    except Exception:
        return []
    return [{"name": r.name, "label": role_label(r.name, r.label)} for r in missing]


def record_detail(record: Record) -> dict[str, Any]:
    """Everything one record's page and API show (header, cells, results, conditions,
    equipment with its roles, the template's roles and those no equipment holds, signatures
    valid or not, transitions, amendments)."""
    blocked = measurement_blocked(record) if record.status == Record.Status.DRAFT else []
    return {
        "record": record,
        "signatures": signatures_of(record),
        "equipment": equipment_of(record),
        "roles": roles_of(record),
        "missing_roles": missing_roles(record),
        "transitions": transitions_of(record),
        "history": record_history(record),
        "blocked": blocked,
        "conditions_note": conditions_note(record),
        "amendments": list(record.amendments.order_by("revision").values("pk", "number", "status")),
        "results_table": _results_table(record),
    }


def _results_table(record: Record) -> dict[str, Any]:
    try:
        return calculation.evaluate(record).results_table()
    except Exception:
        return {"columns": [], "rows": [], "summary": []}


def records_using(equipment, start: dt.datetime, end: dt.datetime) -> Iterable:
    """Reverse traceability (`metrolab.risk.trace.trace_extenders`): the records made with
    `equipment` whose measurement overlaps [start, end] (a record still open runs until now)."""
    from metrolab.risk.trace import TraceRow

    rows = (
        records()
        .filter(equipment_used__equipment=equipment, started_at__lte=end)
        .filter(
            Q(submitted_at__gte=start)
            | Q(submitted_at__isnull=True, status__in=[Record.Status.DRAFT])
            | Q(started_at__gte=start)
        )
        .select_related("task__assignee")
        .order_by("started_at", "pk")
        .distinct()
    )
    now = timezone.now()
    return [
        TraceRow(
            source="record",
            source_label=_("Original record"),
            task=record.task,
            reference=record.number,
            url=record_url(record),
            started=record.started_at,
            ended=record.submitted_at or (None if record.status == Record.Status.DRAFT else now),
            user=str(record.measured_by),
        )
        for record in rows
    ]
