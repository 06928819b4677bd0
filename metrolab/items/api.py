"""`/api/v1/items/...`: items for readers, phones and integrations (R6.6a-d). Thin: every
write is a service of metrolab.items.services, every read a selector that knows who asks
(customers see only their own items; others are 404)."""

import datetime as dt

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate

from metrolab.commissions.models import CommissionLine
from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.core.service import ServiceError
from metrolab.core.text import SHORT_TEXT, Code, Name, Note, Reason, Reference, ShortText
from metrolab.items import selectors, services
from metrolab.items.filters import ItemFilter
from metrolab.items.models import Item, ItemMedia, StorageLocation
from metrolab.items.roles import (
    CUSTODIANS,
    ITEM_READERS,
    PHOTOGRAPHERS,
    RECEIVERS,
    TAG_READERS,
)

router = Router(tags=["items"])


class ItemOut(Schema):
    number: str
    name: str
    commission: str
    customer: str
    service: str
    state: str
    state_label: str
    location: str | None
    location_code: str | None
    serial_no: str
    model_range: str
    received_at: dt.datetime
    promised_date: dt.date | None
    url: str


class CustodyEventOut(Schema):
    kind: str
    at: dt.datetime
    by: str
    location: str | None
    collected_by: str
    note: str


class MediaOut(Schema):
    id: int
    kind: str
    content_type: str
    sha256: str
    size: int
    uploaded_by: str
    uploaded_at: dt.datetime
    caption: str
    url: str


class TagOut(Schema):
    uid: str
    item: str
    bound_by: str
    bound_at: dt.datetime


class TaskBrief(Schema):
    id: int
    service: str
    status: str


class ItemDetailOut(ItemOut):
    condition: str
    custody: list[CustodyEventOut]
    media: list[MediaOut]
    tags: list[str]
    tasks: list[TaskBrief]


class ReceiveIn(Schema):
    line_id: int
    serial_no: Reference | None = None
    condition: Note = ""
    location_code: Code | None = None
    promised_date: dt.date | None = None


class BatchReceiveIn(Schema):
    """`count` identical pieces of a line, received in one step; `serial_nos`, if given, one
    per piece in order."""

    line_id: int
    count: int
    serial_nos: list[Reference] = []
    condition: Note = ""
    location_code: Code | None = None
    promised_date: dt.date | None = None


class BatchOut(Schema):
    items: list[ItemOut]
    labels_url: str  # one A4 sheet with the labels of these items (add &format=roll)


class TagIn(Schema):
    uid: Name  # as read, separators included


class CustodyIn(Schema):
    event: Code
    location_code: Code | None = None
    collected_by: Name = ""
    note: ShortText = ""
    # Required to return or dispose of an item whose work is still open (kept in the audit log).
    reason: Reason = ""


def _item_out(item: Item) -> dict:
    return {
        "number": item.number,
        "name": item.name,
        "commission": item.commission.number,
        "customer": item.commission.customer.name,
        "service": item.service,
        "state": item.state,
        "state_label": str(item.get_state_display()),
        "location": str(item.location) if item.location else None,
        "location_code": item.location.code if item.location else None,
        "serial_no": item.serial_no,
        "model_range": item.model_range,
        "received_at": item.received_at,
        "promised_date": item.promised_date,
        "url": reverse("items:card", args=[item.number]),
    }


def _media_out(media: ItemMedia, *, lab: bool = True) -> dict:
    return {
        "id": media.pk,
        "kind": media.kind,
        "content_type": media.content_type,
        "sha256": media.sha256,
        "size": media.size,
        "uploaded_by": str(media.uploaded_by) if lab else "",
        "uploaded_at": media.created_at,
        "caption": media.caption,
        "url": reverse("items:media_file", args=[media.pk]),
    }


def _tag_out(tag) -> dict:
    return {
        "uid": tag.uid,
        "item": tag.item.number,
        "bound_by": str(tag.bound_by),
        "bound_at": tag.created_at,
    }


def _location(code: str | None) -> StorageLocation | None:
    if not code:
        return None
    location = StorageLocation.objects.filter(code=code).first()
    if location is None:
        raise ServiceError(
            _("No storage place has the code %(code)s.") % {"code": code}, field="location_code"
        )
    return location


@router.get(
    "/",
    response=list[ItemOut],
    auth=api_access(roles=ITEM_READERS),
    summary="Items I may see (customers: their own)",
)
@paginate
def list_items(request, filters: Query[ItemFilter]):
    """The filters of the item list page (`ItemFilter`)."""
    return Mapped(selectors.item_list(user=request.auth, filters=filters), _item_out)


@router.get(
    "/by-tag/{uid}",
    response=ItemOut,
    auth=api_access(roles=TAG_READERS),
    summary="The item bound to an RFID / NFC tag (readers)",
)
def item_by_tag(request, uid: str):
    return _item_out(selectors.item_by_tag(user=request.auth, uid=uid))


