"""Writes of the qualification libraries (R6.8a-c): authorised items (the lab's scope), staff
profiles, personnel certificates, training records, and the authorisations that say who may
perform, check and approve each item.

Every function here is a service (metrolab.core.service): one transaction, audited with the
actor and reason, and a refusal (ServiceError naming the field at fault) leaves nothing
written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.commissions.choices import Service
from metrolab.core import permissions
from metrolab.core.documents import document_store
from metrolab.core.errors import CoreRefusal
from metrolab.core.roles import LAB_STAFF, ROLES
from metrolab.core.service import ServiceError, service
from metrolab.core.text import field_checked
from metrolab.core.validation import validated
from metrolab.methods.models import Method
from metrolab.qualifications.errors import QualificationRefusal
from metrolab.qualifications.models import (
    Authorisation,
    AuthorisedItem,
    PersonnelCertificate,
    StaffProfile,
    TrainingRecord,
)
from metrolab.qualifications.roles import CAPACITY_ROLES

ITEM_FIELDS = (
    "code",
    "name",
    "service",
    "measurand",
    "category",
    "range_low",
    "range_high",
    "unit",
    "range_text",
    "cmc",
    "cmc_value",
    "cmc_unit",
    "standard",
    "authorisation_ref",
    "valid_from",
    "valid_until",
)
PROFILE_FIELDS = ("employee_no", "department", "title", "education", "joined", "phone", "notes")
CERTIFICATE_FIELDS = ("kind", "number", "issued_by", "issue_date", "expiry_date")
TRAINING_FIELDS = ("date", "topic", "provider", "hours", "result")


# --- shared checks ----


def _assign(instance: Model, data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Copy `data` onto the instance (strings stripped); unknown fields are refused."""
    unknown = set(data) - set(allowed)
    if unknown:
        name = sorted(unknown)[0]
        raise ServiceError(_("Unknown field: %s") % ", ".join(sorted(unknown)), field=name)
    for name, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(instance, name, value)


def _validate(instance: Model, exclude: tuple[str, ...] = ()) -> None:
    """The model's own validation (required fields, lengths, choices, uniqueness): every
    field at fault at once, a single one named by its label (core.validation)."""
    validated(instance, exclude=list(exclude) or None, labelled=True)


def _dates_ordered(start: dt.date | None, end: dt.date | None, *, field: str) -> None:
    if start is not None and end is not None and end < start:
        raise ServiceError(
            _("The end date (%(end)s) is before the start date (%(start)s).")
            % {"end": end.isoformat(), "start": start.isoformat()},
            field=field,
        )


def _number(value: Decimal) -> str:
    """A decimal as people write it: 0.600000000 → 0.6."""
    text = format(value.normalize(), "f")
    return text


def is_lab_staff_member(person: Any) -> bool:
    """Whether `person` holds one of the lab's own roles (active or not)."""
    return person is not None and bool(set(person.role_codes) & set(LAB_STAFF))


def _require_staff_member(person: Any, field: str = "person") -> None:
    if not is_lab_staff_member(person):
        raise ServiceError(
            _("%(name)s is not a member of the lab staff.") % {"name": person or "?"},
            field=field,
        )


# --- authorised items (scope) ----


# The kinds of method an item's service may be done under (R6.7a-b; the guide's 6.7 a-b): a
# verification (检定) under a verification regulation (JJG: national, departmental or local);
# a calibration (校准) under a calibration specification (JJF), a published national,
# international or regional standard or technical specification (GB, GB/T, ISO, IEC, other
# published documents such as OIML or EURAMET guides), or the corresponding verification
# regulation (JJG). An in-house method (作业指导书) only details how the lab applies one of
# them: it may be listed beside, never alone. Testing and inspection have no such rule here.
BASIS_KINDS: dict[str, tuple[str, ...]] = {
    Service.VERIFICATION: (Method.Kind.JJG,),
    Service.CALIBRATION: (
        Method.Kind.JJF,
        Method.Kind.GB,
        Method.Kind.GBT,
        Method.Kind.ISO,
        Method.Kind.IEC,
        Method.Kind.OTHER,
        Method.Kind.JJG,
    ),
}
SUPPLEMENT_KINDS: tuple[str, ...] = (Method.Kind.INHOUSE,)


def _basis_label(service: str) -> str:
    if service == Service.VERIFICATION:
        return _("a verification regulation (JJG)")
    return _(
        "a calibration specification (JJF), a published standard or technical specification "
        "(GB, GB/T, ISO, IEC, other), or a verification regulation (JJG)"
    )


