"""A commission's status, derived from its items and tasks (R6.1b).

The nodes are those of R6.1b, in order: applied → items received → tasks assigned → testing &
data check → certificate issued → completed (or cancelled). A commission reaches a node when
all of its items and tasks have: every item received (as many as the lines ask for), every task
assigned, every task started, every item's certificate issued, every item returned or
disposed. Later issues (records, certificates) report progress through
`commission_refresh_status`; they never set the status directly.
"""

from __future__ import annotations

from collections.abc import Callable

from metrolab.commissions.choices import STATUS_ORDER, CommissionStatus

# Later apps register "is every item's certificate issued?" here (certificates issue).
CertificateCheck = Callable[[object], bool]
certificate_checks: list[CertificateCheck] = []


def derived_status(commission) -> str:
    """The furthest node that all of the commission's items and tasks have reached."""
    from metrolab.items.models import Item
    from metrolab.tasks.models import Task

    if commission.status == CommissionStatus.CANCELLED:
        return CommissionStatus.CANCELLED
    ordered = sum(line.quantity for line in commission.lines.all())
    items = list(Item.objects.filter(commission=commission).values_list("pk", "state"))
    if not items or len(items) < ordered:
        return CommissionStatus.APPLIED
    tasks = list(
        Task.objects.filter(item__commission=commission)
        .exclude(status=Task.Status.CANCELLED)
        .values_list("status", flat=True)
    )
    if not tasks or any(s == Task.Status.UNASSIGNED for s in tasks):
        return CommissionStatus.ITEMS_RECEIVED
    if any(s == Task.Status.ASSIGNED for s in tasks):
        return CommissionStatus.TASKS_ASSIGNED
    certified = bool(certificate_checks) and all(check(commission) for check in certificate_checks)
    if not certified:
        return CommissionStatus.TESTING
    gone = {Item.State.RETURNED, Item.State.DISPOSED}
    if all(state in gone for _pk, state in items):
        return CommissionStatus.COMPLETED
    return CommissionStatus.CERTIFICATE_ISSUED


def nodes_between(current: str, target: str) -> list[str]:
    """The nodes passed on the way from `current` to `target` (target included); empty when
    target is not further along (a commission's status never goes back)."""
    if current == CommissionStatus.CANCELLED or target == CommissionStatus.CANCELLED:
        return []
    i, j = STATUS_ORDER.index(current), STATUS_ORDER.index(target)
    return list(STATUS_ORDER[i + 1 : j + 1])
