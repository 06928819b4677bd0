"""The risk radar (R4.5): everything of the lab's libraries that expires or falls due within
30 / 60 / 90 days of a day, and everything already overdue.

Dates are inclusive, as everywhere in the libraries (see the eligibility contract): a thing
due today has 0 days left and is not overdue; it is overdue from the next day (-1).

What is looked at, and what is left out:

- personnel certificates (`expiry_date`) of active people, unless renewed: the same person
  holds a certificate of the same kind, issued no earlier, that expires later (or never) and
  covers every item this one covers;
- personnel authorisations (their effective end: `valid_until` or the certificate's expiry,
  whichever is first) of active people, except revoked ones and those renewed by another
  authorisation of the same person, item and capacity that ends later (or never);
- authorised items (`valid_until`);
- measurement-standard certificates (`certificate_expiry`) of active standards;
- equipment calibrations: the due date of the current confirmed calibration; equipment with
  no confirmed calibration is overdue; scrapped equipment is left out;
- intermediate checks: the next due date of each active plan (as `plan.next_due()`), except on
  scrapped equipment;
- methods being superseded (their successor takes effect on a day not yet past) or abolished
  (abolished on a day not yet past); once the change has happened it is a fact, not a risk.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrolab.core.roles import EQUIPMENT_MANAGER, QUALITY_MANAGER, ROLES

HORIZONS = (30, 60, 90)
DEFAULT_DAYS = 90


class Kind:
    PERSONNEL_CERTIFICATE = "personnel_certificate"
    AUTHORISATION = "authorisation"
    AUTHORISED_ITEM = "authorised_item"
    STANDARD_CERTIFICATE = "standard_certificate"
    CALIBRATION = "calibration"
    INTERMEDIATE_CHECK = "intermediate_check"
    METHOD_SUPERSEDED = "method_superseded"
    METHOD_ABOLISHED = "method_abolished"

    LABELS = {
        PERSONNEL_CERTIFICATE: _("Personnel certificate"),
        AUTHORISATION: _("Personnel authorisation"),
        AUTHORISED_ITEM: _("Authorised item"),
        STANDARD_CERTIFICATE: _("Measurement standard certificate"),
        CALIBRATION: _("Equipment calibration"),
        INTERMEDIATE_CHECK: _("Intermediate check"),
        METHOD_SUPERSEDED: _("Method superseded"),
        METHOD_ABOLISHED: _("Method abolished"),
    }

    @classmethod
    def choices(cls) -> list[tuple[str, object]]:
        return list(cls.LABELS.items())


class Bucket:
    """Horizon buckets: overdue, then within 30, 31–60 and 61–90 days."""

    OVERDUE = "overdue"
    D30 = "30"
    D60 = "60"
    D90 = "90"

    LABELS = {
        OVERDUE: _("Overdue"),
        D30: _("Within 30 days"),
        D60: _("In 31–60 days"),
        D90: _("In 61–90 days"),
    }
    ORDER = (OVERDUE, D30, D60, D90)
    # The horizon a bucket stands for in the alert log (RiskAlertSent.horizon).
    HORIZON = {OVERDUE: 0, D30: 30, D60: 60, D90: 90}

    @classmethod
    def choices(cls) -> list[tuple[str, object]]:
        return list(cls.LABELS.items())


def bucket_of(days_left: int | None) -> str | None:
    """The bucket of a thing `days_left` days from its due date (None: never done, overdue);
    None past 90 days."""
    if days_left is None or days_left < 0:
        return Bucket.OVERDUE
    for horizon in HORIZONS:
        if days_left <= horizon:
            return str(horizon)
    return None


@dataclass(frozen=True)
class Entry:
    """One thing on the radar."""

    kind: str
    key: str  # stable identity of the thing: "<kind>:<pk>"
    what: str
    detail: str
    url_name: str
    url_pk: int
    due: dt.date | None  # None: equipment never calibrated (overdue)
    days_left: int | None
    bucket: str
    people: tuple = ()  # the named responsible people (custodian, the certificate's holder)
    roles: tuple[str, ...] = ()  # roles responsible as a group
    subject: object = field(default=None, compare=False, repr=False)

    @property
    def kind_label(self) -> str:
        return str(Kind.LABELS[self.kind])

    @property
    def bucket_label(self) -> str:
        return str(Bucket.LABELS[self.bucket])

    @property
    def horizon(self) -> int:
        return Bucket.HORIZON[self.bucket]

    @property
    def overdue(self) -> bool:
        return self.bucket == Bucket.OVERDUE

    @property
    def days_overdue(self) -> int | None:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else None

    @property
    def soon(self) -> bool:
        """Due within 30 days (not yet overdue): shown in amber."""
        return self.bucket == Bucket.D30

    @property
    def url(self) -> str:
        return reverse(self.url_name, args=[self.url_pk])

    @property
    def responsible(self) -> str:
        """The responsible people by name, else the responsible roles."""
        if self.people:
            return ", ".join(str(p) for p in self.people)
        return ", ".join(str(ROLES[r].label) for r in self.roles)

    @property
    def sort_key(self) -> tuple:
        return (self.due or dt.date.min, self.kind, self.what, self.key)


class _Collector:
    """Builds entries for one day and horizon."""

    def __init__(self, on: dt.date, days: int):
        self.on = on
        self.limit = on + dt.timedelta(days=days)
        self.days = days
        self.entries: list[Entry] = []

    def add(self, kind: str, obj, due: dt.date | None, **fields) -> None:
        days_left = None if due is None else (due - self.on).days
        if days_left is not None and days_left > self.days:
            return
        bucket = bucket_of(days_left)
        if bucket is None:
            return
        self.entries.append(
            Entry(
                kind=kind,
                key=f"{kind}:{obj.pk}",
                due=due,
                days_left=days_left,
                bucket=bucket,
                subject=obj,
                **fields,
            )
        )


def _covered_items(certificates: Iterable) -> dict[int, set[int]]:
    return {c.pk: {i.pk for i in c.items.all()} for c in certificates}


def _personnel_certificates(c: _Collector) -> None:
    from metrolab.qualifications.models import PersonnelCertificate

    found = list(
        PersonnelCertificate.objects.filter(expiry_date__lte=c.limit, person__is_active=True)
        .select_related("person")
        .prefetch_related("items")
    )
    if not found:
        return
    # Every certificate of the same people and kinds: the candidate renewals.
    others = list(
        PersonnelCertificate.objects.filter(
            person_id__in={x.person_id for x in found}, kind__in={x.kind for x in found}
        ).prefetch_related("items")
    )
    items = _covered_items(others)
    by_holder = defaultdict(list)
    for other in others:
        by_holder[(other.person_id, other.kind)].append(other)

    def renewed(cert) -> bool:
        return any(
            other.pk != cert.pk
            and other.issue_date >= cert.issue_date
            and (other.expiry_date is None or other.expiry_date > cert.expiry_date)
            and items[cert.pk] <= items[other.pk]
            for other in by_holder[(cert.person_id, cert.kind)]
        )

    for cert in found:
        if renewed(cert):
            continue
        c.add(
            Kind.PERSONNEL_CERTIFICATE,
            cert,
            cert.expiry_date,
            what=f"{cert.person} · {cert.get_kind_display()} {cert.number}",
            detail=cert.issued_by,
            url_name="qualifications:person",
            url_pk=cert.person_id,
            people=(cert.person,),
            roles=(QUALITY_MANAGER,),
        )


def _later(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    """The later of two ends, None standing for "no end"."""
    return None if a is None or b is None else max(a, b)


def _authorisations(c: _Collector) -> None:
    from metrolab.qualifications.models import Authorisation

    live = Authorisation.objects.filter(revoked=False, person__is_active=True)
    found = list(
        live.filter(Q(valid_until__lte=c.limit) | Q(certificate__expiry_date__lte=c.limit))
        .select_related("person", "item", "certificate")
        .order_by("pk")
    )
    if not found:
        return
    # The latest end of each (person, item, capacity): an authorisation renewed by a later one
    # is no longer a risk. None stands for "no end".
    latest: dict[tuple, dt.date | None] = {}
    for other in live.filter(
        person_id__in={a.person_id for a in found}, item_id__in={a.item_id for a in found}
    ).select_related("certificate"):
        triple = (other.person_id, other.item_id, other.capacity)
        end = other.valid_until_effective()
        latest[triple] = _later(latest[triple], end) if triple in latest else end
    for authorisation in found:
        end = authorisation.valid_until_effective()
        last = latest[(authorisation.person_id, authorisation.item_id, authorisation.capacity)]
        if last is None or last > end:
            continue
        c.add(
            Kind.AUTHORISATION,
            authorisation,
            end,
            what=f"{authorisation.person} · {authorisation.get_capacity_display()} "
            f"{authorisation.item.code} {authorisation.item.name}",
            detail=str(authorisation.certificate.number) if authorisation.certificate else "",
            url_name="qualifications:person",
            url_pk=authorisation.person_id,
            people=(authorisation.person,),
            roles=(QUALITY_MANAGER,),
        )


def _authorised_items(c: _Collector) -> None:
    from metrolab.qualifications.models import AuthorisedItem

    for item in AuthorisedItem.objects.filter(valid_until__lte=c.limit):
        c.add(
            Kind.AUTHORISED_ITEM,
            item,
            item.valid_until,
            what=f"{item.code} {item.name}",
            detail=item.authorisation_ref,
            url_name="qualifications:item_detail",
            url_pk=item.pk,
            roles=(QUALITY_MANAGER,),
        )


def _standard_certificates(c: _Collector) -> None:
    from metrolab.equipment.models import MeasurementStandard

    standards = MeasurementStandard.objects.filter(
        active=True, certificate_expiry__lte=c.limit
    ).select_related("custodian")
    for standard in standards:
        c.add(
            Kind.STANDARD_CERTIFICATE,
            standard,
            standard.certificate_expiry,
            what=standard.name,
            detail=standard.certificate_no,
            url_name="equipment:standard_detail",
            url_pk=standard.pk,
            people=(standard.custodian,) if standard.custodian else (),
            roles=(EQUIPMENT_MANAGER,),
        )


def _calibrations(c: _Collector) -> None:
    from metrolab.equipment.models import Equipment, EquipmentCalibration

    # The calibration that counts on the radar's day (the one rule:
    # EquipmentCalibration.objects.counting).
    counting = EquipmentCalibration.objects.counting_value
    equipment = (
        Equipment.objects.exclude(status=Equipment.Status.SCRAPPED)
        .annotate(
            calibration_due_on=counting("due_date", day=c.on),
            calibration_no=counting("certificate_no", day=c.on),
        )
        .filter(Q(calibration_due_on__isnull=True) | Q(calibration_due_on__lte=c.limit))
        .select_related("custodian")
    )
    for item in equipment:
        c.add(
            Kind.CALIBRATION,
            item,
            item.calibration_due_on,
            what=f"{item.asset_no} {item.name}",
            detail=item.calibration_no or str(_("no confirmed calibration")),
            url_name="equipment:detail",
            url_pk=item.pk,
            people=(item.custodian,) if item.custodian else (),
            roles=(EQUIPMENT_MANAGER,),
        )


def _intermediate_checks(c: _Collector) -> None:
    from metrolab.equipment.models import Equipment, IntermediateCheckPlan, IntermediateCheckResult

    last = IntermediateCheckResult.objects.filter(plan=OuterRef("pk")).order_by("-date", "-pk")
    plans = (
        IntermediateCheckPlan.objects.filter(active=True)
        .exclude(equipment__status=Equipment.Status.SCRAPPED)
        .annotate(last_checked=Subquery(last.values("date")[:1]))
        .select_related("equipment__custodian")
    )
    for plan in plans:
        # The same rule as IntermediateCheckPlan.next_due(), without a query per plan.
        due = (
            plan.first_due
            if plan.last_checked is None
            else plan.last_checked + dt.timedelta(days=plan.interval_days)
        )
        equipment = plan.equipment
        c.add(
            Kind.INTERMEDIATE_CHECK,
            plan,
            due,
            what=f"{equipment.asset_no} {equipment.name} · {plan.quantity}",
            detail=plan.check_standard,
            url_name="equipment:detail",
            url_pk=equipment.pk,
            people=(equipment.custodian,) if equipment.custodian else (),
            roles=(EQUIPMENT_MANAGER,),
        )


def _methods(c: _Collector) -> None:
    from metrolab.methods.models import Method

    methods = Method.objects.filter(
        Q(superseded_by__effective_date__range=(c.on, c.limit))
        | Q(abolished_date__range=(c.on, c.limit))
    ).select_related("superseded_by")
    for method in methods:
        abolished_before = method.abolished_date is not None and method.abolished_date < c.on
        successor = method.superseded_by
        if (
            successor is not None
            and c.on <= successor.effective_date <= c.limit
            and not abolished_before
        ):
            c.add(
                Kind.METHOD_SUPERSEDED,
                method,
                successor.effective_date,
                what=method.designation,
                detail=str(_("superseded by %(successor)s")) % {"successor": successor},
                url_name="methods:detail",
                url_pk=method.pk,
                roles=(QUALITY_MANAGER,),
            )
        if method.abolished_date is not None and c.on <= method.abolished_date <= c.limit:
            c.add(
                Kind.METHOD_ABOLISHED,
                method,
                method.abolished_date,
                what=method.designation,
                detail="",
                url_name="methods:detail",
                url_pk=method.pk,
                roles=(QUALITY_MANAGER,),
            )


COLLECTORS = {
    Kind.PERSONNEL_CERTIFICATE: _personnel_certificates,
    Kind.AUTHORISATION: _authorisations,
    Kind.AUTHORISED_ITEM: _authorised_items,
    Kind.STANDARD_CERTIFICATE: _standard_certificates,
    Kind.CALIBRATION: _calibrations,
    Kind.INTERMEDIATE_CHECK: _intermediate_checks,
    Kind.METHOD_SUPERSEDED: _methods,
    Kind.METHOD_ABOLISHED: _methods,
}


def radar(
    on: dt.date | None = None, days: int = DEFAULT_DAYS, kinds: Iterable[str] | None = None
) -> list[Entry]:
    """Everything that expires or falls due within `days` (30, 60 or 90) of `on` (default
    today), and everything overdue, soonest first (never-calibrated equipment first of all).
    `kinds` limits the kinds looked at."""
    if days not in HORIZONS:
        raise ValueError(f"days must be one of {HORIZONS}")
    on = on or timezone.localdate()
    wanted = set(kinds) if kinds else set(COLLECTORS)
    collector = _Collector(on, days)
    for collect in dict.fromkeys(COLLECTORS[k] for k in COLLECTORS if k in wanted):
        collect(collector)
    entries = [e for e in collector.entries if e.kind in wanted]
    return sorted(entries, key=lambda e: e.sort_key)


def bucket_counts(entries: Iterable[Entry]) -> dict[str, int]:
    counts = dict.fromkeys(Bucket.ORDER, 0)
    for entry in entries:
        counts[entry.bucket] += 1
    return counts
