"""Writes of items (R6.6a-f): receipt with numbering, photos and videos, RFID / NFC tags and
custody events. Every function here is a service (metrolab.core.service): one transaction,
audited, and a refusal (ServiceError) leaves nothing written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.commissions import services as commission_services
from metrolab.commissions.choices import CommissionStatus
from metrolab.commissions.models import Commission, CommissionLine
from metrolab.commissions.services import commission_refresh_status
from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import require_person
from metrolab.core.service import ServiceError, service
from metrolab.core.text import excerpt, field_checked
from metrolab.core.validation import validated
from metrolab.items import files
from metrolab.items.custody import NEEDS_LOCATION, location_after, transition_problem
from metrolab.items.errors import ItemRefusal
from metrolab.items.models import (
    CustodyEvent,
    Item,
    ItemMedia,
    ItemNumberCounter,
    ItemNumberRule,
    RfidTag,
    StorageLocation,
)
from metrolab.items.numbering import NumberFormat, format_item_number

S = Item.State

# What a receipt starts, called with the new item and the actor inside the receipt's
# transaction: the apps register theirs in AppConfig.ready (tasks: one task per item x
# service, metrolab.tasks.services.tasks_create_for_item).
receipt_listeners: list[Callable[..., Any]] = []

# Custody follows the work: what still holds an item in the lab, in the user's words (one
# message per piece of open work). The apps register theirs in AppConfig.ready (tasks: the
# item's open tasks). An item with open work is returned or disposed of only with a reason,
# which the audit log keeps with the event.
open_work_checks: list[Callable[[Item], list[str]]] = []


def item_open_work(item: Item) -> list[str]:
    """Every piece of work still open on the item (empty: none)."""
    return [message for check in open_work_checks for message in check(item)]


# --- numbering ----


def item_number_rule_get() -> ItemNumberRule:
    """The numbering rule in force: the one saved in the back office, else the defaults."""
    return ItemNumberRule.objects.order_by("pk").first() or ItemNumberRule()


def _number_format(rule: ItemNumberRule) -> NumberFormat:
    return NumberFormat(
        prefix=rule.prefix,
        year_digits=rule.year_digits,
        sequence_digits=rule.sequence_digits,
        check_digit=rule.check_digit,
    )


@service("item_number.allocate")
def item_number_allocate(*, year: int | None = None, actor: Any) -> str:
    """The next item number (R6.6a): prefix + year + the year's next sequence + check
    character (ISO/IEC 7064 MOD 11-2). The year's counter is taken under a row lock
    (SELECT ... FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction holds the single
    write lock), so concurrent receipts never get the same number; the counter only goes up,
    so a number given out is never given again."""
    year = year or timezone.localdate().year
    rule = _number_format(item_number_rule_get())
    counter, _created = ItemNumberCounter.objects.select_for_update().get_or_create(year=year)
    while True:
        counter.last += 1
        number = format_item_number(rule, year, counter.last)
        # A rule changed in the middle of a year could meet a number made under the old rule.
        if not Item.objects.filter(number=number).exists():
            break
    counter.save(update_fields=["last"])
    return number


# --- receipt ----


def commission_can_receive_problem(commission: Commission) -> str | None:
    """Why items of this commission cannot be received now; None when they can. The
    commissions app's rule (`commission_assert_can_receive`: cancelled, rejected,
    completed) applies when it exists; in any case the contract review must have accepted
    the commission first (R6.1b)."""
    assert_can_receive = getattr(commission_services, "commission_assert_can_receive", None)
    if assert_can_receive is not None:
        try:
            assert_can_receive(commission)
        except ServiceError as exc:
            return exc.message
    if commission.status == CommissionStatus.CANCELLED:
        return _("Commission %(number)s is cancelled: its items cannot be received.") % {
            "number": commission.number
        }
    if commission.review != Commission.Review.ACCEPTED:
        return _(
            "Commission %(number)s has not been accepted in contract review: its items "
            "cannot be received yet."
        ) % {"number": commission.number}
    return None


@service("item.receive")
def item_receive(
    *,
    line: CommissionLine,
    actor: Any,
    serial_no: str | None = None,
    condition: str = "",
    location: StorageLocation | None = None,
    promised_date: dt.date | None = None,
    photos: Iterable[Any] = (),
    reason: str = "",
) -> Item:
    """Receive one item of a commission line (R6.6a, R6.6c): give it the next number, record
    its condition and a "received" custody event, create its task (one per item × service),
    keep the photos taken at receipt, and let the commission advance (R6.1b).

    Refused, with nothing written, when the commission is not accepted or is cancelled, when
    the line's quantity has been received already, or when a photo is not acceptable."""
    user = require_person(actor)
    line = CommissionLine.objects.select_for_update().select_related("commission").get(pk=line.pk)
    commission = line.commission
    problem = commission_can_receive_problem(commission)
    if problem:
        raise ServiceError(problem, code=ItemRefusal.NOT_RECEIVABLE)
    received = Item.objects.filter(line=line).count()
    if received >= line.quantity:
        raise ServiceError(
            _(
                "All %(quantity)d item(s) of line “%(name)s” have been received already; "
                "no more can be received on it."
            )
            % {"quantity": line.quantity, "name": line.instrument_name},
            code=ItemRefusal.QUANTITY_EXCEEDED,
        )
    if location is not None and not location.active:
        raise ServiceError(_("This storage place is not in use."), field="location")
    photos = list(photos)
    for upload in photos:  # check every photo before anything is written
        _inspect_upload(upload)

    now = timezone.now()
    item = Item.objects.create(
        number=item_number_allocate(actor=actor),
        commission=commission,
        line=line,
        name=line.instrument_name,
        model_range=line.model_range,
        accuracy_class=line.accuracy_class,
        serial_no=line.serial_no if serial_no is None else serial_no.strip(),
        manufacturer=line.manufacturer,
        service=line.service,
        received_by=user,
        received_at=now,
        promised_date=promised_date or line.promised_date or commission.promised_date,
        state=S.RECEIVED,
        location=location,
        condition=condition.strip(),
    )
    CustodyEvent.objects.create(
        item=item, kind=S.RECEIVED, at=now, by=user, location=location, note=""
    )
    for listener in receipt_listeners:
        listener(item=item, actor=actor)
    for upload in photos:
        item_media_add(item=item, upload=upload, actor=actor)
    commission_refresh_status(commission, actor=actor)
    return item


