"""Reads of items that depend on who asks (R4.3, R6.6): the lab sees every item; a customer's
portal account sees only its own organisation's items, photos and labels; everyone else
sees none. Objects outside a user's view are "not found" (404), never "forbidden".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from metrolab.commissions.choices import CommissionStatus
from metrolab.commissions.models import Commission, CommissionLine
from metrolab.core.roles import DEVICE, LAB_STAFF
from metrolab.customers.selectors import restrict
from metrolab.items.custody import location_after
from metrolab.items.filters import ItemFilter
from metrolab.items.models import CustodyEvent, Item, ItemMedia, RfidTag, StorageLocation
from metrolab.items.services import normalise_tag_uid


def user_sees_all_items(user) -> bool:
    """The lab's own people and its reader devices see every item."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_role(*LAB_STAFF, DEVICE)


def item_queryset_for(user) -> QuerySet[Item]:
    """Every item `user` may see (customers.selectors.restrict; reader devices see all)."""
    items = Item.objects.select_related("commission__customer", "location", "line")
    return restrict(items, user, "commission__customer", also=(DEVICE,))


def item_list(
    *,
    user,
    filters: ItemFilter | None = None,
    location: StorageLocation | None = None,
    commission: Commission | None = None,
) -> QuerySet[Item]:
    """Items `user` may see, newest receipt first, filtered as the list's page and API filter
    (`items.filters.ItemFilter`), by a storage place or a commission."""
    items = item_queryset_for(user)
    if filters is not None:
        items = filters.filter(items)
    if location is not None:
        items = items.filter(location=location)
    if commission is not None:
        items = items.filter(commission=commission)
    return items.order_by("-received_at", "-pk")


def item_get(*, user, number: str) -> Item:
    """The item with this number if `user` may see it; otherwise 404."""
    item = item_queryset_for(user).filter(number__iexact=number.strip()).first()
    if item is None:
        raise Http404("no such item")
    return item


def item_find_by_code(*, user, code: str) -> Item | None:
    """The item a scanned or typed code names: an item number (from the QR code or the
    Code 128 barcode) or the UID of a bound RFID / NFC tag; None if `user` sees no such item.
    A full URL (what the QR code holds) is accepted too."""
    code = (code or "").strip()
    if not code:
        return None
    if "/items/" in code:
        code = code.rstrip("/").rsplit("/", 1)[-1]
    items = item_queryset_for(user)
    found = items.filter(number__iexact=code).first()
    if found is not None:
        return found
    uid = normalise_tag_uid(code)
    if not uid:
        return None
    return items.filter(tags__uid=uid).first()


def item_by_tag(*, user, uid: str) -> Item:
    """The item bound to a tag UID, for readers (R6.6a); 404 if none (or not visible)."""
    item = item_queryset_for(user).filter(tags__uid=normalise_tag_uid(uid)).first()
    if item is None:
        raise Http404("no item bound to this tag")
    return item


def item_tag_get(*, user, uid: str) -> RfidTag:
    tag = (
        RfidTag.objects.select_related("item")
        .filter(uid=normalise_tag_uid(uid), item__in=item_queryset_for(user))
        .first()
    )
    if tag is None:
        raise Http404("no such tag")
    return tag


def item_media_get(*, user, pk: int) -> ItemMedia:
    """A photo or video if `user` may see its item; otherwise 404."""
    media = (
        ItemMedia.objects.select_related("item", "uploaded_by")
        .filter(pk=pk, item__in=item_queryset_for(user))
        .first()
    )
    if media is None:
        raise Http404("no such file")
    return media


def custody_history(item: Item) -> QuerySet[CustodyEvent]:
    return item.custody_events.select_related("by", "location").order_by("at", "pk")


@dataclass(frozen=True)
class DerivedCustody:
    state: str
    location_id: int | None


def item_state_from_events(item: Item) -> DerivedCustody:
    """The item's state and place re-derived from its custody events alone (R6.6d): the
    state is the last event's kind, the place follows the same rules as the services that
    record the events. `Item.state` and `Item.location` must always agree with this."""
    state, location_id = None, None
    for kind, event_location_id in item.custody_events.order_by("at", "pk").values_list(
        "kind", "location_id"
    ):
        state = kind
        location_id = location_after(kind, event_location_id, location_id)
    if state is None:
        raise ValueError(f"item {item.number} has no custody events")
    return DerivedCustody(state=state, location_id=location_id)


