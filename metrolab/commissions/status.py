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

# The apps that hold a commission's progress register here, in AppConfig.ready, the furthest
# node a commission can reach as far as they know: items (every item received, every item
# returned or disposed), tasks (every task assigned, every task started). The status is the
# lowest of them.
StatusLimit = Callable[[object], str]
status_limits: list[StatusLimit] = []


def derived_status(commission) -> str:
    """The furthest node that all of the commission's items and tasks have reached."""
    if commission.status == CommissionStatus.CANCELLED:
        return CommissionStatus.CANCELLED
    reached = CommissionStatus.COMPLETED
    for limit in status_limits:
        reached = min(reached, limit(commission), key=STATUS_ORDER.index)
        if reached == CommissionStatus.APPLIED:
            return reached
    if STATUS_ORDER.index(reached) > STATUS_ORDER.index(CommissionStatus.TESTING):
        certified = bool(certificate_checks) and all(
            check(commission) for check in certificate_checks
        )
        if not certified:
            return CommissionStatus.TESTING
    return reached


def nodes_between(current: str, target: str) -> list[str]:
    """The nodes passed on the way from `current` to `target` (target included); empty when
    target is not further along (a commission's status never goes back)."""
    if current == CommissionStatus.CANCELLED or target == CommissionStatus.CANCELLED:
        return []
    i, j = STATUS_ORDER.index(current), STATUS_ORDER.index(target)
    return list(STATUS_ORDER[i + 1 : j + 1])
