"""The filter of the environmental alarm log, for its page and its API operation
(metrolab/core/filters.py): one meaning of each filter, the period's end day included."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import Q
from django.utils.translation import gettext as _
from pydantic import model_validator

from metrolab.core.filters import ListFilter, period_q

OPEN, UNACKNOWLEDGED = "open", "unacknowledged"


class AlarmFilter(ListFilter):
    """`room` (id), `sensor` (code), `status` (open: not cleared yet; unacknowledged; or an
    alarm status), `open` (true: not cleared; false: cleared), `kind`, and the period raised
    in: `since` and `until`, both days included (the lab's time zone)."""

    room: int | None = None
    sensor: str | None = None
    status: Literal["open", "unacknowledged", "raised", "acknowledged", "cleared"] | None = None
    open: bool | None = None
    kind: Literal["high", "low", "offline"] | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    @model_validator(mode="after")
    def _period_in_order(self) -> AlarmFilter:
        if self.since and self.until and self.until < self.since:
            raise ValueError(_("The period ends before it starts."))
        return self

    @classmethod
    def whole_object_fields(cls) -> set[str]:
        return {"since", "until"}

    def filter_room(self, value: int | None) -> Q:
        return Q(room_id=value) if value is not None else Q()

    def filter_sensor(self, value: str | None) -> Q:
        return Q(sensor__code=value) if value else Q()

    def filter_status(self, value: str | None) -> Q:
        if value == OPEN:
            return Q(cleared_at__isnull=True)
        if value == UNACKNOWLEDGED:
            return Q(acknowledged_at__isnull=True)
        return Q(status=value) if value else Q()

    def filter_open(self, value: bool | None) -> Q:
        return Q(cleared_at__isnull=value) if value is not None else Q()

    def filter_since(self, value: dt.date | None) -> Q:
        return period_q("raised_at", value, None)

    def filter_until(self, value: dt.date | None) -> Q:
        return period_q("raised_at", None, value)