# Items received in one step from one line (a batch of identical pieces): far above a real
# delivery, small enough for one label sheet request and one transaction.
MAX_BATCH = 200


@service("item.receive_batch")
def items_receive_batch(
    *,
    line: CommissionLine,
    count: int,
    actor: Any,
    serial_nos: Iterable[str] = (),
    condition: str = "",
    location: StorageLocation | None = None,
    promised_date: dt.date | None = None,
    reason: str = "",
) -> list[Item]:
    """Receive `count` identical pieces of a commission line in one step (R6.6a): each is an
    item of its own, numbered consecutively (the year's counter stays locked until the batch
    is written), with the same condition, place and promised date, its custody event and its
    task. `serial_nos`, when given, are one per piece, in order. All or nothing: a refusal
    (more pieces than the line still expects, a commission not receivable, ...) writes no
    item."""
    require_person(actor)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ServiceError(_("Receive at least one item."), field="count")
    if count > MAX_BATCH:
        raise ServiceError(
            _("Receive at most %(max)d items in one step.") % {"max": MAX_BATCH}, field="count"
        )
    serials = [(s or "").strip() for s in serial_nos]
    if serials and len(serials) != count:
        raise ServiceError(
            _("Give one serial no. per item: %(given)d for %(count)d items.")
            % {"given": len(serials), "count": count},
            field="serial_nos",
        )
    locked = CommissionLine.objects.select_for_update().get(pk=line.pk)
    remaining = locked.quantity - Item.objects.filter(line=locked).count()
    if count > remaining:
        raise ServiceError(
            _(
                "Line “%(name)s” expects %(remaining)d more item(s); %(count)d cannot be "
                "received on it."
            )
            % {"name": locked.instrument_name, "remaining": max(remaining, 0), "count": count},
            code=ItemRefusal.QUANTITY_EXCEEDED,
            field="count",
        )
    return [
        item_receive(
            line=locked,
            actor=actor,
            serial_no=serials[i] if serials else (None if locked.quantity == 1 else ""),
            condition=condition,
            location=location,
            promised_date=promised_date,
        )
        for i in range(count)
    ]


# --- photos and videos ----


def _head(upload: Any) -> bytes:
    if hasattr(upload, "seek"):
        upload.seek(0)
    head = upload.read(files.HEAD_BYTES)
    if hasattr(upload, "seek"):
        upload.seek(0)
    return head or b""


def _chunks(upload: Any) -> Iterator[bytes]:
    if hasattr(upload, "seek"):
        upload.seek(0)
    if hasattr(upload, "chunks"):
        yield from upload.chunks()
        return
    while chunk := upload.read(1024 * 1024):
        yield chunk


