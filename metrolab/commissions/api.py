"""`/api/v1/commissions/...`: commissions for the lab and for customers' systems (R9.1), and
the public status query (R6.1b). Customers reach only their own organisation's commissions:
another's answers 404, exactly as one that does not exist."""

import datetime as dt
from decimal import Decimal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from metrolab.commissions import quote as quoting
from metrolab.commissions import selectors, services
from metrolab.commissions.filters import CommissionFilter
from metrolab.commissions.models import AppointmentSlot, Commission
from metrolab.commissions.roles import (
    ARRIVAL_READERS,
    COMMISSION_CANCELLERS,
    COMMISSION_CREATORS,
    COMMISSION_READERS,
    COMMISSION_REVIEWERS,
)
from metrolab.commissions.throttle import status_query_allowed
from metrolab.core.access import api_access, public_api
from metrolab.core.api_contract import Mapped
from metrolab.core.middleware import client_ip
from metrolab.core.roles import CUSTOMER
from metrolab.core.service import ServiceError
from metrolab.core.text import Code, Name, Note, Reference, ShortText
from metrolab.customers.models import Contact
from metrolab.customers.selectors import customer_get, is_lab_staff, portal_customer

router = Router(tags=["commissions"])

READ = api_access(roles=COMMISSION_READERS)
CREATE = api_access(roles=[*COMMISSION_CREATORS, CUSTOMER])
REVIEW = api_access(roles=COMMISSION_REVIEWERS)
CANCEL = api_access(roles=[*COMMISSION_CANCELLERS, CUSTOMER])
ARRIVALS = api_access(roles=ARRIVAL_READERS)


# --- schemas --------------------------------------------------------------------------------


class LineIn(Schema):
    instrument_name: Name
    model_range: Name = ""
    accuracy_class: Name = ""
    serial_no: Reference = ""
    manufacturer: Name = ""
    quantity: int = 1
    service: Code
    requested_method: Name = ""
    requirements: Note = ""
    promised_date: dt.date | None = None
    price_entry_id: int | None = None


class CommissionIn(Schema):
    """Lab: `customer_id` required, `channel` desk (default) or onsite, `slot_id` optional.
    Customers: their own organisation (customer_id may be left out), channel portal, `slot_id`
    required (a slot with places left: GET /slots)."""

    customer_id: int | None = None
    channel: Code | None = None
    contact_id: int | None = None
    slot_id: int | None = None
    promised_date: dt.date | None = None
    requirements: Note = ""
    lines: list[LineIn]


class QuoteIn(Schema):
    slot_id: int | None = None
    lines: list[LineIn]


class LinePriceIn(Schema):
    """The price of one line confirmed at contract review: a price-list entry (its price) or
    a unit price set by hand, with the reason."""

    line_id: int
    price_entry_id: int | None = None
    unit_price: Decimal | None = None
    reason: ShortText = ""


class ContractReviewIn(Schema):
    """Accepting confirms the quote: `prices` confirms or sets the price of lines; a line not
    named keeps its price-list price (a line without one must be named)."""

    decision: Code  # "accepted" or "rejected"
    note: Note = ""
    prices: list[LinePriceIn] = []


class CancelIn(Schema):
    reason: ShortText


class NamedOut(Schema):
    id: int
    name: str


class CustomerRefOut(Schema):
    id: int
    code: str
    name: str


class DisciplineOut(Schema):
    code: str
    name: str


class SlotOut(Schema):
    id: int
    date: dt.date
    period: str
    discipline: DisciplineOut
    capacity: int
    remaining: int | None = None


class NodeOut(Schema):
    status: str
    label: str
    at: dt.datetime | None


class LineOut(Schema):
    id: int | None = None
    instrument_name: str
    model_range: str
    accuracy_class: str
    serial_no: str
    manufacturer: str
    quantity: int
    service: str
    requested_method: str
    requirements: str
    promised_date: dt.date | None
    price_entry_id: int | None
    unit_price: Decimal
    amount: Decimal
    price_confirmed: bool = False
    price_note: str = ""
    instrument_id: int | None = None


class CommissionOut(Schema):
    id: int
    number: str
    customer: CustomerRefOut
    contact: NamedOut | None
    channel: str
    status: str
    review: str
    review_note: str
    reviewed_at: dt.datetime | None
    slot: SlotOut | None
    query_code: str
    promised_date: dt.date | None
    requirements: str
    quote_total: Decimal
    created_at: dt.datetime


