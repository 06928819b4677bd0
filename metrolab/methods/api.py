"""`/api/v1/methods/...`: the methods library (lab staff read; the quality manager and
administrators edit) and deviations (R6.7a-c). Thin: every write is a service of
metrolab.methods.services, every read a selector that knows who asks. Customers reach only
their own organisation's deviations: another's answers 404, as one that does not exist."""

import datetime as dt
from decimal import Decimal

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from metrolab.commissions.models import Discipline
from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.core.service import ServiceError
from metrolab.core.text import NOTE, Code, Name, Note, ShortText, Unit
from metrolab.methods import selectors, services
from metrolab.methods.filters import MethodFilter
from metrolab.methods.models import Deviation, InstrumentCategory, Method
from metrolab.methods.roles import (
    DEVIATION_ACCEPTANCE_RECORDERS,
    DEVIATION_AUTHORISERS,
    DEVIATION_READERS,
    DEVIATION_REQUESTERS,
    DEVIATION_RESPONDENTS,
    METHOD_EDITORS,
    METHOD_READERS,
)

router = Router(tags=["methods"])

READ = api_access(roles=METHOD_READERS)
EDIT = api_access(roles=METHOD_EDITORS)
DEVIATION_READ = api_access(roles=DEVIATION_READERS)
DEVIATION_REQUEST = api_access(roles=DEVIATION_REQUESTERS)
DEVIATION_DECIDE = api_access(roles=DEVIATION_AUTHORISERS)
DEVIATION_RESPOND = api_access(roles=DEVIATION_RESPONDENTS)
DEVIATION_UPLOAD = api_access(roles=DEVIATION_ACCEPTANCE_RECORDERS)


# --- schemas --------------------------------------------------------------------------------


class MethodRef(Schema):
    id: int
    code: str
    year: str
    designation: str
    status: str


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    discipline: str | None


class MethodOut(Schema):
    id: int
    kind: str
    code: str
    year: str
    title: str
    title_en: str
    designation: str
    published_date: dt.date | None
    effective_date: dt.date
    abolished_date: dt.date | None
    superseded_by: MethodRef | None
    status: str
    status_label: str
    current_version: MethodRef | None
    services: list[str]
    disciplines: list[str]
    categories: list[str]
    accuracy_classes: str  # the classes it covers, e.g. "1.0, 1.6, 2.5, 4.0" ("": any)
    range_low: Decimal | None  # the range it covers ("" unit: any)
    range_high: Decimal | None
    range_unit: str
    notes: str
    file_name: str
    file_url: str | None


class MethodIn(Schema):
    """A method. Disciplines by code, categories by code; `superseded_by_id` names the newer
    version. On update (PATCH) every field is optional; fields left out keep their value."""

    kind: Code
    code: Code
    year: Code
    title: ShortText
    title_en: ShortText = ""
    published_date: dt.date | None = None
    effective_date: dt.date | None = None
    abolished_date: dt.date | None = None
    superseded_by_id: int | None = None
    services: list[Code] = []
    disciplines: list[Code] = []
    categories: list[Code] = []
    accuracy_classes: Name = ""
    range_low: Decimal | None = None
    range_high: Decimal | None = None
    range_unit: Unit = ""
    notes: Note = ""


class MethodPatch(Schema):
    kind: Code | None = None
    code: Code | None = None
    year: Code | None = None
    title: ShortText | None = None
    title_en: ShortText | None = None
    published_date: dt.date | None = None
    effective_date: dt.date | None = None
    abolished_date: dt.date | None = None
    superseded_by_id: int | None = None
    services: list[Code] | None = None
    disciplines: list[Code] | None = None
    categories: list[Code] | None = None
    accuracy_classes: Name | None = None
    range_low: Decimal | None = None
    range_high: Decimal | None = None
    range_unit: Unit | None = None
    notes: Note | None = None


class CategoryIn(Schema):
    code: Code
    name: Name
    name_en: Name = ""
    discipline: Code | None = None


