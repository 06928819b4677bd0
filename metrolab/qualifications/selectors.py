"""Reads of the qualification libraries (R6.8a-c): the authorised items with their filters,
who is qualified for an item, what a person may perform / check / approve, what expires soon,
and who may see whose profile.

Validity is by day and inclusive: a certificate or an authorisation is valid on its expiry
date and invalid the day after (the shared contract of issue 5)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from metrolab.core.components import register_tones, tone_of
from metrolab.core.models import User
from metrolab.core.roles import LAB_STAFF, ROLES
from metrolab.qualifications.models import (
    Authorisation,
    AuthorisedItem,
    PersonnelCertificate,
    StaffProfile,
    TrainingRecord,
)
from metrolab.qualifications.roles import LIBRARY_EDITORS, LIBRARY_READERS

# "Expiring soon": the widest horizon of the risk radar (issue 5: 30 / 60 / 90 days).
EXPIRING_SOON_DAYS = 90
CAPACITIES = tuple(Authorisation.Capacity.values)


def _today(day: dt.date | None) -> dt.date:
    return day or timezone.localdate()


# --- who may see and edit ----


def may_read_libraries(user) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_role(*LIBRARY_READERS)


def may_edit_libraries(user) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_role(*LIBRARY_EDITORS)


# --- validity ----


class ValidityState(models.TextChoices):
    """Where a dated thing (certificate, authorisation, authorised item) stands on a day."""

    VALID = "valid", gettext_lazy("valid")
    EXPIRING = "expiring", gettext_lazy("expiring soon")
    EXPIRED = "expired", gettext_lazy("expired")
    NOT_YET = "not_yet", gettext_lazy("not yet valid")
    REVOKED = "revoked", gettext_lazy("revoked")


# Badge tones (core/components.py).
register_tones(
    ValidityState,
    {
        ValidityState.VALID: "green",
        ValidityState.EXPIRING: "yellow",
        ValidityState.EXPIRED: "red",
        ValidityState.NOT_YET: "neutral",
        ValidityState.REVOKED: "red",
    },
)


@dataclass(frozen=True)
class Validity:
    """Where a dated thing stands on a day: valid, expiring (valid, ends within the horizon),
    expired, not yet valid, or revoked; with its last valid day."""

    state: str
    until: dt.date | None
    days_left: int | None

    @property
    def colour(self) -> str:
        """The badge tone of the state (registered with ValidityState)."""
        return tone_of(ValidityState(self.state))

    @property
    def is_valid(self) -> bool:
        return self.state in (ValidityState.VALID, ValidityState.EXPIRING)

    @property
    def label(self) -> str:
        """The state's label; an expiring one counts its days left."""
        if self.state == ValidityState.EXPIRING:
            return ngettext(
                "expires in %(n)d day", "expires in %(n)d days", self.days_left or 0
            ) % {"n": self.days_left or 0}
        return str(ValidityState(self.state).label)


def validity_of(
    valid_from: dt.date | None,
    valid_until: dt.date | None,
    day: dt.date | None = None,
    *,
    revoked: bool = False,
    soon_days: int = EXPIRING_SOON_DAYS,
) -> Validity:
    day = _today(day)
    days_left = (valid_until - day).days if valid_until is not None else None
    if revoked:
        state = ValidityState.REVOKED
    elif valid_from is not None and day < valid_from:
        state = ValidityState.NOT_YET
    elif valid_until is not None and valid_until < day:
        state = ValidityState.EXPIRED
    elif days_left is not None and days_left <= soon_days:
        state = ValidityState.EXPIRING
    else:
        state = ValidityState.VALID
    return Validity(state=state, until=valid_until, days_left=days_left)


def certificate_validity(certificate: PersonnelCertificate, day: dt.date | None = None):
    return validity_of(certificate.issue_date, certificate.expiry_date, day)


