"""Writes of risk (R4.5): the daily risk notifications (each thing once per due date and
horizon) and impact reviews on the work that used an item of equipment. Every function is a
service (audited, one transaction); refusals raise ServiceError and leave nothing written."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from metrolab.core.errors import CoreRefusal
from metrolab.core.models import User
from metrolab.core.permissions import require_person
from metrolab.core.roles import DIRECTOR
from metrolab.core.service import ServiceError, service
from metrolab.equipment.models import Equipment
from metrolab.risk.models import ImpactReview, RiskAlertSent
from metrolab.risk.radar import Entry, radar
from metrolab.risk.roles import REVIEW_EDITORS
from metrolab.risk.trace import trace, trace_customers, trace_tasks

logger = logging.getLogger(__name__)

ALERT_EVENT = "risk.due"
REVIEW_OPENED_EVENT = "risk.impact_review_opened"


class _RoleMembers:
    """Active users per role, looked up once per run."""

    def __init__(self):
        self._cache: dict[str, list] = {}

    def __call__(self, role: str) -> list:
        if role not in self._cache:
            self._cache[role] = list(
                User.objects.filter(is_active=True, groups__name=role).order_by("pk")
            )
        return self._cache[role]


def alert_recipients(entry: Entry, members: _RoleMembers | None = None) -> list:
    """Who is told of `entry`: its named people (the custodian, the certificate's holder) and
    the members of its responsible roles (equipment managers for equipment, standards and
    checks; quality managers for methods, authorised items and personnel); the technical
    managers too once it is overdue."""
    members = members or _RoleMembers()
    people = [p for p in entry.people if p is not None and p.is_active]
    for role in entry.roles:
        people.extend(members(role))
    if entry.overdue:
        people.extend(members(DIRECTOR))
    return list({p.pk: p for p in people}.values())


def _alert_line(entry: Entry) -> str:
    if entry.due is None:
        when = _("no confirmed calibration")
    elif entry.days_left < 0:
        when = _("was due %(due)s (%(days)s days overdue)") % {
            "due": entry.due.isoformat(),
            "days": -entry.days_left,
        }
    else:
        when = _("due %(due)s (%(days)s days left)") % {
            "due": entry.due.isoformat(),
            "days": entry.days_left,
        }
    return f"[{entry.bucket_label}] {entry.kind_label}: {entry.what} — {when}"


def _alert_text(entries: list[Entry]) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        overdue = sum(1 for e in entries if e.overdue)
        subject = _("Risk radar: %(count)s thing(s) expire or fall due") % {"count": len(entries)}
        if overdue:
            subject += " · " + _("%(count)s overdue") % {"count": overdue}
        intro = _("These things of the lab expire or fall due; please act in time:")
        return subject, "\n".join([intro, *(_alert_line(e) for e in entries)])


def _entry_payload(entry: Entry) -> dict:
    return {
        "kind": entry.kind,
        "key": entry.key,
        "what": entry.what,
        "due": entry.due.isoformat() if entry.due else None,
        "days_left": entry.days_left,
        "horizon": entry.bucket,
        "url": entry.url,
    }


def _channels(user: Any) -> dict[str, str]:
    return {"email": user.email} if user.email else {}


@service("risk.alerts_send")
def risk_alerts_send(*, on: dt.date | None = None, actor: Any) -> int:
    """The daily risk notifications (R4.5): every thing on the 90-day radar of `on` (default
    today) not yet alerted for its due date at its current horizon (overdue / 30 / 60 / 90
    days) is told to its responsible people — one notification per person listing all their
    new alerts — and recorded in RiskAlertSent, so it is never sent twice; crossing into the
    next horizon alerts again. A thing nobody could be told of is not recorded (it is tried
    again the next day). Returns how many things were alerted. Run daily by
    `metrolab send_risk_alerts` or its background task."""
    on = on or timezone.localdate()
    entries = radar(on=on, days=90)
    sent = set(
        RiskAlertSent.objects.filter(key__in=[e.key for e in entries]).values_list(
            "key", "due", "horizon"
        )
    )
    members = _RoleMembers()
    by_person: dict[int, list[Entry]] = defaultdict(list)
    people: dict[int, Any] = {}
    alerted: list[Entry] = []
    for entry in entries:
        due = entry.due or RiskAlertSent.NO_DUE
        if (entry.key, due, entry.horizon) in sent:
            continue
        recipients = alert_recipients(entry, members)
        if not recipients:
            logger.warning("risk alert %s has nobody to tell", entry.key)
            continue
        alerted.append(entry)
        for person in recipients:
            people[person.pk] = person
            by_person[person.pk].append(entry)
    if not alerted:
        return 0
    from metrolab.notifications.services import notify

    for pk, person_entries in by_person.items():
        subject, body = _alert_text(person_entries)
        notify(
            event=ALERT_EVENT,
            subject=subject,
            body=body,
            recipient_user=people[pk],
            channels=_channels(people[pk]),
            payload={"on": on.isoformat(), "entries": [_entry_payload(e) for e in person_entries]},
            actor=actor,
        )
    for entry in alerted:
        RiskAlertSent.objects.create(
            key=entry.key, due=entry.due or RiskAlertSent.NO_DUE, horizon=entry.horizon
        )
    return len(alerted)


# --- impact reviews -------------------------------------------------------------------------


def _require_editor(actor: Any):
    """The person opening or closing a review (they are named on it)."""
    return require_person(
        actor,
        REVIEW_EDITORS,
        message=_("Only the quality manager, the technical manager or an administrator does this."),
    )


def _review_opened_notify(review: ImpactReview, customers: list, actor: Any) -> None:
    from metrolab.notifications.services import notify

    for director in User.objects.filter(is_active=True, groups__name=DIRECTOR).order_by("pk"):
        if director.pk == review.opened_by_id:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Impact review opened: %(equipment)s") % {"equipment": review.equipment}
            body = _(
                "%(who)s opened an impact review of the work that used %(equipment)s from "
                "%(start)s to %(end)s: %(tasks)s task(s) of %(customers)s customer(s).\n"
                "Reason: %(reason)s"
            ) % {
                "who": review.opened_by,
                "equipment": review.equipment,
                "start": timezone.localtime(review.period_start).strftime("%Y-%m-%d %H:%M"),
                "end": timezone.localtime(review.period_end).strftime("%Y-%m-%d %H:%M"),
                "tasks": review.tasks.count(),
                "customers": len(customers),
                "reason": review.reason,
            }
        notify(
            event=REVIEW_OPENED_EVENT,
            subject=subject,
            body=body,
            recipient_user=director,
            channels=_channels(director),
            payload={"review": review.pk, "equipment": review.equipment.asset_no},
            related=review,
            actor=actor,
        )


@service("impact_review.open")
def impact_review_open(
    *,
    equipment: Equipment,
    start: dt.datetime,
    end: dt.datetime,
    reason: str,
    actor: Any,
) -> ImpactReview:
    """Open an impact review (影响评估, R4.5) of every piece of work that used `equipment`
    between `start` and `end` (inclusive): the tasks listed by the reverse traceability are
    linked and every listed row is kept as it is now. The technical managers are told."""
    user = _require_editor(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Give the reason for the impact review."), field="reason")
    if start is None or end is None or end <= start:
        raise ServiceError(_("The period must end after it starts."), field="end")
    rows = trace(equipment, start, end)
    review = ImpactReview.objects.create(
        equipment=equipment,
        period_start=start,
        period_end=end,
        reason=reason,
        opened_by=user,
        snapshot=[row.as_json() for row in rows],
    )
    review.tasks.set(trace_tasks(rows))
    _review_opened_notify(review, trace_customers(rows), actor)
    return review


@service("impact_review.close")
def impact_review_close(
    *, review: ImpactReview, conclusion: str, actor: Any, reason: str = ""
) -> ImpactReview:
    """Close an impact review with its conclusion (what the affected work needs: nothing,
    re-measurement, recall of certificates, telling the customers...)."""
    user = _require_editor(actor)
    conclusion = (conclusion or "").strip()
    if not conclusion:
        raise ServiceError(_("Write the conclusion of the review."), field="conclusion")
    review = ImpactReview.objects.select_for_update().get(pk=review.pk)
    if review.state != ImpactReview.State.OPEN:
        raise ServiceError(
            _("This impact review is already closed."), code=CoreRefusal.INVALID_TRANSITION
        )
    review.conclusion = conclusion
    review.state = ImpactReview.State.CLOSED
    review.closed_by = user
    review.closed_at = timezone.now()
    review.save(update_fields=["conclusion", "state", "closed_by", "closed_at"])
    return review
