"""The filter of the item list, for its page and its API operation
(metrolab/core/filters.py)."""

from __future__ import annotations

from django.db.models import Q

from metrolab.core.filters import ListFilter
from metrolab.core.text import Name


class ItemFilter(ListFilter):
    """`q` (in the number, the name, the serial no. and the commission no.) and `state`."""

    q: Name = ""
    state: str = ""

    def filter_q(self, value: str) -> Q:
        value = (value or "").strip()
        if not value:
            return Q()
        return (
            Q(number__icontains=value)
            | Q(name__icontains=value)
            | Q(serial_no__icontains=value)
            | Q(commission__number__icontains=value)
        )

    def filter_state(self, value: str) -> Q:
        return Q(state=value) if value else Q()
