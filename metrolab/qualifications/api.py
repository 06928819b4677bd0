"""`/api/v1/qualifications/...`: the qualification libraries (R6.8a-c). Every lab staff
member reads the authorised items and the people's qualifications; the quality manager and
the administrator write them. Thin: writes are services of metrolab.qualifications.services,
reads are selectors."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from metrolab.commissions.models import Discipline
from metrolab.core.access import api_access
from metrolab.core.api_contract import Mapped
from metrolab.core.service import ServiceError
from metrolab.core.text import Code, Name, Note, Phone, Reference, ShortText, Unit
from metrolab.equipment.models import MeasurementStandard
from metrolab.methods.models import InstrumentCategory, Method
from metrolab.qualifications import selectors, services
from metrolab.qualifications.models import (
    Authorisation,
    AuthorisedItem,
    PersonnelCertificate,
    TrainingRecord,
)
from metrolab.qualifications.roles import LIBRARY_EDITORS, LIBRARY_READERS

router = Router(tags=["qualifications"])

READ = api_access(roles=LIBRARY_READERS)
EDIT = api_access(roles=LIBRARY_EDITORS)


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


# --- shapes ----


class MethodBrief(Schema):
    id: int
    designation: str
    title: str
    status: str
    url: str


class AuthorisedItemOut(Schema):
    id: int
    code: str
    name: str
    service: str
    measurand: str
    category_id: int
    category: str
    discipline: str | None
    range_low: str | None
    range_high: str | None
    unit: str
    range_text: str
    cmc: str
    cmc_value: str | None
    cmc_unit: str
    methods: list[MethodBrief]
    standard_id: int | None
    standard: str | None
    authorisation_ref: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    valid: bool
    url: str

    @staticmethod
    def resolve_category(item: AuthorisedItem) -> str:
        return str(item.category)

    @staticmethod
    def resolve_discipline(item: AuthorisedItem) -> str | None:
        discipline = item.category.discipline
        return str(discipline) if discipline else None

    @staticmethod
    def resolve_range_low(item: AuthorisedItem) -> str | None:
        return _num(item.range_low)

    @staticmethod
    def resolve_cmc_value(item: AuthorisedItem) -> str | None:
        return _num(item.cmc_value)

    @staticmethod
    def resolve_range_high(item: AuthorisedItem) -> str | None:
        return _num(item.range_high)

    @staticmethod
    def resolve_methods(item: AuthorisedItem) -> list[dict]:
        return [
            {
                "id": m.pk,
                "designation": str(m),
                "title": m.title,
                "status": m.status_on(),
                "url": reverse("methods:detail", args=[m.pk]),
            }
            for m in item.methods.all()
        ]

    @staticmethod
    def resolve_standard(item: AuthorisedItem) -> str | None:
        return str(item.standard) if item.standard_id else None

    @staticmethod
    def resolve_valid(item: AuthorisedItem) -> bool:
        return item.valid_on()

    @staticmethod
    def resolve_url(item: AuthorisedItem) -> str:
        return reverse("qualifications:item_detail", args=[item.pk])


class EquipmentBrief(Schema):
    id: int
    asset_no: str
    name: str
    status: str
    status_colour: str
    calibration_due: dt.date | None
    url: str


class StandardBriefOut(Schema):
    id: int
    name: str
    certificate_no: str
    certificate_expiry: dt.date
    active: bool
    url: str
    equipment: list[EquipmentBrief]


class QualifiedOut(Schema):
    authorisation_id: int
    person_id: int
    name: str
    username: str
    valid_from: dt.date
    valid_until: dt.date | None
    certificate: str | None
    url: str


class AuthorisedItemDetailOut(AuthorisedItemOut):
    standard_detail: StandardBriefOut | None
    qualified: dict[str, list[QualifiedOut]]

    @staticmethod
    def resolve_standard_detail(item: AuthorisedItem) -> dict | None:
        links = selectors.item_links(item)
        standard = links.standard
        if standard is None:
            return None
        return {
            "id": standard.pk,
            "name": standard.name,
            "certificate_no": standard.certificate_no,
            "certificate_expiry": standard.certificate_expiry,
            "active": standard.active,
            "url": reverse("equipment:standard_detail", args=[standard.pk]),
            "equipment": [
                {
                    "id": row.equipment.pk,
                    "asset_no": row.equipment.asset_no,
                    "name": row.equipment.name,
                    "status": row.equipment.status,
                    "status_colour": row.equipment.status_colour,
                    "calibration_due": row.calibration_due,
                    "url": reverse("equipment:detail", args=[row.equipment.pk]),
                }
                for row in links.equipment
            ],
        }

    @staticmethod
    def resolve_qualified(item: AuthorisedItem) -> dict[str, list[dict]]:
        return {
            capacity: [_qualified(a) for a in selectors.qualified_people(item, capacity)]
            for capacity in selectors.CAPACITIES
        }


def _qualified(a: Authorisation) -> dict:
    return {
        "authorisation_id": a.pk,
        "person_id": a.person_id,
        "name": str(a.person),
        "username": a.person.username,
        "valid_from": a.valid_from,
        "valid_until": a.valid_until_effective(),
        "certificate": a.certificate.number if a.certificate else None,
        "url": reverse("qualifications:person", args=[a.person_id]),
    }


class ItemIn(Schema):
    code: Code
    name: Name
    service: Code
    measurand: Name
    category_id: int
    range_low: Decimal | None = None
    range_high: Decimal | None = None
    unit: Unit = ""
    range_text: Name = ""
    cmc: Name
    cmc_value: Annotated[Decimal, Field(ge=0)] | None = None
    cmc_unit: Unit = ""
    method_ids: list[int]
    standard_id: int | None = None
    authorisation_ref: Reference = ""
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


class ItemPatch(Schema):
    code: Code | None = None
    name: Name | None = None
    service: Code | None = None
    measurand: Name | None = None
    category_id: int | None = None
    range_low: Decimal | None = None
    range_high: Decimal | None = None
    unit: Unit | None = None
    range_text: Name | None = None
    cmc: Name | None = None
    cmc_value: Annotated[Decimal, Field(ge=0)] | None = None
    cmc_unit: Unit | None = None
    method_ids: list[int] | None = None
    standard_id: int | None = None
    authorisation_ref: Reference | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


class ItemFilters(Schema):
    q: str = ""
    service: str = ""
    discipline_id: int | None = None
    category_id: int | None = None
    validity: str = ""
    on: dt.date | None = None


class ProfileOut(Schema):
    employee_no: str
    department: str
    title: str
    education: str
    joined: dt.date | None
    phone: str
    notes: str


class ProfileIn(Schema):
    employee_no: Code = ""
    department: Name = ""
    title: Name = ""
    education: Name = ""
    joined: dt.date | None = None
    phone: Phone = ""
    notes: Note = ""


class CertificateOut(Schema):
    id: int
    person_id: int
    kind: str
    kind_label: str
    number: str
    issued_by: str
    issue_date: dt.date
    expiry_date: dt.date | None
    valid: bool
    item_ids: list[int]
    items: list[str]
    file_name: str
    file_url: str | None


class CertificateIn(Schema):
    kind: Code
    number: Reference
    issued_by: Name = ""
    issue_date: dt.date
    expiry_date: dt.date | None = None
    item_ids: list[int] = []


class CertificatePatch(Schema):
    kind: Code | None = None
    number: Reference | None = None
    issued_by: Name | None = None
    issue_date: dt.date | None = None
    expiry_date: dt.date | None = None
    item_ids: list[int] | None = None


class TrainingOut(Schema):
    id: int
    person_id: int
    date: dt.date
    topic: str
    provider: str
    hours: str
    result: str
    item_ids: list[int]


class TrainingIn(Schema):
    date: dt.date
    topic: Name
    provider: Name = ""
    hours: Decimal = Decimal(0)
    result: Name = ""
    item_ids: list[int] = []


class AuthorisationOut(Schema):
    id: int
    person_id: int
    person: str
    item_id: int
    item_code: str
    capacity: str
    certificate_id: int | None
    valid_from: dt.date
    valid_until: dt.date | None
    valid_until_effective: dt.date | None
    valid: bool
    revoked: bool
    revoked_at: dt.datetime | None
    revoke_reason: str
    item_url: str


class AuthorisationIn(Schema):
    person_id: int
    item_id: int
    capacity: Code
    certificate_id: int | None = None
    valid_from: dt.date
    valid_until: dt.date | None = None


class RevokeIn(Schema):
    reason: ShortText


class PersonOut(Schema):
    id: int
    username: str
    name: str
    roles: list[str]
    valid_certificates: int
    valid_authorisations: int
    expiring_soon: int
    url: str

    @staticmethod
    def resolve_name(person) -> str:
        return str(person)

    @staticmethod
    def resolve_roles(person) -> list[str]:
        return sorted(g.name for g in person.groups.all())

    @staticmethod
    def resolve_expiring_soon(person) -> int:
        return person.expiring_certificates + person.expiring_authorisations

    @staticmethod
    def resolve_url(person) -> str:
        return reverse("qualifications:person", args=[person.pk])


class CapabilitiesOut(Schema):
    perform: list[str]
    check: list[str]
    approve: list[str]


class PersonDetailOut(Schema):
    id: int
    username: str
    name: str
    active: bool
    roles: list[str]
    profile: ProfileOut | None
    certificates: list[CertificateOut]
    trainings: list[TrainingOut]
    authorisations: list[AuthorisationOut]
    may_now: CapabilitiesOut
    url: str


class PeopleFilters(Schema):
    q: str = ""
    role: str = ""


# --- conversions ----


def _get(model, pk: int | None, field: str, what: str):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ServiceError(
            _("No %(what)s has the id %(id)s.") % {"what": what, "id": pk}, field=field
        )
    return found


def _many(model, pks: list[int], field: str, what: str) -> list:
    found = {o.pk: o for o in model.objects.filter(pk__in=pks)}
    missing = [pk for pk in pks if pk not in found]
    if missing:
        raise ServiceError(
            _("No %(what)s has the id %(id)s.") % {"what": what, "id": missing[0]}, field=field
        )
    return [found[pk] for pk in dict.fromkeys(pks)]


def _item_data(payload: dict) -> dict:
    """Payload ids → objects, for the item services."""
    data = dict(payload)
    if "category_id" in data:
        data["category"] = _get(
            InstrumentCategory, data.pop("category_id"), "category_id", _("instrument category")
        )
    if "standard_id" in data:
        data["standard"] = _get(
            MeasurementStandard, data.pop("standard_id"), "standard_id", _("measurement standard")
        )
    if "method_ids" in data:
        ids = data.pop("method_ids")
        data["methods"] = _many(Method, ids or [], "method_ids", _("method")) if ids else []
    return data


def _item_detail(pk: int) -> AuthorisedItem:
    return (
        AuthorisedItem.objects.select_related("category__discipline", "standard")
        .prefetch_related("methods")
        .get(pk=pk)
    )


def _certificate_out(c: PersonnelCertificate) -> dict:
    items = list(c.items.all())
    return {
        "id": c.pk,
        "person_id": c.person_id,
        "kind": c.kind,
        "kind_label": str(c.get_kind_display()),
        "number": c.number,
        "issued_by": c.issued_by,
        "issue_date": c.issue_date,
        "expiry_date": c.expiry_date,
        "valid": c.valid_on(),
        "item_ids": [i.pk for i in items],
        "items": [i.code for i in items],
        "file_name": c.file_name,
        "file_url": reverse("qualifications:certificate_file", args=[c.pk]) if c.has_file else None,
    }


def _training_out(t: TrainingRecord) -> dict:
    return {
        "id": t.pk,
        "person_id": t.person_id,
        "date": t.date,
        "topic": t.topic,
        "provider": t.provider,
        "hours": _num(t.hours),
        "result": t.result,
        "item_ids": [i.pk for i in t.items.all()],
    }


def _authorisation_out(a: Authorisation) -> dict:
    return {
        "id": a.pk,
        "person_id": a.person_id,
        "person": str(a.person),
        "item_id": a.item_id,
        "item_code": a.item.code,
        "capacity": a.capacity,
        "certificate_id": a.certificate_id,
        "valid_from": a.valid_from,
        "valid_until": a.valid_until,
        "valid_until_effective": a.valid_until_effective(),
        "valid": a.valid_on(),
        "revoked": a.revoked,
        "revoked_at": a.revoked_at,
        "revoke_reason": a.revoke_reason,
        "item_url": reverse("qualifications:item_detail", args=[a.item_id]),
    }


def _person_detail(person) -> dict:
    profile = selectors.profile_of(person)
    capabilities = selectors.person_capabilities(person)
    authorisations = Authorisation.objects.filter(person=person).select_related(
        "person", "item", "certificate"
    )
    return {
        "id": person.pk,
        "username": person.username,
        "name": str(person),
        "active": person.is_active,
        "roles": sorted(person.groups.values_list("name", flat=True)),
        "profile": ({f: getattr(profile, f) for f in services.PROFILE_FIELDS} if profile else None),
        "certificates": [
            _certificate_out(c)
            for c in person.certificates.prefetch_related("items").order_by("-issue_date", "-pk")
        ],
        "trainings": [_training_out(t) for t in selectors.person_trainings(person)],
        "authorisations": [
            _authorisation_out(a) for a in authorisations.order_by("capacity", "item__code", "pk")
        ],
        "may_now": {c: [i.code for i in capabilities.items(c)] for c in selectors.CAPACITIES},
        "url": reverse("qualifications:person", args=[person.pk]),
    }


# --- authorised items ----


@router.get(
    "/items",
    response=list[AuthorisedItemOut],
    auth=READ,
    summary="Authorised items (validity: valid / expiring / expired / not_yet)",
)
@paginate
def item_list(request, filters: Query[ItemFilters]):
    return selectors.authorised_item_list(
        service=filters.service,
        discipline=_get(Discipline, filters.discipline_id, "discipline_id", _("discipline")),
        category=_get(
            InstrumentCategory, filters.category_id, "category_id", _("instrument category")
        ),
        validity=filters.validity,
        q=filters.q,
        day=filters.on,
    )


@router.post(
    "/items", response={201: AuthorisedItemDetailOut}, auth=EDIT, summary="Add an authorised item"
)
def item_create(request, payload: ItemIn):
    item = services.authorised_item_create(
        data=_item_data(payload.model_dump()), actor=request.auth
    )
    return Status(201, _item_detail(item.pk))


@router.get(
    "/items/{pk}",
    response=AuthorisedItemDetailOut,
    auth=READ,
    summary="An authorised item with its methods, standard, equipment and qualified people",
)
def item_detail(request, pk: int):
    selectors.authorised_item_get(pk)
    return _item_detail(pk)


@router.patch(
    "/items/{pk}", response=AuthorisedItemDetailOut, auth=EDIT, summary="Change an authorised item"
)
def item_update(request, pk: int, payload: ItemPatch):
    item = selectors.authorised_item_get(pk)
    data = _item_data(payload.model_dump(exclude_unset=True))
    services.authorised_item_update(item=item, data=data, actor=request.auth)
    return _item_detail(pk)


@router.get(
    "/items/{pk}/qualified",
    response=list[QualifiedOut],
    auth=READ,
    summary="People authorised for an item in a capacity on a day (default today)",
)
@paginate
def item_qualified(request, pk: int, capacity: str = "perform", on: dt.date | None = None):
    item = selectors.authorised_item_get(pk)
    if capacity not in selectors.CAPACITIES:
        raise ServiceError(_("Choose perform, check or approve."), field="capacity")
    return Mapped(selectors.qualified_people(item, capacity, on), _qualified)


# --- people ----


@router.get("/people", response=list[PersonOut], auth=READ, summary="Lab staff and counts")
@paginate
def people_list(request, filters: Query[PeopleFilters]):
    return selectors.people_list(q=filters.q, role=filters.role)


@router.get(
    "/people/{pk}",
    response=PersonDetailOut,
    auth=READ,
    summary="A person: profile, certificates, training, authorisations",
)
def person_detail(request, pk: int):
    return _person_detail(selectors.person_get(viewer=request.auth, pk=pk))


@router.put(
    "/people/{pk}/profile",
    response=PersonDetailOut,
    auth=EDIT,
    summary="Open or change a person's profile",
)
def profile_save(request, pk: int, payload: ProfileIn):
    person = selectors.person_get(viewer=request.auth, pk=pk)
    services.staff_profile_save(user=person, data=payload.model_dump(), actor=request.auth)
    return _person_detail(person)


@router.post(
    "/people/{pk}/certificates",
    response={201: CertificateOut},
    auth=EDIT,
    summary="Record a person's certificate",
)
def certificate_add(request, pk: int, payload: CertificateIn):
    person = selectors.person_get(viewer=request.auth, pk=pk)
    data = payload.model_dump()
    items = _many(AuthorisedItem, data.pop("item_ids"), "item_ids", _("authorised item"))
    certificate = services.certificate_add(
        person=person, data=data, items=items, actor=request.auth
    )
    return Status(201, _certificate_out(certificate))


@router.patch(
    "/certificates/{pk}", response=CertificateOut, auth=EDIT, summary="Change a certificate"
)
def certificate_update(request, pk: int, payload: CertificatePatch):
    certificate = selectors.certificate_get(viewer=request.auth, pk=pk)
    data = payload.model_dump(exclude_unset=True)
    ids = data.pop("item_ids", None)
    items = None
    if ids is not None:
        items = _many(AuthorisedItem, ids, "item_ids", _("authorised item"))
    certificate = services.certificate_update(
        certificate=certificate, data=data, items=items, actor=request.auth
    )
    return _certificate_out(certificate)


@router.post(
    "/certificates/{pk}/file",
    response=CertificateOut,
    auth=EDIT,
    summary="Attach the scanned certificate (PDF, JPEG, PNG; multipart field “file”)",
)
def certificate_file(request, pk: int, file: File[UploadedFile]):
    certificate = selectors.certificate_get(viewer=request.auth, pk=pk)
    certificate = services.certificate_update(
        certificate=certificate, data={}, upload=file, actor=request.auth
    )
    return _certificate_out(certificate)


@router.post(
    "/people/{pk}/training",
    response={201: TrainingOut},
    auth=EDIT,
    summary="Record a training",
)
def training_add(request, pk: int, payload: TrainingIn):
    person = selectors.person_get(viewer=request.auth, pk=pk)
    data = payload.model_dump()
    items = _many(AuthorisedItem, data.pop("item_ids"), "item_ids", _("authorised item"))
    record = services.training_record_add(person=person, data=data, items=items, actor=request.auth)
    return Status(201, _training_out(record))


# --- authorisations ----


@router.post(
    "/authorisations",
    response={201: AuthorisationOut},
    auth=EDIT,
    summary="Authorise a person to perform, check or approve an item",
)
def authorisation_grant(request, payload: AuthorisationIn):
    from metrolab.core.models import User

    try:
        authorisation = services.authorisation_grant(
            person=_get(User, payload.person_id, "person_id", _("person")),
            item=_get(AuthorisedItem, payload.item_id, "item_id", _("authorised item")),
            capacity=payload.capacity,
            certificate=_get(
                PersonnelCertificate, payload.certificate_id, "certificate_id", _("certificate")
            ),
            valid_from=payload.valid_from,
            valid_until=payload.valid_until,
            actor=request.auth,
        )
    except ServiceError as exc:
        # Name the payload's field ("person_id"), not the service's argument ("person").
        renamed = {name: f"{name}_id" for name in ("person", "item", "certificate")}
        exc.field = renamed.get(exc.field, exc.field)
        exc.errors = {renamed.get(name, name): errors for name, errors in exc.errors.items()}
        raise
    return Status(201, _authorisation_out(authorisation))


@router.post(
    "/authorisations/{pk}/revoke",
    response=AuthorisationOut,
    auth=EDIT,
    summary="Revoke an authorisation, saying why",
)
def authorisation_revoke(request, pk: int, payload: RevokeIn):
    authorisation = services.authorisation_revoke(
        authorisation=selectors.authorisation_get(pk), reason=payload.reason, actor=request.auth
    )
    return _authorisation_out(authorisation)
