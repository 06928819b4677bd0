"""Reads of the methods library and of deviations (R6.7a-c, R6.8a-b).

- the library with its filters (kind, status computed from the dates on a day, discipline,
  instrument category, a search in code and title);
- `method_current_version`: the version in force on a day, following `superseded_by`;
- `methods_for_user`: the methods a person works with (R6.7b): those of the authorised items
  they hold valid authorisations for, and those of their open tasks;
- deviations as the asker may see them: the lab all, a customer's portal account only its own
  organisation's (others are "not found", never "forbidden"); `deviation_in_force`.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from functools import reduce
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from metrolab.commissions.choices import CommissionStatus, Service
from metrolab.commissions.models import Commission, CommissionLine
from metrolab.core.pages import holds
from metrolab.customers.selectors import is_lab_staff, portal_customer
from metrolab.methods.filters import MethodFilter
from metrolab.methods.models import Deviation, InstrumentCategory, Method
from metrolab.methods.roles import DEVIATION_REQUESTERS

Status = Method.Status


def method_list(
    filters: MethodFilter | None = None,
    *,
    kind: str = "",
    status: str = "",
    discipline: Any = None,
    category: Any = None,
    search: str = "",
    day: dt.date | None = None,
) -> QuerySet[Method]:
    """The library by kind and code (newest year first), filtered as the library's page and
    API filter (`methods.filters.MethodFilter`; or by these arguments), the status taken on
    `day` (today by default)."""
    if filters is None:
        filters = MethodFilter(
            kind=kind,
            status=status,
            discipline=str(discipline.pk) if discipline is not None else "",
            category=str(category.pk) if category is not None else "",
            q=search,
        )
    methods = filters.filter(Method.objects.select_related("superseded_by"), day)
    return methods.order_by("kind", "code", "-year", "pk")


def method_get(pk: int) -> Method | None:
    return Method.objects.select_related("superseded_by").filter(pk=pk).first()


def method_current_version(method: Method, day: dt.date | None = None) -> Method | None:
    """The version of `method` in force on `day` (today by default): follow `superseded_by`
    while the successor has taken effect. None when that version is abolished or not yet in
    force (there is no current version to use)."""
    day = day or timezone.localdate()
    version = method
    seen = {version.pk}
    while version.superseded_by_id is not None:
        successor = version.superseded_by
        if successor.effective_date > day or successor.pk in seen:
            break
        seen.add(successor.pk)
        version = successor
    return version if version.is_current_on(day) else None


def method_versions(method: Method) -> list[Method]:
    """Every version linked to `method` by supersession (what it superseded, back to the
    first, and what superseded it, up to the latest), oldest first."""
    found: dict[int, Method] = {method.pk: method}
    backward = [method]
    while backward:
        current = backward.pop()
        for predecessor in Method.objects.filter(superseded_by=current).select_related(
            "superseded_by"
        ):
            if predecessor.pk not in found:
                found[predecessor.pk] = predecessor
                backward.append(predecessor)
    step = method
    while step.superseded_by_id is not None and step.superseded_by_id not in found:
        step = Method.objects.select_related("superseded_by").get(pk=step.superseded_by_id)
        found[step.pk] = step
    return sorted(found.values(), key=lambda m: (m.effective_date, m.pk))


# Who works with which methods (R6.7b): the apps that know register here, in AppConfig.ready,
# a function `source(user, day)` giving a filter on Method: qualifications (the methods of the
# authorised items the person holds a valid authorisation for), tasks (those of their open
# tasks).
MethodSource = Callable[[Any, dt.date], Q]
method_sources: list[MethodSource] = []


def methods_for_user(user: Any, day: dt.date | None = None) -> list[Method]:
    """The methods `user` works with on `day` (R6.7b): those of the authorised items they
    hold a valid authorisation for (perform, check or approve; certificate valid too), and
    those of their open tasks (`method_sources`)."""
    if user is None or not getattr(user, "is_authenticated", False) or not method_sources:
        return []
    day = day or timezone.localdate()
    wanted = reduce(operator.or_, (source(user, day) for source in method_sources))
    methods = Method.objects.filter(wanted).select_related("superseded_by")
    return list(methods.distinct().order_by("kind", "code", "-year", "pk"))


def category_list(*, search: str = "") -> QuerySet[InstrumentCategory]:
    categories = InstrumentCategory.objects.select_related("discipline")
    search = (search or "").strip()
    if search:
        categories = categories.filter(
            Q(code__icontains=search) | Q(name__icontains=search) | Q(name_en__icontains=search)
        )
    return categories.order_by("code")


# --- deviations -----------------------------------------------------------------------------


def deviation_scope(user: Any) -> QuerySet[Deviation]:
    """The deviations `user` may read: every one for the lab, their own organisation's for a
    customer's portal account, none for anyone else."""
    deviations = Deviation.objects.select_related(
        "line__commission__customer", "method", "requested_by", "authorised_by", "accepted_by"
    )
    if is_lab_staff(user):
        return deviations
    own = portal_customer(user)
    if own is None:
        return deviations.none()
    return deviations.filter(line__commission__customer=own)


