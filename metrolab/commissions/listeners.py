"""The applicant is told of every status node and of the contract review decision (R6.1b-c):
SMS / e-mail / WeChat to the commission's contact (or the customer's primary contact) as they
chose, the inbox of the customer's portal users, and the customer's webhooks. Registered with
the services' listener lists by `CommissionsConfig.ready`. Without the notification service
installed the notices are skipped with a log line (metrolab.customers.services.customer_notify).
The notices are sent as the actor of the service call that reached the node.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from metrolab.commissions import links, selectors
from metrolab.commissions.choices import CommissionStatus
from metrolab.commissions.models import Commission
from metrolab.core.permissions import current_actor
from metrolab.customers.services import customer_notify

STATUS_EVENT = "commission.status_changed"
REVIEW_EVENT = "commission.reviewed"


def _payload(commission: Commission, **extra) -> dict:
    """What customers' systems (webhooks) and the portal inbox get: the status link too (the
    inbox shows it with its QR code)."""
    return {
        "number": commission.number,
        "customer": commission.customer.code,
        "query_code": commission.query_code,
        "status_url": links.status_url(commission),
        **extra,
    }


def _follow_line(commission: Commission) -> str:
    return _("Follow it online: %(url)s") % {"url": links.status_url(commission)}


def commission_status_notify(commission: Commission, status: str) -> None:
    """A status node was reached: tell the applicant (R6.1c)."""
    with translation.override(settings.LANGUAGE_CODE):
        label = str(CommissionStatus(status).label)
        subject = _("Commission %(number)s: %(status)s") % {
            "number": commission.number,
            "status": label,
        }
        lines = [subject]
        if status == CommissionStatus.APPLIED:
            lines.append(
                _(
                    "Query code: %(code)s. Follow its progress at %(url)s (the link holds the "
                    "number and this code)."
                )
                % {"code": commission.query_code, "url": links.status_url(commission)}
            )
        if status == CommissionStatus.CANCELLED:
            event = commission.status_events.filter(status=status).order_by("-at").first()
            if event is not None and event.note:
                lines.append(_("Reason: %(reason)s") % {"reason": event.note})
        if status != CommissionStatus.APPLIED:
            expected = selectors.commission_expected_date(commission)
            if expected is not None and status != CommissionStatus.CANCELLED:
                lines.append(_("Expected completion: %(date)s") % {"date": expected.isoformat()})
            lines.append(_follow_line(commission))
    customer_notify(
        customer=commission.customer,
        contact=commission.contact,
        event=STATUS_EVENT,
        subject=subject,
        body="\n".join(lines),
        payload=_payload(commission, status=status, status_label=label),
        related=commission,
        actor=current_actor(),
    )


def commission_review_notify(commission: Commission) -> None:
    """The contract review decided: tell the applicant, with the conditions or the reason."""
    with translation.override(settings.LANGUAGE_CODE):
        decision = str(commission.get_review_display())
        subject = _("Commission %(number)s: %(decision)s") % {
            "number": commission.number,
            "decision": decision,
        }
        body = subject
        if commission.review_note:
            body += "\n" + commission.review_note
        if commission.review == Commission.Review.ACCEPTED:
            body += "\n" + _("Confirmed quote: %(total)s CNY.") % {"total": commission.quote_total}
        body += "\n" + _follow_line(commission)
    customer_notify(
        customer=commission.customer,
        contact=commission.contact,
        event=REVIEW_EVENT,
        subject=subject,
        body=body,
        payload=_payload(commission, review=commission.review, note=commission.review_note),
        related=commission,
        actor=current_actor(),
    )