class CategoryPatch(Schema):
    code: Code | None = None
    name: Name | None = None
    name_en: Name | None = None
    discipline: Code | None = None


class LineRef(Schema):
    id: int
    commission: str
    customer: str
    instrument_name: str
    serial_no: str
    service: str


class DeviationOut(Schema):
    id: int
    line: LineRef
    method: MethodRef
    description: str
    justification: str
    state: str
    state_label: str
    in_force: bool
    requested_by: str | None
    requested_at: dt.datetime
    authorised_by: str | None
    authorised_at: dt.datetime | None
    decision_note: str
    acceptance: str
    accepted_by: str | None
    accepted_at: dt.datetime | None
    customer_note: str
    file_url: str | None


class DeviationIn(Schema):
    line_id: int
    method_id: int
    description: Note
    justification: Note


class DecisionIn(Schema):
    note: Note = ""


class DeviationFilters(Schema):
    state: str = ""
    method_id: int | None = None
    line_id: int | None = None
    q: str = ""


# --- helpers --------------------------------------------------------------------------------


def _ref(method: Method | None, day: dt.date) -> dict | None:
    if method is None:
        return None
    return {
        "id": method.pk,
        "code": method.code,
        "year": method.year,
        "designation": method.designation,
        "status": method.status_on(day),
    }


def _method_out(method: Method) -> dict:
    day = timezone.localdate()
    status = method.status_on(day)
    return {
        "id": method.pk,
        "kind": method.kind,
        "code": method.code,
        "year": method.year,
        "title": method.title,
        "title_en": method.title_en,
        "designation": method.designation,
        "published_date": method.published_date,
        "effective_date": method.effective_date,
        "abolished_date": method.abolished_date,
        "superseded_by": _ref(method.superseded_by, day),
        "status": status,
        "status_label": str(Method.Status(status).label),
        "current_version": _ref(selectors.method_current_version(method, day), day),
        "services": [s for s in method.services.split(",") if s],
        "disciplines": [d.code for d in method.disciplines.all()],
        "categories": [c.code for c in method.categories.all()],
        "accuracy_classes": method.accuracy_classes,
        "range_low": method.range_low,
        "range_high": method.range_high,
        "range_unit": method.range_unit,
        "notes": method.notes,
        "file_name": method.file_name,
        "file_url": reverse("methods:file", args=[method.pk]) if method.has_file else None,
    }


def _category_out(category: InstrumentCategory) -> dict:
    return {
        "id": category.pk,
        "code": category.code,
        "name": category.name,
        "name_en": category.name_en,
        "discipline": category.discipline.code if category.discipline else None,
    }


def _deviation_out(d: Deviation) -> dict:
    line = d.line
    return {
        "id": d.pk,
        "line": {
            "id": line.pk,
            "commission": line.commission.number,
            "customer": line.commission.customer.name,
            "instrument_name": line.instrument_name,
            "serial_no": line.serial_no,
            "service": line.service,
        },
        "method": _ref(d.method, timezone.localdate()),
        "description": d.description,
        "justification": d.justification,
        "state": d.state,
        "state_label": str(d.get_state_display()),
        "in_force": d.in_force,
        "requested_by": str(d.requested_by) if d.requested_by_id else None,
        "requested_at": d.created_at,
        "authorised_by": str(d.authorised_by) if d.authorised_by_id else None,
        "authorised_at": d.authorised_at,
        "decision_note": d.decision_note,
        "acceptance": d.acceptance,
        "accepted_by": str(d.accepted_by) if d.accepted_by_id else None,
        "accepted_at": d.accepted_at,
        "customer_note": d.customer_note,
        "file_url": reverse("methods:deviation_file", args=[d.pk]) if d.has_file else None,
    }


