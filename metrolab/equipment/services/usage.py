"""The usage log of equipment (使用记录, R6.5b): written automatically when a task using it
starts (and closed when its work ends), or entered by hand. The entry's field rules live on
the model (`UsageRecord`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import holds, is_system, require_person, require_roles
from metrolab.core.service import ServiceError, service
from metrolab.core.validation import validated
from metrolab.equipment.models import Equipment, UsageRecord
from metrolab.equipment.roles import EQUIPMENT_EDITORS, USAGE_RECORDERS
from metrolab.equipment.services._common import locked, not_scrapped, stripped


@service("equipment.usage_record")
def equipment_usage_record(
    *,
    equipment: Equipment,
    user: Any,
    actor: Any,
    task: Any = None,
    started_at: dt.datetime,
    ended_at: dt.datetime | None = None,
    source: str = UsageRecord.Source.MANUAL,
    note: str = "",
    condition_before: str = "",
) -> UsageRecord:
    """Write a use of equipment in its usage log (使用记录, R6.5b): automatically when a task
    using it starts (source "auto", called by the tasks and later the records), or by hand.
    The same task's open automatic entry is not written twice. A person enters manual uses
    for themself; the equipment manager also for others."""
    if source not in UsageRecord.Source.values:
        raise ServiceError(_("Unknown source of a usage entry."), field="source")
    if getattr(user, "pk", None) is None:
        raise ServiceError(_("Say who used the equipment."), field="user")
    if source == UsageRecord.Source.MANUAL:
        person = require_roles(actor, USAGE_RECORDERS)
        if person is not None and person.pk != user.pk and not holds(person, EQUIPMENT_EDITORS):
            raise ServiceError(
                _("You may enter only your own use of equipment."),
                code=CoreRefusal.FORBIDDEN,
                field="user",
            )
    equipment = locked(equipment)
    if started_at is None:
        raise ServiceError(_("Give when the use started."), field="started_at")
    if ended_at is not None and ended_at <= started_at:
        raise ServiceError(_("The use must end after it started."), field="ended_at")
    if source == UsageRecord.Source.MANUAL:
        not_scrapped(equipment)
        if started_at > timezone.now() + dt.timedelta(minutes=5):
            raise ServiceError(_("A use cannot start in the future."), field="started_at")
    if task is not None and source == UsageRecord.Source.AUTOMATIC:
        existing = UsageRecord.objects.filter(
            equipment=equipment, task=task, source=source, ended_at__isnull=True
        ).first()
        if existing is not None:
            return existing
    usage = UsageRecord(
        equipment=equipment,
        task=task,
        user=user,
        started_at=started_at,
        ended_at=ended_at,
        source=source,
        condition_before=stripped(condition_before),
        note=stripped(note),
    )
    validated(usage)
    usage.save()
    return usage


@service("equipment.usage_close")
def equipment_usage_close(
    *,
    usage: UsageRecord,
    actor: Any,
    ended_at: dt.datetime | None = None,
    condition_after: str = "",
    reason: str = "",
) -> UsageRecord:
    """Close an open usage entry (its end and the condition after use). Its user closes it,
    or the equipment manager (or the system)."""
    usage = UsageRecord.objects.select_for_update().get(pk=usage.pk)
    if not is_system(actor):
        person = require_person(actor)
        if person.pk != usage.user_id and not holds(person, EQUIPMENT_EDITORS):
            raise ServiceError(
                _("Only its user closes this usage entry."), code=CoreRefusal.FORBIDDEN
            )
    if usage.ended_at is not None:
        raise ServiceError(_("This usage entry is closed already."), code=CoreRefusal.CONFLICT)
    ended_at = ended_at or timezone.now()
    if ended_at <= usage.started_at:
        raise ServiceError(_("The use must end after it started."), field="ended_at")
    usage.ended_at = ended_at
    usage.condition_after = stripped(condition_after)
    validated(usage)
    usage.save()
    return usage


@service("equipment.usage_close_for_task")
def equipment_usage_close_for_task(
    *, task: Any, actor: Any, ended_at: dt.datetime | None = None
) -> list[UsageRecord]:
    """Close the open automatic usage entries of a task (when its work ends)."""
    ended_at = ended_at or timezone.now()
    closed = []
    for usage in UsageRecord.objects.select_for_update().filter(
        task=task, source=UsageRecord.Source.AUTOMATIC, ended_at__isnull=True
    ):
        usage.ended_at = max(ended_at, usage.started_at + dt.timedelta(seconds=1))
        usage.save(update_fields=["ended_at", "updated_at"])
        closed.append(usage)
    return closed