class CommissionDetailOut(CommissionOut):
    lines: list[LineOut]
    nodes: list[NodeOut]


class QuoteOut(Schema):
    lines: list[LineOut]
    total: Decimal
    complete: bool


class PublicItemOut(Schema):
    number: str
    name: str
    state: str
    state_label: str


class PublicStatusOut(Schema):
    number: str
    status: str
    status_label: str
    expected_completion: dt.date | None  # the promised delivery date, when set
    nodes: list[NodeOut]
    items: list[PublicItemOut]


# --- helpers --------------------------------------------------------------------------------


def _slot_out(slot: AppointmentSlot | None) -> dict | None:
    if slot is None:
        return None
    return {
        "id": slot.pk,
        "date": slot.date,
        "period": slot.period,
        "discipline": {"code": slot.discipline.code, "name": slot.discipline.name},
        "capacity": slot.capacity,
        "remaining": getattr(slot, "remaining", None),
    }


def _commission_out(c: Commission) -> dict:
    return {
        "id": c.pk,
        "number": c.number,
        "customer": {"id": c.customer_id, "code": c.customer.code, "name": c.customer.name},
        "contact": {"id": c.contact.pk, "name": c.contact.name} if c.contact else None,
        "channel": c.channel,
        "status": c.status,
        "review": c.review,
        "review_note": c.review_note,
        "reviewed_at": c.reviewed_at,
        "slot": _slot_out(c.slot),
        "query_code": c.query_code,
        "promised_date": c.promised_date,
        "requirements": c.requirements,
        "quote_total": c.quote_total,
        "created_at": c.created_at,
    }


def _detail_out(c: Commission) -> dict:
    lines = [
        {
            "id": line.pk,
            **{f: getattr(line, f) for f in quoting.TEXT_FIELDS},
            "quantity": line.quantity,
            "service": line.service,
            "promised_date": line.promised_date,
            "price_entry_id": line.price_entry_id,
            "unit_price": line.unit_price,
            "amount": line.amount,
            "price_confirmed": line.price_confirmed,
            "price_note": line.price_note,
            "instrument_id": line.instrument_id,
        }
        for line in c.lines.all()
    ]
    nodes = [
        {"status": n.status, "label": n.label, "at": n.at} for n in selectors.commission_timeline(c)
    ]
    return {**_commission_out(c), "lines": lines, "nodes": nodes}


def _lines_in(lines: list[LineIn]) -> list[dict]:
    values = []
    for line in lines:
        data = line.model_dump()
        data["price_entry"] = data.pop("price_entry_id")
        values.append(data)
    return values


def _get_or_404(request, pk: int) -> Commission:
    commission = selectors.commission_get(user=request.auth, pk=pk)
    if commission is None:
        raise Http404
    return commission


def _slot(slot_id: int | None) -> AppointmentSlot | None:
    if slot_id is None:
        return None
    slot = AppointmentSlot.objects.select_related("discipline").filter(pk=slot_id).first()
    if slot is None:
        raise ServiceError(_("No such appointment slot."), field="slot_id")
    return slot


# --- operations -----------------------------------------------------------------------------


# Mounted at /api/v1/public/ (config/api.py): the self-service query of R9.1, no sign-in.
public_router = Router(tags=["public"])


@public_router.get(
    "/commissions/{number}/status",
    response=PublicStatusOut,
    summary="Public status query: the nodes a commission reached (number + query code)",
    **public_api(),
)
def public_status(request, number: str, code: str = ""):
    """R6.1b, R9.1: the status nodes with their times, the expected completion date and each
    item's state (number, name, state), nothing else. A wrong number and a wrong code get the
    same 404; each client address may ask a few times a minute (429)."""
    if not status_query_allowed(client_ip(request)):
        raise HttpError(429, _("Too many queries from your address. Wait a minute and try again."))
    found = selectors.commission_public_status(number, code)
    if found is None:
        raise HttpError(404, _("No commission matches this number and query code."))
    commission, nodes = found
    return {
        "number": commission.number,
        "status": commission.status,
        "status_label": str(commission.get_status_display()),
        "expected_completion": selectors.commission_expected_date(commission),
        "nodes": [{"status": n.status, "label": n.label, "at": n.at} for n in nodes],
        "items": [vars(i) for i in selectors.commission_public_items(commission)],
    }