def _by_codes(model, codes: list[str] | None, field: str) -> list | None:
    """Disciplines / categories named by code; an unknown code is refused."""
    if codes is None:
        return None
    found = {obj.code: obj for obj in model.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ServiceError(_("Unknown code: %s") % ", ".join(unknown), field=field)
    return [found[c] for c in codes]


def _discipline(code: str | None) -> Discipline | None:
    if not code:
        return None
    discipline = Discipline.objects.filter(code=code).first()
    if discipline is None:
        raise ServiceError(_("No such discipline: %s") % code, field="discipline")
    return discipline


def _method_data(payload: dict) -> dict:
    """API fields → the service's data: ids and codes become objects."""
    data = dict(payload)
    if "superseded_by_id" in data:
        pk = data.pop("superseded_by_id")
        successor = None
        if pk is not None:
            successor = Method.objects.filter(pk=pk).first()
            if successor is None:
                raise ServiceError(_("No such method."), field="superseded_by_id")
        data["superseded_by"] = successor
    if "services" in data:
        data["services"] = ",".join(data["services"] or [])
    if "disciplines" in data:
        data["disciplines"] = _by_codes(Discipline, data["disciplines"], "disciplines")
    if "categories" in data:
        data["categories"] = _by_codes(InstrumentCategory, data["categories"], "categories")
    return data


def _method_or_404(pk: int) -> Method:
    method = selectors.method_get(pk)
    if method is None:
        raise Http404
    return method


def _deviation_or_404(request, pk: int) -> Deviation:
    deviation = selectors.deviation_get(user=request.auth, pk=pk)
    if deviation is None:
        raise Http404
    return deviation


# --- instrument categories (fixed paths before /{pk}) ---------------------------------------


@router.get("/categories", response=list[CategoryOut], auth=READ, summary="Instrument categories")
@paginate
def category_list(request, q: str = ""):
    return Mapped(selectors.category_list(search=q), _category_out)


@router.post(
    "/categories",
    response={201: CategoryOut},
    auth=EDIT,
    summary="Add an instrument category (quality manager, admin)",
)
def category_create(request, data: CategoryIn):
    values = data.model_dump()
    values["discipline"] = _discipline(values["discipline"])
    category = services.category_create(data=values, actor=request.auth)
    return Status(201, _category_out(category))


@router.patch(
    "/categories/{pk}",
    response=CategoryOut,
    auth=EDIT,
    summary="Edit an instrument category (quality manager, admin)",
)
def category_update(request, pk: int, data: CategoryPatch):
    category = InstrumentCategory.objects.filter(pk=pk).first()
    if category is None:
        raise Http404
    values = data.model_dump(exclude_unset=True)
    if "discipline" in values:
        values["discipline"] = _discipline(values["discipline"])
    category = services.category_update(category=category, data=values, actor=request.auth)
    return _category_out(category)


# --- deviations -----------------------------------------------------------------------------


@router.get(
    "/deviations",
    response=list[DeviationOut],
    auth=DEVIATION_READ,
    summary="Deviations (customers: their own organisation's)",
)
@paginate
def deviation_list(request, filters: Query[DeviationFilters]):
    method = Method.objects.filter(pk=filters.method_id).first() if filters.method_id else None
    if filters.method_id and method is None:
        return []
    line = None
    if filters.line_id:
        line = selectors.line_get(filters.line_id)
        if line is None:
            return []
    deviations = selectors.deviation_list(
        user=request.auth, state=filters.state, method=method, line=line, search=filters.q
    )
    return Mapped(deviations, _deviation_out)


@router.post(
    "/deviations",
    response={201: DeviationOut},
    auth=DEVIATION_REQUEST,
    summary="Request a deviation for a commission line (never for verification)",
)
def deviation_create(request, data: DeviationIn):
    line = selectors.line_get(data.line_id)
    if line is None:
        raise ServiceError(_("No such commission line."), field="line_id")
    method = Method.objects.filter(pk=data.method_id).first()
    if method is None:
        raise ServiceError(_("No such method."), field="method_id")
    deviation = services.deviation_request(
        line=line,
        method=method,
        description=data.description,
        justification=data.justification,
        actor=request.auth,
    )
    return Status(201, _deviation_out(deviation))


@router.get("/deviations/{pk}", response=DeviationOut, auth=DEVIATION_READ, summary="One deviation")
def deviation_detail(request, pk: int):
    return _deviation_out(_deviation_or_404(request, pk))


@router.post(
    "/deviations/{pk}/authorise",
    response=DeviationOut,
    auth=DEVIATION_DECIDE,
    summary="The technical manager authorises a requested deviation",
)
def deviation_authorise(request, pk: int, data: DecisionIn):
    deviation = services.deviation_authorise(
        deviation=_deviation_or_404(request, pk),
        note=data.note,
        actor=request.auth,
        reason=data.note,
    )
    return _deviation_out(deviation)


@router.post(
    "/deviations/{pk}/refuse",
    response=DeviationOut,
    auth=DEVIATION_DECIDE,
    summary="The technical manager refuses a requested deviation (note required)",
)
def deviation_refuse(request, pk: int, data: DecisionIn):
    deviation = services.deviation_refuse(
        deviation=_deviation_or_404(request, pk),
        note=data.note,
        actor=request.auth,
        reason=data.note,
    )
    return _deviation_out(deviation)


@router.post(
    "/deviations/{pk}/accept",
    response=DeviationOut,
    auth=DEVIATION_RESPOND,
    summary="The customer accepts an authorised deviation",
)
def deviation_accept(request, pk: int, data: DecisionIn):
    deviation = services.deviation_accept(
        deviation=_deviation_or_404(request, pk), note=data.note, actor=request.auth
    )
    return _deviation_out(deviation)


@router.post(
    "/deviations/{pk}/decline",
    response=DeviationOut,
    auth=DEVIATION_RESPOND,
    summary="The customer declines an authorised deviation",
)
def deviation_decline(request, pk: int, data: DecisionIn):
    deviation = services.deviation_decline(
        deviation=_deviation_or_404(request, pk), note=data.note, actor=request.auth
    )
    return _deviation_out(deviation)


@router.post(
    "/deviations/{pk}/acceptance",
    response=DeviationOut,
    auth=DEVIATION_UPLOAD,
    summary="Record the customer's signed acceptance (PDF / JPEG / PNG upload)",
)
def deviation_acceptance(
    request, pk: int, file: File[UploadedFile], note: str = Form("", max_length=NOTE)
):
    deviation = services.deviation_acceptance_upload(
        deviation=_deviation_or_404(request, pk), upload=file, note=note, actor=request.auth
    )
    return _deviation_out(deviation)


# --- methods --------------------------------------------------------------------------------


@router.get(
    "/",
    response=list[MethodOut],
    auth=READ,
    summary="Methods with their status today and current version",
)
@paginate
def method_list(request, filters: Query[MethodFilter]):
    """The filters of the library page (`MethodFilter`)."""
    methods = selectors.method_list(filters).prefetch_related("disciplines", "categories")
    return Mapped(methods, _method_out)


@router.post(
    "/",
    response={201: MethodOut},
    auth=EDIT,
    summary="Add a method (quality manager, admin)",
)
def method_create(request, data: MethodIn):
    method = services.method_create(data=_method_data(data.model_dump()), actor=request.auth)
    return Status(201, _method_out(method))


@router.get("/{pk}", response=MethodOut, auth=READ, summary="One method")
def method_detail(request, pk: int):
    return _method_out(_method_or_404(pk))


@router.patch(
    "/{pk}",
    response=MethodOut,
    auth=EDIT,
    summary="Edit a method (quality manager, admin); fields left out keep their value",
)
def method_update(request, pk: int, data: MethodPatch):
    method = services.method_update(
        method=_method_or_404(pk),
        data=_method_data(data.model_dump(exclude_unset=True)),
        actor=request.auth,
    )
    return _method_out(method)


@router.post(
    "/{pk}/file",
    response=MethodOut,
    auth=EDIT,
    summary="Attach the text of a method (PDF)",
)
def method_file(request, pk: int, file: File[UploadedFile]):
    method = services.method_file_attach(method=_method_or_404(pk), upload=file, actor=request.auth)
    return _method_out(method)
