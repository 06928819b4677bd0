"""Reads of certificates: who sees which, the commission's "every certificate issued?" check
(`commissions.status.certificate_checks`) and reverse traceability
(`risk.trace.trace_extenders`: the certificates issued with a piece of equipment)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from metrolab.certificates.models import Certificate
from metrolab.core.permissions import person
from metrolab.tasks.models import Task


def certificates() -> QuerySet[Certificate]:
    return Certificate.objects.select_related(
        "record", "item", "commission__customer", "task", "replaces"
    )


def certificates_visible_to(actor) -> QuerySet[Certificate]:
    """Lab staff see every certificate; a customer's portal account only those of its own
    organisation that have a file (issued, and later revoked or replaced) (R4.3)."""
    from metrolab.customers.selectors import is_lab_staff, restrict

    user = person(actor)
    qs = restrict(certificates(), user, "commission__customer")
    if user is not None and not is_lab_staff(user):
        qs = qs.exclude(pdf_sha256="")
    return qs


def certificate_url(certificate: Certificate) -> str:
    return reverse("certificates:detail", args=[certificate.pk])


def commission_certified(commission) -> bool:
    """Whether every task of the commission that is not cancelled has an issued certificate
    (registered in `commissions.status.certificate_checks`)."""
    tasks = Task.objects.filter(item__commission=commission).exclude(status=Task.Status.CANCELLED)
    return not tasks.exclude(certificates__status=Certificate.Status.ISSUED).exists()


def certificates_using(equipment, start: dt.datetime, end: dt.datetime) -> Iterable:
    """Reverse traceability (R4.5): the certificates made from records that used `equipment`
    with a measurement overlapping [start, end], whatever their status now."""
    from metrolab.risk.trace import TraceRow

    rows = (
        certificates()
        .filter(record__equipment_used__equipment=equipment, record__started_at__lte=end)
        .filter(Q(record__submitted_at__gte=start) | Q(record__started_at__gte=start))
        .select_related("task__assignee")
        .order_by("created_at", "pk")
        .distinct()
    )
    return [
        TraceRow(
            source="certificate",
            source_label=_("Certificate (%(status)s)") % {"status": c.get_status_display()},
            task=c.task,
            reference=c.number,
            url=certificate_url(c),
            started=c.record.started_at,
            ended=c.issued_at,
            user=str(c.record.approved_by or ""),
        )
        for c in rows
    ]