def _methods_fit_service(service: str, methods: list) -> None:
    """Every method of the item is of a kind its service may be done under, or an in-house
    method beside one that is (BASIS_KINDS)."""
    basis = BASIS_KINDS.get(service)
    if basis is None:
        return
    for method in methods:
        if method.kind not in basis and method.kind not in SUPPLEMENT_KINDS:
            raise ServiceError(
                _("A %(service)s is done under %(basis)s, not under %(method)s (%(kind)s).")
                % {
                    "service": Service(service).label,
                    "basis": _basis_label(service),
                    "method": method,
                    "kind": method.get_kind_display(),
                },
                code=QualificationRefusal.METHOD_KIND_UNFIT,
                field="methods",
            )
    if not any(method.kind in basis for method in methods):
        raise ServiceError(
            _(
                "Name %(basis)s this item is done under: an in-house method only details how "
                "the lab applies one."
            )
            % {"basis": _basis_label(service)},
            code=QualificationRefusal.METHOD_KIND_UNFIT,
            field="methods",
        )


def _check_item(item: AuthorisedItem, methods: list) -> None:
    """The rules of an authorised item beyond the model's: a coherent range with its unit, at
    least one method, each of a kind fit for the item's service, validity dates in order."""
    _validate(item)
    low, high = item.range_low, item.range_high
    if (low is not None or high is not None) and not item.unit:
        raise ServiceError(_("Give the unit of the range."), field="unit")
    if low is not None and high is not None and low >= high:
        raise ServiceError(
            _("The range must go from a lower to a higher value (%(low)s is not below %(high)s).")
            % {"low": _number(low), "high": _number(high)},
            field="range_high",
        )
    if not methods:
        raise ServiceError(_("Name at least one method this item is done with."), field="methods")
    _methods_fit_service(item.service, methods)
    _dates_ordered(item.valid_from, item.valid_until, field="valid_until")


@service("authorised_item.create")
def authorised_item_create(*, data: dict[str, Any], actor: Any, reason: str = "") -> AuthorisedItem:
    """Add an item to the lab's authorised scope (R6.8a): service, measurand, instrument
    category, range, best uncertainty (CMC), methods, measurement standard and validity.
    `data["methods"]` is an iterable of Method."""
    data = dict(data)
    methods = list(data.pop("methods", None) or [])
    item = AuthorisedItem()
    _assign(item, data, ITEM_FIELDS)
    _check_item(item, methods)
    item.save()
    item.methods.set(methods)
    return item


@service("authorised_item.update")
def authorised_item_update(
    *, item: AuthorisedItem, data: dict[str, Any], actor: Any, reason: str = ""
) -> AuthorisedItem:
    """Change an authorised item (R6.8a); fields not named keep their value, and so do its
    methods unless `data["methods"]` is given."""
    data = dict(data)
    item = AuthorisedItem.objects.select_for_update().get(pk=item.pk)
    new_methods = data.pop("methods", None)
    methods = list(new_methods) if new_methods is not None else list(item.methods.all())
    _assign(item, data, ITEM_FIELDS)
    _check_item(item, methods)
    item.save()
    if new_methods is not None and {m.pk for m in methods} != set(
        item.methods.values_list("pk", flat=True)
    ):
        item.methods.set(methods)
    return item


# --- staff profiles ----


@service("staff_profile.create")
def staff_profile_create(
    *, user: Any, data: dict[str, Any], actor: Any, reason: str = ""
) -> StaffProfile:
    """Open the profile (人员档案) of a lab staff member (R6.8c)."""
    _require_staff_member(user, field="user")
    if StaffProfile.objects.filter(user=user).exists():
        raise ServiceError(
            _("%(name)s has a profile already.") % {"name": user},
            code=CoreRefusal.CONFLICT,
            field="user",
        )
    profile = StaffProfile(user=user)
    _assign(profile, data, PROFILE_FIELDS)
    _validate(profile, exclude=("user",))
    profile.save()
    return profile


@service("staff_profile.update")
def staff_profile_update(
    *, profile: StaffProfile, data: dict[str, Any], actor: Any, reason: str = ""
) -> StaffProfile:
    """Change a staff member's profile; fields not named keep their value."""
    profile = StaffProfile.objects.select_for_update().get(pk=profile.pk)
    _assign(profile, data, PROFILE_FIELDS)
    _validate(profile, exclude=("user",))
    profile.save()
    return profile


def staff_profile_save(
    *, user: Any, data: dict[str, Any], actor: Any, reason: str = ""
) -> StaffProfile:
    """Create the person's profile, or update it when they have one (for the profile form)."""
    profile = StaffProfile.objects.filter(user=user).first()
    if profile is None:
        return staff_profile_create(user=user, data=data, actor=actor, reason=reason)
    return staff_profile_update(profile=profile, data=data, actor=actor, reason=reason)


# --- personnel certificates ----