@router.get(
    "/slots", response=list[SlotOut], auth=READ, summary="Appointment slots with places left"
)
@paginate
def slots(request, discipline: str = "", days: int = selectors.SLOT_DAYS_AHEAD):
    found = selectors.slot_list_available(days=max(1, min(days, 366)))
    if discipline:
        found = [s for s in found if s.discipline.code == discipline]
    return Mapped(found, _slot_out)


@router.get(
    "/arrivals",
    response=list[CommissionOut],
    auth=ARRIVALS,
    summary="Commissions booked for a day (default today)",
)
@paginate
def arrivals(request, day: dt.date | None = None):
    return Mapped(selectors.arrivals(day=day), _commission_out)


@router.post("/quote", response=QuoteOut, auth=CREATE, summary="Price lines (nothing is saved)")
def quote(request, data: QuoteIn):
    slot = _slot(data.slot_id)
    priced = quoting.quote(
        quoting.lines_checked(_lines_in(data.lines)), slot.discipline if slot else None
    )
    lines = [
        {
            **{k: v for k, v in line.values.items() if k != "price_entry"},
            "price_entry_id": line.price_entry.pk if line.price_entry else None,
            "unit_price": line.unit_price,
            "amount": line.amount,
        }
        for line in priced.lines
    ]
    return {"lines": lines, "total": priced.total, "complete": priced.complete}


@router.get("/", response=list[CommissionOut], auth=READ, summary="Commissions (customers: own)")
@paginate
def commission_list(request, filters: Query[CommissionFilter]):
    """The filters of the commission list page (`CommissionFilter`); a customer that is not
    visible to the caller has no commissions here."""
    return selectors.commission_list(user=request.auth, filters=filters)


@router.post(
    "/",
    response={201: CommissionDetailOut},
    auth=CREATE,
    summary="Create a commission (lab: desk / on site; customer: online with a slot)",
)
def commission_create(request, data: CommissionIn):
    user = request.auth
    if is_lab_staff(user):
        if data.customer_id is None:
            raise ServiceError(_("Name the customer."), field="customer_id")
        customer = customer_get(user=user, pk=data.customer_id)
        if customer is None:
            raise ServiceError(_("No such customer."), field="customer_id")
        channel = data.channel or Commission.Channel.DESK
    else:
        customer = portal_customer(user)
        if customer is None or data.customer_id not in (None, customer.pk):
            raise Http404
        channel = data.channel or Commission.Channel.PORTAL
    contact = None
    if data.contact_id is not None:
        contact = Contact.objects.filter(pk=data.contact_id, customer=customer).first()
        if contact is None:
            raise ServiceError(_("No such contact at this customer."), field="contact_id")
    commission = services.commission_create(
        customer=customer,
        lines=_lines_in(data.lines),
        channel=channel,
        contact=contact,
        slot=_slot(data.slot_id),
        promised_date=data.promised_date,
        requirements=data.requirements,
        actor=user,
    )
    return Status(201, _detail_out(commission))


@router.get("/{pk}", response=CommissionDetailOut, auth=READ, summary="One commission")
def commission_detail(request, pk: int):
    return _detail_out(_get_or_404(request, pk))


@router.post(
    "/{pk}/review",
    response=CommissionDetailOut,
    auth=REVIEW,
    summary="Contract review: accept (with conditions) or reject (with the reason)",
)
def commission_review(request, pk: int, data: ContractReviewIn):
    commission = services.commission_review(
        commission=_get_or_404(request, pk),
        decision=data.decision,
        note=data.note,
        prices=[
            {
                "line": p.line_id,
                "price_entry": p.price_entry_id,
                "unit_price": p.unit_price,
                "reason": p.reason,
            }
            for p in data.prices
        ],
        actor=request.auth,
        reason=data.note,
    )
    return _detail_out(commission)


@router.post(
    "/{pk}/cancel",
    response=CommissionDetailOut,
    auth=CANCEL,
    summary="Cancel before any item is received (customers: their own)",
)
def commission_cancel(request, pk: int, data: CancelIn):
    commission = services.commission_cancel(
        commission=_get_or_404(request, pk), reason=data.reason, actor=request.auth
    )
    return _detail_out(commission)
