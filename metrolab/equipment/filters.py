"""The filter of the equipment register, for its page and its API operation
(metrolab/core/filters.py)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import field_validator

from metrolab.core.filters import ListFilter
from metrolab.core.text import Code, Name
from metrolab.equipment.models import Equipment


class EquipmentFilter(ListFilter):
    """`q` (in the asset no., name, model, serial no., manufacturer and location), `status`
    (none: all but scrapped), `kind`, `discipline` (its code, or its id as the page sends),
    and the calibration: `due_within` N days (not yet overdue), `overdue`, `uncalibrated`
    (no confirmed calibration), or the page's `calibration` (30 / 60 / 90, overdue, none)
    meaning the same."""

    q: Name = ""
    status: Code = ""
    kind: Code = ""
    discipline: Code = ""
    calibration: Code = ""
    due_within: int | None = None
    overdue: bool = False
    uncalibrated: bool = False

    @field_validator("calibration")
    @classmethod
    def _known_calibration(cls, value: str) -> str:
        if value and not value.isdigit() and value not in ("overdue", "none"):
            raise ValueError(_("Use a number of days, overdue or none."))
        return value

    def filter(self, queryset: QuerySet, on: dt.date | None = None) -> QuerySet:
        """The equipment matching (`queryset` annotated with its `due` date), the due
        dates compared with `on` (today by default)."""
        on = on or timezone.localdate()
        q = self.q.strip()
        if q:
            queryset = queryset.filter(
                Q(asset_no__icontains=q)
                | Q(name__icontains=q)
                | Q(model__icontains=q)
                | Q(serial_no__icontains=q)
                | Q(manufacturer__icontains=q)
                | Q(location__icontains=q)
            )
        if self.status:
            queryset = queryset.filter(status=self.status)
        else:
            queryset = queryset.exclude(status=Equipment.Status.SCRAPPED)
        if self.kind:
            queryset = queryset.filter(kind=self.kind)
        if self.discipline:
            by = Q(discipline__code=self.discipline)
            if self.discipline.isdigit():
                by |= Q(discipline_id=int(self.discipline))
            queryset = queryset.filter(by)
        due_within, overdue, uncalibrated = self.due_within, self.overdue, self.uncalibrated
        if self.calibration.isdigit():
            due_within = int(self.calibration)
        overdue = overdue or self.calibration == "overdue"
        uncalibrated = uncalibrated or self.calibration == "none"
        if due_within is not None:
            horizon = on + dt.timedelta(days=max(0, due_within))
            queryset = queryset.filter(due__gte=on, due__lte=horizon)
        if overdue:
            queryset = queryset.filter(due__lt=on)
        if uncalibrated:
            queryset = queryset.filter(due__isnull=True)
        return queryset