def deviation_list(
    *,
    user: Any,
    state: str = "",
    method: Method | None = None,
    line: CommissionLine | None = None,
    search: str = "",
) -> QuerySet[Deviation]:
    """Deviations `user` may read, newest first, filtered by state, method, line and a
    search in the commission number, the instrument and the method code."""
    deviations = deviation_scope(user)
    if state:
        deviations = deviations.filter(state=state)
    if method is not None:
        deviations = deviations.filter(method=method)
    if line is not None:
        deviations = deviations.filter(line=line)
    search = (search or "").strip()
    if search:
        deviations = deviations.filter(
            Q(line__commission__number__icontains=search)
            | Q(line__instrument_name__icontains=search)
            | Q(method__code__icontains=search)
            | Q(line__commission__customer__name__icontains=search)
        )
    return deviations.order_by("-created_at", "-pk")


def deviation_get(*, user: Any, pk: int) -> Deviation | None:
    """One deviation, or None when it does not exist or `user` may not see it (callers
    answer 404 either way)."""
    return deviation_scope(user).filter(pk=pk).first()


def deviation_in_force(line: Any, method: Any) -> Deviation | None:
    """The deviation in force for a commission line and a method (R6.7c): authorised by the
    technical manager and accepted by the customer; the latest when there are several."""
    if line is None or method is None:
        return None
    return (
        Deviation.objects.filter(
            line=line,
            method=method,
            state=Deviation.State.ACCEPTED,
            authorised_by__isnull=False,
        )
        .order_by("-accepted_at", "-pk")
        .first()
    )


def line_get(pk: int) -> CommissionLine | None:
    """A commission line, for the lab's deviation request (lab staff see every line)."""
    return CommissionLine.objects.select_related("commission__customer").filter(pk=pk).first()


def lines_of_commission(number: str) -> list[CommissionLine]:
    """The lines of the commission with this number (the lab's deviation request page)."""
    number = (number or "").strip().upper()
    if not number:
        return []
    return list(
        CommissionLine.objects.filter(commission__number=number)
        .select_related("commission__customer")
        .order_by("pk")
    )


def commission_deviations(user: Any, commission: Commission) -> dict[str, Any]:
    """The commission's deviations from methods (R6.7c) and, for those who may request one,
    the lines a deviation may be requested for (never a verification line): what the
    commission's page shows (registered in metrolab.commissions.panels.detail_extenders)."""
    deviations = Deviation.objects.filter(line__commission=commission).select_related(
        "line", "method"
    )
    requestable = []
    open_commission = (
        commission.review != Commission.Review.REJECTED
        and commission.status != CommissionStatus.CANCELLED
    )
    if open_commission and holds(user, DEVIATION_REQUESTERS):
        requestable = [
            line for line in commission.lines.all() if line.service != Service.VERIFICATION
        ]
    return {"deviations": list(deviations), "deviation_lines": requestable}
