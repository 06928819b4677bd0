"""Reads of risk (R4.5): the radar filtered for a page or the API, equipment to trace, impact
reviews and the customers they affect."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from metrolab.equipment.models import Equipment
from metrolab.risk.models import ImpactReview
from metrolab.risk.radar import DEFAULT_DAYS, Entry, bucket_counts, radar


def radar_view(
    *, on: dt.date | None = None, days: int = DEFAULT_DAYS, kind: str = "", bucket: str = ""
) -> tuple[list[Entry], dict[str, int]]:
    """The radar of `on` within `days`, of one kind if given: the entries (of one bucket if
    given) and the count per bucket (of the kind, across buckets)."""
    entries = radar(on=on, days=days, kinds=[kind] if kind else None)
    counts = bucket_counts(entries)
    if bucket:
        entries = [e for e in entries if e.bucket == bucket]
    return entries, counts


def equipment_search(q: str, limit: int = 20) -> list[Equipment]:
    """Equipment matching `q` by asset no., name, serial no. or model; an exact asset no.
    alone when there is one."""
    q = (q or "").strip()
    if not q:
        return []
    exact = Equipment.objects.filter(asset_no__iexact=q).first()
    if exact is not None:
        return [exact]
    found = Equipment.objects.filter(
        Q(asset_no__icontains=q)
        | Q(name__icontains=q)
        | Q(serial_no__icontains=q)
        | Q(model__icontains=q)
    )
    return list(found.order_by("asset_no")[:limit])


def equipment_get(pk) -> Equipment | None:
    try:
        return Equipment.objects.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def review_list(*, equipment: Equipment | None = None, state: str = "") -> QuerySet:
    """Impact reviews, open ones first, newest first."""
    reviews = ImpactReview.objects.select_related("equipment", "opened_by", "closed_by")
    if equipment is not None:
        reviews = reviews.filter(equipment=equipment)
    if state:
        reviews = reviews.filter(state=state)
    return reviews.order_by("-state", "-created_at", "-pk")  # "open" > "closed": open first


def review_get(pk: int) -> ImpactReview | None:
    return (
        ImpactReview.objects.select_related("equipment", "opened_by", "closed_by")
        .filter(pk=pk)
        .first()
    )


def review_customers(review: ImpactReview) -> list[dict]:
    """The customers whose work the review covers, each with their commissions and tasks."""
    customers: dict[int, dict] = {}
    tasks = review.tasks.select_related("item__commission__customer").order_by("pk")
    for task in tasks:
        commission = task.item.commission
        customer = commission.customer
        entry = customers.setdefault(
            customer.pk, {"customer": customer, "commissions": {}, "tasks": 0}
        )
        entry["commissions"][commission.pk] = commission
        entry["tasks"] += 1
    result = []
    for entry in sorted(customers.values(), key=lambda e: e["customer"].name):
        entry["commissions"] = sorted(entry["commissions"].values(), key=lambda c: c.number)
        result.append(entry)
    return result