def _line(pk: int) -> CommissionLine:
    """The commission line a receipt names, or a refusal on its field."""
    line = CommissionLine.objects.filter(pk=pk).first()
    if line is None:
        raise ServiceError(_("No such commission line."), field="line_id")
    return line


@router.post(
    "/receive",
    response={201: ItemOut},
    auth=api_access(roles=RECEIVERS),
    summary="Receive one item of a commission line",
)
def receive(request, data: ReceiveIn):
    line = _line(data.line_id)
    item = services.item_receive(
        line=line,
        actor=request.auth,
        serial_no=data.serial_no,
        condition=data.condition,
        location=_location(data.location_code),
        promised_date=data.promised_date,
    )
    return Status(201, _item_out(item))


@router.post(
    "/receive/batch",
    response={201: BatchOut},
    auth=api_access(roles=RECEIVERS),
    summary="Receive several identical items of a commission line at once",
)
def receive_batch(request, data: BatchReceiveIn):
    """The items are numbered consecutively; all are received or none (R6.6a)."""
    line = _line(data.line_id)
    items = services.items_receive_batch(
        line=line,
        count=data.count,
        actor=request.auth,
        serial_nos=data.serial_nos,
        condition=data.condition,
        location=_location(data.location_code),
        promised_date=data.promised_date,
    )
    labels = reverse("items:commission_labels", args=[line.commission_id])
    numbers = ",".join(item.number for item in items)
    return Status(
        201,
        {
            "items": [_item_out(item) for item in items],
            "labels_url": f"{labels}?{urlencode({'numbers': numbers})}",
        },
    )


@router.get(
    "/{number}",
    response=ItemDetailOut,
    auth=api_access(roles=ITEM_READERS),
    summary="An item with its custody history, photos, tags and tasks",
)
def item_detail(request, number: str):
    item = selectors.item_get(user=request.auth, number=number)
    lab = selectors.user_sees_all_items(request.auth)
    return {
        **_item_out(item),
        "condition": item.condition,
        "custody": [
            {
                "kind": e.kind,
                "at": e.at,
                "by": str(e.by) if lab else "",
                "location": str(e.location) if e.location else None,
                "collected_by": e.collected_by,
                "note": e.note,
            }
            for e in selectors.custody_history(item)
        ],
        "media": [_media_out(m, lab=lab) for m in item.media.select_related("uploaded_by")],
        "tags": [t.uid for t in item.tags.all()] if lab else [],
        "tasks": [
            {"id": t.pk, "service": t.service, "status": t.status}
            for t in item.tasks.order_by("pk")
        ],
    }


@router.post(
    "/{number}/tags",
    response={201: TagOut},
    auth=api_access(roles=RECEIVERS),
    summary="Bind an RFID / NFC tag (a UID bound elsewhere: 409)",
)
def bind_tag(request, number: str, data: TagIn):
    item = selectors.item_get(user=request.auth, number=number)
    tag = services.item_tag_bind(item=item, uid=data.uid, actor=request.auth)
    return Status(201, _tag_out(tag))


@router.delete(
    "/{number}/tags/{uid}",
    response={204: None},
    auth=api_access(roles=RECEIVERS),
    summary="Unbind a tag from its item",
)
def unbind_tag(request, number: str, uid: str):
    item = selectors.item_get(user=request.auth, number=number)
    tag = selectors.item_tag_get(user=request.auth, uid=uid)
    if tag.item_id != item.pk:
        raise HttpError(404, _("This tag is not bound to this item."))
    services.item_tag_unbind(tag=tag, actor=request.auth)
    return Status(204, None)


@router.post(
    "/{number}/custody",
    response={201: CustodyEventOut},
    auth=api_access(roles=CUSTODIANS),
    summary="Record a custody event (moved, in_testing, awaiting_return, returned, disposed)",
)
def custody(request, number: str, data: CustodyIn):
    item = selectors.item_get(user=request.auth, number=number)
    event = services.item_custody_record(
        item=item,
        kind=data.event,
        actor=request.auth,
        location=_location(data.location_code),
        collected_by=data.collected_by,
        note=data.note,
        reason=data.reason,
    )
    return Status(
        201,
        {
            "kind": event.kind,
            "at": event.at,
            "by": str(event.by),
            "location": str(event.location) if event.location else None,
            "collected_by": event.collected_by,
            "note": event.note,
        },
    )


@router.post(
    "/{number}/media",
    response={201: MediaOut},
    auth=api_access(roles=PHOTOGRAPHERS),
    summary="Add a photo or video (checked by content, size-limited)",
)
def add_media(
    request, number: str, file: File[UploadedFile], caption: str = Form("", max_length=SHORT_TEXT)
):
    item = selectors.item_get(user=request.auth, number=number)
    media = services.item_media_add(item=item, upload=file, actor=request.auth, caption=caption)
    return Status(201, _media_out(media))