@dataclass(frozen=True)
class StoragePlace:
    location: StorageLocation | None  # None: items in the lab but on no shelf
    count: int


def storage_overview() -> list[StoragePlace]:
    """How many items are in each storage place, and how many are in the lab elsewhere
    (just received, in testing) (R6.6d)."""
    gone = (Item.State.RETURNED, Item.State.DISPOSED)
    counts = dict(
        Item.objects.exclude(state__in=gone)
        .values_list("location_id")
        .annotate(n=Count("pk"))
        .values_list("location_id", "n")
    )
    places = [
        StoragePlace(location=loc, count=counts.get(loc.pk, 0))
        for loc in StorageLocation.objects.order_by("room", "shelf")
        if loc.active or counts.get(loc.pk)
    ]
    places.append(StoragePlace(location=None, count=counts.get(None, 0)))
    return places


def items_in_lab(*, location: StorageLocation | None = None, unplaced: bool = False):
    """Items still in the lab (not returned or disposed), in one place or on no shelf."""
    items = Item.objects.select_related("commission__customer", "location").exclude(
        state__in=(Item.State.RETURNED, Item.State.DISPOSED)
    )
    if unplaced:
        items = items.filter(location__isnull=True)
    elif location is not None:
        items = items.filter(location=location)
    return items.order_by("location__room", "location__shelf", "number")


def storage_locations_active() -> QuerySet[StorageLocation]:
    return StorageLocation.objects.filter(active=True).order_by("room", "shelf")


# --- receipt ----


def commissions_receivable(*, q: str = "") -> QuerySet[Commission]:
    """Commissions whose items may be received now: accepted in contract review and not
    cancelled (R6.1b), with items still to come first."""
    commissions = (
        Commission.objects.filter(review=Commission.Review.ACCEPTED)
        .exclude(status=CommissionStatus.CANCELLED)
        .select_related("customer")
        .annotate(ordered=Count("lines__pk", distinct=True))
    )
    if q:
        commissions = commissions.filter(
            Q(number__icontains=q) | Q(customer__name__icontains=q) | Q(customer__code__iexact=q)
        )
    return commissions.order_by("status", "-created_at")


def commission_receivable_get(pk: int) -> Commission:
    commission = commissions_receivable().filter(pk=pk).first()
    if commission is None:
        raise Http404("no such commission")
    return commission


@dataclass(frozen=True)
class LineProgress:
    line: CommissionLine
    received: int

    @property
    def remaining(self) -> int:
        return max(0, self.line.quantity - self.received)


def commission_lines_progress(commission: Commission) -> list[LineProgress]:
    """Each line of a commission with how many of its items have been received."""
    received = dict(
        Item.objects.filter(commission=commission)
        .values_list("line_id")
        .annotate(n=Count("pk"))
        .values_list("line_id", "n")
    )
    return [
        LineProgress(line=line, received=received.get(line.pk, 0))
        for line in commission.lines.order_by("pk")
    ]


def commission_for_labels(*, user, pk: int) -> Commission:
    """A commission whose labels `user` may print: any for the lab, their own for customers."""
    commission = restrict(Commission.objects.all(), user, "customer", also=(DEVICE,))
    commission = commission.filter(pk=pk).first()
    if commission is None:
        raise Http404("no such commission")
    return commission


def commission_status_limit(commission: Commission) -> str:
    """How far a commission can be along as its items tell (R6.1b; registered in
    metrolab.commissions.status.status_limits): applied until every item the lines ask for is
    received, completed once every item is returned or disposed, else certificate issued."""
    ordered = sum(line.quantity for line in commission.lines.all())
    states = list(commission.items.values_list("state", flat=True))
    if not states or len(states) < ordered:
        return CommissionStatus.APPLIED
    gone = {Item.State.RETURNED, Item.State.DISPOSED}
    if all(state in gone for state in states):
        return CommissionStatus.COMPLETED
    return CommissionStatus.CERTIFICATE_ISSUED