def _size_text(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def _inspect_upload(upload: Any) -> files.Sniffed:
    """What the upload really is (by content), refusing anything else or anything too large."""
    sniffed = files.sniff(_head(upload))
    if sniffed is None:
        raise ServiceError(
            _(
                "“%(name)s” is not a photo or video of a supported type (%(types)s); "
                "it was not stored."
            )
            % {"name": getattr(upload, "name", "") or "?", "types": files.SUPPORTED_TYPES_TEXT},
            code=ItemRefusal.UNSUPPORTED_TYPE,
            field="file",
        )
    size = getattr(upload, "size", None)
    limit = files.max_bytes(sniffed.kind)
    if size is not None and size > limit:
        raise _too_large(upload, sniffed.kind, limit)
    return sniffed


def _too_large(upload: Any, kind: str, limit: int) -> ServiceError:
    message = (
        _("“%(name)s” is larger than %(limit)s, the limit for a video; it was not stored.")
        if kind == files.VIDEO
        else _("“%(name)s” is larger than %(limit)s, the limit for a photo; it was not stored.")
    )
    return ServiceError(
        message % {"name": getattr(upload, "name", "") or "?", "limit": _size_text(limit)},
        code=ItemRefusal.TOO_LARGE,
        field="file",
    )


@service("item.media_add")
def item_media_add(*, item: Item, upload: Any, actor: Any, caption: str = "") -> ItemMedia:
    """Keep a photo or video of an item (R6.6b): checked by content (JPEG, PNG, WebP, HEIC,
    MP4, MOV, WebM), size-limited, stored once under its SHA-256 outside the web root and
    never overwritten. The same content added again to the same item is the same record."""
    user = require_person(actor)
    caption = field_checked(ItemMedia, "caption", (caption or "").strip())
    sniffed = _inspect_upload(upload)
    limit = files.max_bytes(sniffed.kind)
    try:
        stored = files.store_chunks(_chunks(upload), limit=limit)
    except files.TooLarge:
        raise _too_large(upload, sniffed.kind, limit) from None
    existing = ItemMedia.objects.filter(item=item, sha256=stored.sha256).first()
    if existing is not None:
        return existing
    name = excerpt((getattr(upload, "name", "") or "").rsplit("/", 1)[-1], 255)
    return ItemMedia.objects.create(
        item=item,
        kind=sniffed.kind,
        sha256=stored.sha256,
        content_type=sniffed.content_type,
        size=stored.size,
        original_name=name,
        uploaded_by=user,
        caption=caption,
    )


# --- RFID / NFC tags ----

_UID_SEPARATORS = re.compile(r"[\s:\-]")


def normalise_tag_uid(raw: str) -> str:
    """A tag UID as stored: separators (colons, dashes, spaces) dropped, upper case, so that
    "04:a2:3b:7c" from a phone and "04A23B7C" from a desk reader are the same tag."""
    return _UID_SEPARATORS.sub("", raw or "").upper()


@service("item.tag_bind")
def item_tag_bind(*, item: Item, uid: str, actor: Any, reason: str = "") -> RfidTag:
    """Bind an RFID / NFC tag to an item (R6.6a). A UID names one item at a time: a UID bound
    to another item is refused (unbind it there first); binding it again to the same item
    changes nothing."""
    user = require_person(actor)
    tag = validated(RfidTag(uid=normalise_tag_uid(uid), item=item, bound_by=user), unique=False)
    uid = tag.uid
    existing = RfidTag.objects.select_for_update().select_related("item").filter(uid=uid).first()
    if existing is not None:
        if existing.item_id == item.pk:
            return existing
        raise ServiceError(
            _("Tag %(uid)s is bound to item %(number)s already; unbind it there first.")
            % {"uid": uid, "number": existing.item.number},
            code=CoreRefusal.CONFLICT,
            field="uid",
        )
    tag.save()
    return tag


@service("item.tag_unbind")
def item_tag_unbind(*, tag: RfidTag, actor: Any, reason: str = "") -> None:
    """Release a tag from its item (R6.6a), e.g. when the item leaves and the tag is reused.
    The binding and its removal stay in the audit log."""
    require_person(actor)
    tag.delete()


# --- custody and storage ----


def _record_custody(
    *,
    item: Item,
    kind: str,
    actor: Any,
    location: StorageLocation | None = None,
    collected_by: str = "",
    note: str = "",
    reason: str = "",
) -> CustodyEvent:
    user = require_person(actor)
    item = Item.objects.select_for_update().select_related("commission").get(pk=item.pk)
    problem = transition_problem(item.state, kind)
    if problem:
        raise ServiceError(problem, code=CoreRefusal.INVALID_TRANSITION)
    if kind in NEEDS_LOCATION and location is None:
        raise ServiceError(_("Choose where the item is put."), field="location")
    if location is not None and not location.active:
        raise ServiceError(_("This storage place is not in use."), field="location")
    if kind == S.RETURNED and not collected_by.strip():
        raise ServiceError(_("Say who collected the item."), field="collected_by")
    if kind == S.DISPOSED and not note.strip():
        raise ServiceError(_("Say why the item is disposed of."), field="note")
    if kind in (S.RETURNED, S.DISPOSED) and not reason.strip():
        open_work = item_open_work(item)
        if open_work:
            raise ServiceError(
                " ".join(
                    [
                        _("Item %(number)s still has open work; give a reason to let it go now:")
                        % {"number": item.number},
                        *open_work,
                    ]
                ),
                code=ItemRefusal.OPEN_WORK,
                field="reason",
            )
    event = CustodyEvent.objects.create(
        item=item,
        kind=kind,
        at=timezone.now(),
        by=user,
        location=location,
        collected_by=collected_by.strip(),
        note=note.strip(),
    )
    item.state = kind
    item.location_id = location_after(kind, location.pk if location else None, item.location_id)
    item.save(update_fields=["state", "location"])
    commission_refresh_status(item.commission, actor=actor)
    return event


@service("item.move")
def item_move(
    *, item: Item, location: StorageLocation, actor: Any, note: str = "", reason: str = ""
) -> CustodyEvent:
    """Put an item in a storage place (room and shelf) (R6.6d)."""
    return _record_custody(item=item, kind=S.MOVED, actor=actor, location=location, note=note)


@service("item.in_testing")
def item_mark_in_testing(
    *,
    item: Item,
    actor: Any,
    location: StorageLocation | None = None,
    note: str = "",
    reason: str = "",
) -> CustodyEvent:
    """Take an item out of storage for testing (R6.6d); `actor` now holds it."""
    return _record_custody(item=item, kind=S.IN_TESTING, actor=actor, location=location, note=note)


@service("item.awaiting_return")
def item_mark_awaiting_return(
    *,
    item: Item,
    actor: Any,
    location: StorageLocation | None = None,
    note: str = "",
    reason: str = "",
) -> CustodyEvent:
    """Testing is over and the item waits for its owner (R6.6d); it stays where it is unless
    a place is given."""
    return _record_custody(
        item=item, kind=S.AWAITING_RETURN, actor=actor, location=location, note=note
    )


@service("item.return")
def item_return(
    *, item: Item, collected_by: str, actor: Any, note: str = "", reason: str = ""
) -> CustodyEvent:
    """Hand an item back to its owner, recording who collected it (R6.6f). While work on
    it is open (`item_open_work`), only with a reason."""
    return _record_custody(
        item=item,
        kind=S.RETURNED,
        actor=actor,
        collected_by=collected_by,
        note=note,
        reason=reason,
    )


@service("item.dispose")
def item_dispose(*, item: Item, note: str, actor: Any, reason: str = "") -> CustodyEvent:
    """Dispose of an item (R6.6f), recording who did and why (the note). While work on it
    is open (`item_open_work`), only with a reason."""
    return _record_custody(item=item, kind=S.DISPOSED, actor=actor, note=note, reason=reason)


CUSTODY_SERVICES = {
    S.MOVED: item_move,
    S.IN_TESTING: item_mark_in_testing,
    S.AWAITING_RETURN: item_mark_awaiting_return,
    S.RETURNED: item_return,
    S.DISPOSED: item_dispose,
}


def item_custody_record(
    *,
    item: Item,
    kind: str,
    actor: Any,
    location: StorageLocation | None = None,
    collected_by: str = "",
    note: str = "",
    reason: str = "",
) -> CustodyEvent:
    """Record any custody event by its kind, through the service that owns it (for forms and
    the API, which offer the kinds in one list)."""
    if kind not in CUSTODY_SERVICES:
        raise ServiceError(transition_problem(S.RECEIVED, kind) or "", field="event")
    kwargs: dict[str, Any] = {"item": item, "actor": actor, "reason": reason}
    if kind in (S.MOVED, S.IN_TESTING, S.AWAITING_RETURN):
        kwargs |= {"location": location, "note": note}
    elif kind == S.RETURNED:
        kwargs |= {"collected_by": collected_by, "note": note}
    else:
        kwargs |= {"note": note}
    return CUSTODY_SERVICES[kind](**kwargs)