def authorisation_validity(authorisation: Authorisation, day: dt.date | None = None):
    """Its own period, cut short by its certificate's (the later start, the earlier end)."""
    start = authorisation.valid_from
    certificate = authorisation.certificate
    if certificate is not None and certificate.issue_date > start:
        start = certificate.issue_date
    return validity_of(
        start, authorisation.valid_until_effective(), day, revoked=authorisation.revoked
    )


def item_validity(item: AuthorisedItem, day: dt.date | None = None) -> Validity:
    return validity_of(item.valid_from, item.valid_until, day)


def _period_q(day: dt.date, start: str, end: str, prefix: str = "") -> Q:
    return Q(**{f"{prefix}{start}__lte": day}) & (
        Q(**{f"{prefix}{end}__isnull": True}) | Q(**{f"{prefix}{end}__gte": day})
    )


def item_valid_q(day: dt.date, prefix: str = "") -> Q:
    return (Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": day})) & (
        Q(**{f"{prefix}valid_until__isnull": True}) | Q(**{f"{prefix}valid_until__gte": day})
    )


def certificate_valid_q(day: dt.date, prefix: str = "") -> Q:
    return _period_q(day, "issue_date", "expiry_date", prefix)


def authorisation_valid_q(day: dt.date, prefix: str = "") -> Q:
    """An authorisation in force on `day`, as a query: not revoked, within its own period
    and, when it rests on a certificate, within the certificate's (Authorisation.valid_on)."""
    return (
        Q(**{f"{prefix}revoked": False})
        & _period_q(day, "valid_from", "valid_until", prefix)
        & (
            Q(**{f"{prefix}certificate__isnull": True})
            | certificate_valid_q(day, f"{prefix}certificate__")
        )
    )


# --- authorised items ----

VALIDITY_FILTERS = ("valid", "expiring", "expired", "not_yet")


def authorised_item_list(
    *,
    service: str = "",
    discipline=None,
    category=None,
    validity: str = "",
    q: str = "",
    day: dt.date | None = None,
) -> QuerySet[AuthorisedItem]:
    """The authorised scope, by code, filtered by service, discipline (through the item's
    instrument category), category, validity on `day` (valid / expiring within
    EXPIRING_SOON_DAYS / expired / not yet valid) and a search text (code, name, measurand,
    category, method code, reference)."""
    day = _today(day)
    items = AuthorisedItem.objects.select_related("category__discipline", "standard")
    if service:
        items = items.filter(service=service)
    if discipline is not None:
        items = items.filter(category__discipline=discipline)
    if category is not None:
        items = items.filter(category=category)
    if validity == "valid":
        items = items.filter(item_valid_q(day))
    elif validity == "expiring":
        items = items.filter(
            item_valid_q(day), valid_until__lte=day + dt.timedelta(days=EXPIRING_SOON_DAYS)
        )
    elif validity == "expired":
        items = items.filter(valid_until__lt=day)
    elif validity == "not_yet":
        items = items.filter(valid_from__gt=day)
    q = (q or "").strip()
    if q:
        with_method = AuthorisedItem.methods.through.objects.filter(
            authoriseditem_id=OuterRef("pk"), method__code__icontains=q
        )
        items = items.filter(
            Q(code__icontains=q)
            | Q(name__icontains=q)
            | Q(measurand__icontains=q)
            | Q(category__name__icontains=q)
            | Q(authorisation_ref__icontains=q)
            | Exists(with_method)
        )
    return items.prefetch_related("methods").order_by("code")


