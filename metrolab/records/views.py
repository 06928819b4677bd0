"""Record pages. For now the one read-only page of a record (header, values and results,
conditions, equipment, signatures valid or not, the trail and the status changes); the entry,
check and approval pages extend this module."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from metrolab.core.access import allow
from metrolab.records import selectors
from metrolab.records.roles import RECORD_READERS


@allow(roles=RECORD_READERS)
@require_GET
def record_detail(request, pk: int):
    """One original record as it stands, with its signatures and trail (R6.2c, R4.4)."""
    record = selectors.record_get(pk)
    return render(request, "records/detail.html", selectors.record_detail(record))