def _check_certificate(certificate: PersonnelCertificate) -> None:
    _validate(certificate, exclude=("person", "file_sha256", "file_name", "file_type"))
    _dates_ordered(certificate.issue_date, certificate.expiry_date, field="expiry_date")
    duplicate = PersonnelCertificate.objects.filter(
        kind=certificate.kind, number__iexact=certificate.number
    ).exclude(pk=certificate.pk)
    if duplicate.exists():
        raise ServiceError(
            _("A %(kind)s certificate no. %(number)s is recorded already.")
            % {"kind": certificate.get_kind_display(), "number": certificate.number},
            code=CoreRefusal.CONFLICT,
            field="number",
        )


@service("personnel_certificate.add")
def certificate_add(
    *,
    person: Any,
    data: dict[str, Any],
    items: Iterable[AuthorisedItem] = (),
    upload: Any = None,
    actor: Any,
    reason: str = "",
) -> PersonnelCertificate:
    """Record a person's certificate (注册计量师证, 检定员证, 校准人员能力证明, ...): kind,
    number, issuer, issue and expiry dates, the authorised items it covers, and optionally
    the scanned certificate (PDF / JPEG / PNG, kept by its SHA-256) (R6.8c)."""
    _require_staff_member(person)
    certificate = PersonnelCertificate(person=person)
    _assign(certificate, data, CERTIFICATE_FIELDS)
    _check_certificate(certificate)
    if upload is not None:
        certificate.attach(document_store(upload))
    certificate.save()
    certificate.items.set(list(items))
    return certificate


@service("personnel_certificate.update")
def certificate_update(
    *,
    certificate: PersonnelCertificate,
    data: dict[str, Any],
    items: Iterable[AuthorisedItem] | None = None,
    upload: Any = None,
    actor: Any,
    reason: str = "",
) -> PersonnelCertificate:
    """Correct or renew a certificate's details, items or file; what is not given stays. A
    new expiry date also moves the end of the authorisations granted on its basis."""
    certificate = PersonnelCertificate.objects.select_for_update().get(pk=certificate.pk)
    _assign(certificate, data, CERTIFICATE_FIELDS)
    _check_certificate(certificate)
    if upload is not None:
        certificate.attach(document_store(upload))
    certificate.save()
    if items is not None:
        items = list(items)
        if {i.pk for i in items} != set(certificate.items.values_list("pk", flat=True)):
            certificate.items.set(items)
    return certificate


# --- training ----


@service("training_record.add")
def training_record_add(
    *,
    person: Any,
    data: dict[str, Any],
    items: Iterable[AuthorisedItem] = (),
    actor: Any,
    reason: str = "",
) -> TrainingRecord:
    """Record a training a lab staff member attended (培训记录), with the items it relates
    to (R6.8c)."""
    _require_staff_member(person)
    data = dict(data)
    if data.get("hours") is None:
        data["hours"] = Decimal(0)
    record = TrainingRecord(person=person)
    _assign(record, data, TRAINING_FIELDS)
    _validate(record, exclude=("person",))
    if record.hours < 0:
        raise ServiceError(_("The hours of a training cannot be negative."), field="hours")
    record.save()
    record.items.set(list(items))
    return record


# --- authorisations ----


def _role_labels(codes: tuple[str, ...]) -> str:
    return " / ".join(str(ROLES[c].label) for c in codes)


def capacity_label(capacity: str) -> str:
    return str(Authorisation.Capacity(capacity).label)


