"""`/api/v1/customers/...`: customer organisations and their instrument register (R9.1).
A customer's system sees only its own organisation: another's answers 404, exactly as one that
does not exist."""

import datetime as dt
from decimal import Decimal

from django.http import Http404
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from metrolab.core.access import api_access
from metrolab.core.roles import CUSTOMER
from metrolab.core.text import Code, Name, Note, ShortText
from metrolab.customers import selectors, services
from metrolab.customers.filters import CustomerFilter, InstrumentFilter
from metrolab.customers.roles import CUSTOMER_EDITORS, CUSTOMER_READERS, INSTRUMENT_READERS

router = Router(tags=["customers"])

READ = api_access(roles=[*CUSTOMER_READERS, CUSTOMER])
EDIT = api_access(roles=CUSTOMER_EDITORS)
INSTRUMENTS = api_access(roles=INSTRUMENT_READERS)


class CustomerOut(Schema):
    id: int
    code: str
    name: str
    credit_code: str
    address: str
    settlement: str
    active: bool


class ContactOut(Schema):
    id: int
    name: str
    phone: str
    email: str
    wechat_id: str
    is_primary: bool
    notify_sms: bool
    notify_email: bool
    notify_wechat: bool


class CustomerDetailOut(CustomerOut):
    contacts: list[ContactOut]


class CustomerIn(Schema):
    code: Code
    name: Name
    credit_code: Code = ""
    address: ShortText = ""
    settlement: Code = "cash"
    credit_limit: Decimal = Decimal("0")
    notes: Note = ""


class InstrumentOut(Schema):
    id: int
    customer_id: int
    name: str
    model_range: str
    accuracy_class: str
    serial_no: str
    manufacturer: str
    last_service_date: dt.date | None
    next_due_date: dt.date | None


def _detail(customer) -> dict:
    return {
        **{f: getattr(customer, f) for f in CustomerOut.model_fields},
        "contacts": list(selectors.contact_list(customer)),
    }


@router.get(
    "/instruments",
    response=list[InstrumentOut],
    auth=INSTRUMENTS,
    summary="Instrument register (due=true: due within 30 days or overdue)",
)
@paginate
def instrument_list(request, filters: Query[InstrumentFilter]):
    """The filters of the register's page (`InstrumentFilter`); a customer not visible to
    the caller: 404."""
    for pk in (filters.customer_id, filters.customer):
        if pk is not None and selectors.customer_get(user=request.auth, pk=pk) is None:
            raise Http404
    return selectors.instrument_list(user=request.auth, filters=filters)


@router.get("/", response=list[CustomerOut], auth=READ, summary="Customers (customers: own)")
@paginate
def customer_list(request, filters: Query[CustomerFilter]):
    """The filter of the customer list page (`CustomerFilter`)."""
    return selectors.customer_list(user=request.auth, filters=filters)


@router.post("/", response={201: CustomerDetailOut}, auth=EDIT, summary="Register a customer")
def customer_create(request, data: CustomerIn):
    customer = services.customer_create(data=data.model_dump(), actor=request.auth)
    return Status(201, _detail(customer))


@router.get("/{pk}", response=CustomerDetailOut, auth=READ, summary="One customer and contacts")
def customer_detail(request, pk: int):
    customer = selectors.customer_get(user=request.auth, pk=pk)
    if customer is None:
        raise Http404
    return _detail(customer)