def authorised_item_get(pk: int) -> AuthorisedItem:
    item = (
        AuthorisedItem.objects.select_related("category__discipline", "standard")
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise Http404("no such authorised item")
    return item


def qualified_people(
    item: AuthorisedItem, capacity: str, day: dt.date | None = None
) -> QuerySet[Authorisation]:
    """The authorisations in force on `day` (today by default) for `item` in `capacity`
    (perform / check / approve), of active people, by name: who is qualified (R6.8c)."""
    return (
        Authorisation.objects.filter(item=item, capacity=capacity, person__is_active=True)
        .filter(authorisation_valid_q(_today(day)))
        .select_related("person", "certificate")
        .order_by("person__display_name", "person__username", "pk")
    )


@dataclass(frozen=True)
class Capabilities:
    """The authorised items a person may perform, check and approve on a day."""

    perform: list[AuthorisedItem] = field(default_factory=list)
    check: list[AuthorisedItem] = field(default_factory=list)
    approve: list[AuthorisedItem] = field(default_factory=list)

    def items(self, capacity: str) -> list[AuthorisedItem]:
        return getattr(self, capacity)

    def may(self, item: AuthorisedItem, capacity: str) -> bool:
        return any(i.pk == item.pk for i in self.items(capacity))


def person_capabilities(user, day: dt.date | None = None) -> Capabilities:
    """What `user` may perform / check / approve on `day` (R6.8c): the items of their
    authorisations in force, where the item itself is valid that day too. An inactive
    account may do nothing."""
    if user is None or not getattr(user, "is_active", False):
        return Capabilities()
    day = _today(day)
    rows = (
        Authorisation.objects.filter(person=user)
        .filter(authorisation_valid_q(day), item_valid_q(day, "item__"))
        .select_related("item__category")
        .order_by("item__code")
    )
    found: dict[str, dict[int, AuthorisedItem]] = {c: {} for c in CAPACITIES}
    for a in rows:
        found[a.capacity].setdefault(a.item_id, a.item)
    return Capabilities(**{c: list(found[c].values()) for c in CAPACITIES})


# --- expiring ----


@dataclass(frozen=True)
class Expiring:
    """A certificate or authorisation whose last valid day falls within the horizon."""

    kind: str  # "certificate" or "authorisation"
    person: User
    subject: PersonnelCertificate | Authorisation
    until: dt.date
    days_left: int

    @property
    def description(self) -> str:
        if self.kind == "certificate":
            return f"{self.subject.get_kind_display()} {self.subject.number}"
        return f"{self.subject.get_capacity_display()} {self.subject.item.code}"


def _expiring(
    certificates: QuerySet, authorisations: QuerySet, day: dt.date, within_days: int
) -> list[Expiring]:
    horizon = day + dt.timedelta(days=within_days)
    found = [
        Expiring("certificate", c.person, c, c.expiry_date, (c.expiry_date - day).days)
        for c in certificates.filter(expiry_date__gte=day, expiry_date__lte=horizon)
        .filter(issue_date__lte=day)
        .select_related("person")
    ]
    candidates = (
        authorisations.filter(authorisation_valid_q(day))
        .filter(Q(valid_until__lte=horizon) | Q(certificate__expiry_date__lte=horizon))
        .select_related("person", "item", "certificate")
    )
    for a in candidates:
        end = a.valid_until_effective()
        found.append(Expiring("authorisation", a.person, a, end, (end - day).days))
    return sorted(found, key=lambda e: (e.until, str(e.person), e.kind))


def person_expiring(
    user, *, within_days: int = EXPIRING_SOON_DAYS, day: dt.date | None = None
) -> list[Expiring]:
    """`user`'s certificates and authorisations in force that end within `within_days`
    (inclusive), soonest first."""
    return _expiring(
        PersonnelCertificate.objects.filter(person=user),
        Authorisation.objects.filter(person=user),
        _today(day),
        within_days,
    )


def qualifications_expiring(
    *, within_days: int = EXPIRING_SOON_DAYS, day: dt.date | None = None
) -> list[Expiring]:
    """Every active person's certificates and authorisations in force that end within
    `within_days`, soonest first (for the risk radar, R4.5)."""
    return _expiring(
        PersonnelCertificate.objects.filter(person__is_active=True),
        Authorisation.objects.filter(person__is_active=True),
        _today(day),
        within_days,
    )


# --- people ----


def _staff_ids() -> QuerySet:
    return User.objects.filter(groups__name__in=LAB_STAFF).values("pk")


def role_labels(user) -> list[str]:
    """The labels of the roles `user` holds, in the order of the role list (needs the user's
    groups, prefetched by people_list)."""
    held = {g.name for g in user.groups.all()}
    return [str(role.label) for code, role in ROLES.items() if code in held]


def people_list(*, q: str = "", role: str = "", day: dt.date | None = None) -> QuerySet[User]:
    """The lab's active staff (R6.8c) with their roles, counts of certificates and
    authorisations in force on `day`, and how many of those end within EXPIRING_SOON_DAYS;
    searched by name, user name, employee no. or department, filtered by a role."""
    day = _today(day)
    horizon = day + dt.timedelta(days=EXPIRING_SOON_DAYS)
    people = User.objects.filter(pk__in=_staff_ids(), is_active=True)
    if role:
        people = people.filter(groups__name=role)
    q = (q or "").strip()
    if q:
        people = people.filter(
            Q(display_name__icontains=q)
            | Q(username__icontains=q)
            | Q(staff_profile__employee_no__icontains=q)
            | Q(staff_profile__department__icontains=q)
        )
    cert_valid = certificate_valid_q(day, "certificates__")
    auth_valid = authorisation_valid_q(day, "authorisations__")
    return (
        people.annotate(
            valid_certificates=Count("certificates", filter=cert_valid, distinct=True),
            valid_authorisations=Count("authorisations", filter=auth_valid, distinct=True),
            expiring_certificates=Count(
                "certificates",
                filter=cert_valid & Q(certificates__expiry_date__lte=horizon),
                distinct=True,
            ),
            expiring_authorisations=Count(
                "authorisations",
                filter=auth_valid
                & (
                    Q(authorisations__valid_until__lte=horizon)
                    | Q(authorisations__certificate__expiry_date__lte=horizon)
                ),
                distinct=True,
            ),
        )
        .select_related("staff_profile")
        .prefetch_related("groups")
        .order_by("display_name", "username")
    )


def person_get(*, viewer, pk: int) -> User:
    """The person whose page `viewer` opens: any lab staff member (or one with a profile)
    for those who read the libraries, and always oneself; otherwise 404."""
    if viewer is not None and viewer.is_authenticated and viewer.pk == pk:
        person = User.objects.filter(pk=pk).first()
    elif may_read_libraries(viewer):
        person = (
            User.objects.filter(pk=pk)
            .filter(Q(pk__in=_staff_ids()) | Q(staff_profile__isnull=False))
            .first()
        )
    else:
        person = None
    if person is None:
        raise Http404("no such person")
    return person


def lab_staff_choices() -> QuerySet[User]:
    """Active lab staff, for choosing a person in forms."""
    return User.objects.filter(pk__in=_staff_ids(), is_active=True).order_by(
        "display_name", "username"
    )


def certificate_get(*, viewer, pk: int) -> PersonnelCertificate:
    """A certificate `viewer` may see: any for library readers, their own for others."""
    certificate = PersonnelCertificate.objects.select_related("person").filter(pk=pk).first()
    own = certificate is not None and viewer.is_authenticated and certificate.person_id == viewer.pk
    if certificate is None or not (own or may_read_libraries(viewer)):
        raise Http404("no such certificate")
    return certificate


def authorisation_get(pk: int) -> Authorisation:
    authorisation = (
        Authorisation.objects.select_related("person", "item", "certificate").filter(pk=pk).first()
    )
    if authorisation is None:
        raise Http404("no such authorisation")
    return authorisation


# --- the person page and the item page (R6.8b: everything linked) ----


@dataclass(frozen=True)
class Dated:
    """A row of a page: the object and its validity on the day shown."""

    obj: object
    validity: Validity


def person_certificates(person, day: dt.date | None = None) -> list[Dated]:
    certificates = person.certificates.prefetch_related("items").order_by("-issue_date", "-pk")
    return [Dated(c, certificate_validity(c, day)) for c in certificates]


def person_trainings(person) -> QuerySet[TrainingRecord]:
    return person.trainings.prefetch_related("items").order_by("-date", "-pk")


def person_authorisations(person, day: dt.date | None = None) -> dict[str, list[Dated]]:
    """The person's authorisations by capacity (perform, check, approve): those in force
    first, then not yet valid, then ended or revoked; each by item code."""
    order = {"valid": 0, "expiring": 0, "not_yet": 1, "expired": 2, "revoked": 3}
    grouped: dict[str, list[Dated]] = {c: [] for c in CAPACITIES}
    rows = Authorisation.objects.filter(person=person).select_related(
        "item__category", "certificate", "granted_by", "revoked_by"
    )
    for a in rows:
        grouped[a.capacity].append(Dated(a, authorisation_validity(a, day)))
    for capacity in grouped:
        grouped[capacity].sort(key=lambda d: (order[d.validity.state], d.obj.item.code))
    return grouped


def profile_of(person) -> StaffProfile | None:
    return StaffProfile.objects.filter(user=person).first()


@dataclass(frozen=True)
class MethodRow:
    """A method named by an authorised item, with its status (a Method.Status) on the day."""

    method: object
    status: str


@dataclass(frozen=True)
class EquipmentRow:
    """Equipment of the item's standard; no due date means no confirmed calibration."""

    equipment: object
    calibration_due: dt.date | None
    overdue: bool


@dataclass(frozen=True)
class ItemLinks:
    methods: list[MethodRow]
    standard: object | None
    standard_validity: Validity | None
    equipment: list[EquipmentRow]
    people: dict[str, list[Dated]]
    valid_counts: dict[str, int]


def item_links(item: AuthorisedItem, day: dt.date | None = None) -> ItemLinks:
    """Everything an authorised item reaches (R6.8b): its methods with their status on
    `day`, its measurement standard with the standard certificate's validity, that
    standard's equipment with its status and calibration due date, and the authorisations
    for each capacity (in force first) with their validity."""
    day = _today(day)
    methods = [
        MethodRow(m, m.status_on(day))
        for m in item.methods.select_related("superseded_by").order_by("code", "-year")
    ]
    standard = item.standard
    equipment: list[EquipmentRow] = []
    standard_validity = None
    if standard is not None:
        standard_validity = validity_of(
            standard.certificate_issued, standard.certificate_expiry, day
        )
        for e in standard.equipment.order_by("asset_no"):
            due = e.calibration_due()
            equipment.append(EquipmentRow(e, due, due is not None and due < day))
    order = {"valid": 0, "expiring": 0, "not_yet": 1, "expired": 2, "revoked": 3}
    people: dict[str, list[Dated]] = {c: [] for c in CAPACITIES}
    rows = (
        Authorisation.objects.filter(item=item, revoked=False)
        .select_related("person", "certificate")
        .order_by("person__display_name", "person__username")
    )
    for a in rows:
        people[a.capacity].append(Dated(a, authorisation_validity(a, day)))
    for capacity in people:
        people[capacity].sort(key=lambda d: order[d.validity.state])
    valid_counts = {
        c: sum(1 for d in people[c] if d.validity.is_valid and d.obj.person.is_active)
        for c in CAPACITIES
    }
    return ItemLinks(methods, standard, standard_validity, equipment, people, valid_counts)


def authorised_methods(user: Any, day: dt.date) -> Q:
    """The methods of the authorised items `user` holds a valid authorisation for on `day`
    (perform, check or approve; certificate valid too): "my methods" (R6.7b; registered in
    metrolab.methods.selectors.method_sources)."""
    authorisations = Authorisation.objects.filter(
        person_id=user.pk, revoked=False, valid_from__lte=day
    ).select_related("certificate")
    item_ids = {a.item_id for a in authorisations if a.valid_on(day)}
    return Q(authorised_items__in=item_ids)