def authorisation_problem(
    *,
    person: Any,
    item: AuthorisedItem,
    capacity: str,
    valid_from: dt.date | None,
    valid_until: dt.date | None = None,
    certificate: PersonnelCertificate | None = None,
    exclude_pk: int | None = None,
    granted_by: Any = None,
) -> ServiceError | None:
    """Why this authorisation may not be granted (None: it may)."""
    if capacity not in Authorisation.Capacity.values:
        return ServiceError(_("Choose perform, check or approve."), field="capacity")
    if person is None:
        return ServiceError(_("Choose a person."), field="person")
    if not person.is_active or not is_lab_staff_member(person):
        return ServiceError(
            _("%(name)s is not an active member of the lab staff and cannot be authorised.")
            % {"name": person},
            code=QualificationRefusal.NOT_STAFF,
            field="person",
        )
    fit = CAPACITY_ROLES[capacity]
    if not set(person.role_codes) & set(fit):
        return ServiceError(
            _(
                "%(name)s cannot be authorised to %(capacity)s: that needs the role "
                "%(roles)s, which they do not hold."
            )
            % {"name": person, "capacity": capacity_label(capacity), "roles": _role_labels(fit)},
            code=QualificationRefusal.ROLE_UNFIT,
            field="person",
        )
    if granted_by is not None and granted_by.pk == person.pk:
        return ServiceError(
            _(
                "Nobody may grant an authorisation to themselves: another quality manager or "
                "an administrator must authorise %(name)s."
            )
            % {"name": person},
            code=QualificationRefusal.SELF_GRANT,
            field="person",
        )
    if item is None:
        return ServiceError(_("Choose the authorised item."), field="item")
    if valid_from is None:
        return ServiceError(_("Give the day the authorisation starts."), field="valid_from")
    if valid_until is not None and valid_until < valid_from:
        return ServiceError(
            _("The end date (%(end)s) is before the start date (%(start)s).")
            % {"end": valid_until.isoformat(), "start": valid_from.isoformat()},
            field="valid_until",
        )
    if item.valid_until is not None and item.valid_until < valid_from:
        return ServiceError(
            _("Authorised item %(code)s is valid only until %(date)s, before this starts.")
            % {"code": item.code, "date": item.valid_until.isoformat()},
            code=QualificationRefusal.ITEM_EXPIRED,
            field="valid_from",
        )
    if certificate is not None:
        if certificate.person_id != person.pk:
            return ServiceError(
                _("Certificate %(number)s belongs to %(owner)s, not to %(name)s.")
                % {"number": certificate.number, "owner": certificate.person, "name": person},
                code=QualificationRefusal.CERTIFICATE_OF_ANOTHER,
                field="certificate",
            )
        if certificate.expiry_date is not None and certificate.expiry_date < valid_from:
            return ServiceError(
                _("Certificate %(number)s expired on %(date)s, before this authorisation starts.")
                % {"number": certificate.number, "date": certificate.expiry_date.isoformat()},
                code=QualificationRefusal.CERTIFICATE_EXPIRED,
                field="certificate",
            )
    overlapping = Authorisation.objects.select_related("certificate").filter(
        person=person, item=item, capacity=capacity, revoked=False
    )
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    if valid_until is not None:
        overlapping = overlapping.filter(valid_from__lte=valid_until)
    for other in overlapping:
        end = other.valid_until_effective()
        if end is None or end >= valid_from:
            return ServiceError(
                _(
                    "%(name)s is already authorised to %(capacity)s %(code)s from %(start)s "
                    "until %(end)s; revoke that authorisation or start this one after it ends."
                )
                % {
                    "name": person,
                    "capacity": capacity_label(capacity),
                    "code": item.code,
                    "start": other.valid_from.isoformat(),
                    "end": end.isoformat() if end else "—",
                },
                code=CoreRefusal.CONFLICT,
                field="valid_from",
            )
    return None


@service("authorisation.grant")
def authorisation_grant(
    *,
    person: Any,
    item: AuthorisedItem,
    capacity: str,
    valid_from: dt.date | None,
    valid_until: dt.date | None = None,
    certificate: PersonnelCertificate | None = None,
    actor: Any,
    reason: str = "",
) -> Authorisation:
    """Authorise a person to perform, check or approve an authorised item (人员授权, R6.8c).

    The person must be an active lab staff member holding a role fit for the capacity
    (perform: metrologist; check: checker; approve: approver or technical manager). A
    certificate named as its basis must be the same person's and still valid when the
    authorisation starts; the authorisation then also ends when the certificate expires.
    A second authorisation of the same person, item and capacity overlapping one in force is
    refused, and so is an authorisation granted to oneself (R4.4, code "self_grant")."""
    granted_by = permissions.person(actor)
    problem = authorisation_problem(
        person=person,
        item=item,
        capacity=capacity,
        valid_from=valid_from,
        valid_until=valid_until,
        certificate=certificate,
        granted_by=granted_by,
    )
    if problem is not None:
        raise problem
    return Authorisation.objects.create(
        person=person,
        item=item,
        capacity=capacity,
        certificate=certificate,
        valid_from=valid_from,
        valid_until=valid_until,
        granted_by=granted_by,
    )


@service("authorisation.revoke")
def authorisation_revoke(*, authorisation: Authorisation, reason: str, actor: Any) -> Authorisation:
    """Withdraw an authorisation (e.g. after a failed proficiency test or a change of post),
    saying why; it stops counting at once and stays on record."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why the authorisation is revoked."), field="reason")
    field_checked(Authorisation, "revoke_reason", reason, field="reason")
    authorisation = Authorisation.objects.select_for_update().get(pk=authorisation.pk)
    if authorisation.revoked:
        raise ServiceError(_("This authorisation was revoked already."), code=CoreRefusal.CONFLICT)
    authorisation.revoked = True
    authorisation.revoked_at = timezone.now()
    authorisation.revoked_by = permissions.person(actor)
    authorisation.revoke_reason = reason
    authorisation.save(update_fields=["revoked", "revoked_at", "revoked_by", "revoke_reason"])
    return authorisation
