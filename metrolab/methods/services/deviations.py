"""Deviations from a method for one commission line (偏离, R6.7c):
`deviation_request` → `deviation_authorise` / `deviation_refuse` (the technical manager;
never the one who requested it authorises it, R4.4) → `deviation_accept` /
`deviation_decline` (the customer in the portal) or `deviation_acceptance_upload` (the lab
records a signed acceptance). Verification (检定) admits no deviation: the request is refused.
Each step tells whoever must act next or asked for it."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from metrolab.commissions.choices import CommissionStatus, Service
from metrolab.commissions.models import Commission, CommissionLine
from metrolab.core.documents import document_store
from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import person, require_person
from metrolab.core.roles import DIRECTOR
from metrolab.core.service import ServiceError, service
from metrolab.core.text import field_checked
from metrolab.customers.selectors import portal_customer
from metrolab.customers.services import customer_notify
from metrolab.methods.errors import MethodRefusal
from metrolab.methods.models import Deviation, Method
from metrolab.methods.roles import DEVIATION_ACCEPTANCE_RECORDERS, DEVIATION_REQUESTERS
from metrolab.methods.services._common import text

logger = logging.getLogger(__name__)

AWAITING_ACCEPTANCE_EVENT = "deviation.awaiting_acceptance"
DECIDED_EVENT = "deviation.decided"
AWAITING_AUTHORISATION_EVENT = "deviation.awaiting_authorisation"


def _deviation_locked(deviation: Deviation) -> Deviation:
    return (
        Deviation.objects.select_for_update(of=("self",))
        .select_related("line__commission__customer", "line__commission__contact", "method")
        .get(pk=deviation.pk)
    )


def _state_required(deviation: Deviation, state: str) -> None:
    """Only the legal transitions: requested → authorised / refused; authorised → accepted /
    declined. Anything else is refused with the state the deviation is in."""
    if deviation.state != state:
        raise ServiceError(
            _("This deviation is %(state)s; it cannot be changed that way.")
            % {"state": deviation.get_state_display()},
            code=CoreRefusal.CONFLICT,
        )


def _deviation_url(deviation: Deviation) -> str:
    path = reverse("methods:deviation_detail", args=[deviation.pk])
    base = getattr(settings, "METROLAB_SITE_URL", "")
    return base.rstrip("/") + path if base else path


def _payload(deviation: Deviation) -> dict:
    return {
        "deviation": deviation.pk,
        "commission": deviation.line.commission.number,
        "method": str(deviation.method),
        "state": deviation.state,
    }


def _notify_user(
    user, *, event: str, subject: str, body: str, deviation: Deviation, actor: Any
) -> None:
    """Tell one lab user (their inbox). A failure to notify must not undo the decision it
    reports: it is logged (notify runs in its own savepoint)."""
    from metrolab.notifications.services import notify

    if user is None or not user.is_active:
        return
    try:
        notify(
            event=event,
            subject=subject,
            body=body,
            recipient_user=user,
            payload=_payload(deviation),
            related=deviation,
            actor=actor,
        )
    except Exception:
        logger.exception("notifying %s of %s failed", user, event)


def _notify_authorisers(deviation: Deviation, actor: Any) -> None:
    """A deviation awaits authorisation: tell the technical managers."""
    from metrolab.core.models import User

    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Deviation from %(method)s awaits your authorisation (%(number)s)") % {
            "method": deviation.method,
            "number": deviation.line.commission.number,
        }
        body = "\n".join(
            [
                subject,
                _("Deviation: %(text)s") % {"text": deviation.description},
                _("Justification: %(text)s") % {"text": deviation.justification},
                _deviation_url(deviation),
            ]
        )
    for user in User.objects.filter(groups__name=DIRECTOR, is_active=True).distinct():
        _notify_user(
            user,
            event=AWAITING_AUTHORISATION_EVENT,
            subject=subject,
            body=body,
            deviation=deviation,
            actor=actor,
        )


def _notify_customer(deviation: Deviation, actor: Any) -> None:
    """An authorised deviation awaits the customer's acceptance: tell the customer's portal
    accounts (inbox), the commission's contact on their channels and the webhooks."""
    commission = deviation.line.commission
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Commission %(number)s: a deviation awaits your acceptance") % {
            "number": commission.number
        }
        body = "\n".join(
            [
                subject,
                _("Instrument: %(name)s") % {"name": deviation.line.instrument_name},
                _("Method: %(method)s") % {"method": deviation.method.designation},
                _("Deviation: %(text)s") % {"text": deviation.description},
                _("Justification: %(text)s") % {"text": deviation.justification},
                _("Accept or decline it in the portal: %(url)s")
                % {"url": _deviation_url(deviation)},
            ]
        )
    customer_notify(
        customer=commission.customer,
        contact=commission.contact,
        event=AWAITING_ACCEPTANCE_EVENT,
        subject=subject,
        body=body,
        payload=_payload(deviation),
        related=deviation,
        actor=actor,
    )


def _notify_requester(deviation: Deviation, actor: Any) -> None:
    """The deviation was decided (by the technical manager or the customer): tell whoever
    requested it."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Deviation from %(method)s (%(number)s): %(state)s") % {
            "method": deviation.method,
            "number": deviation.line.commission.number,
            "state": deviation.get_state_display(),
        }
        lines = [subject]
        customer_answered = deviation.state in (Deviation.State.ACCEPTED, Deviation.State.DECLINED)
        note = deviation.customer_note if customer_answered else deviation.decision_note
        if note:
            lines.append(_("Note: %(note)s") % {"note": note})
        lines.append(_deviation_url(deviation))
    _notify_user(
        deviation.requested_by,
        event=DECIDED_EVENT,
        subject=subject,
        body="\n".join(lines),
        deviation=deviation,
        actor=actor,
    )


@service("deviation.request")
def deviation_request(
    *,
    line: CommissionLine,
    method: Method,
    description: str,
    justification: str,
    actor: Any,
    reason: str = "",
) -> Deviation:
    """Request a deviation from `method` for one commission line (偏离, R6.7c): what departs
    from the method and its technical justification, by a metrologist, the technical manager
    or an administrator. Verification (检定) admits no deviation: such a request is refused
    (code "verification_no_deviation"). The technical managers are told."""
    user = require_person(
        actor,
        DEVIATION_REQUESTERS,
        message=_(
            "Only a metrologist, the technical manager or an administrator may request a deviation."
        ),
    )
    line = CommissionLine.objects.select_related("commission").get(pk=line.pk)
    if line.service == Service.VERIFICATION:
        raise ServiceError(
            _(
                "Verification admits no deviation: the regulation must be followed as written "
                "(%(instrument)s, commission %(number)s)."
            )
            % {"instrument": line.instrument_name, "number": line.commission.number},
            code=MethodRefusal.VERIFICATION_NO_DEVIATION,
            field="line",
        )
    commission = line.commission
    if (
        commission.status == CommissionStatus.CANCELLED
        or commission.review == Commission.Review.REJECTED
    ):
        raise ServiceError(
            _(
                "Commission %(number)s is cancelled or was rejected; no deviation can be "
                "requested for it."
            )
            % {"number": commission.number},
            code=CoreRefusal.CONFLICT,
        )
    if method is None:
        raise ServiceError(_("Choose the method the deviation departs from."), field="method")
    description, justification = text(description), text(justification)
    if not description:
        raise ServiceError(_("Describe the deviation from the method."), field="description")
    if not justification:
        raise ServiceError(
            _("Give the technical justification of the deviation."), field="justification"
        )
    deviation = Deviation.objects.create(
        line=line,
        method=method,
        description=description,
        justification=justification,
        requested_by=user,
    )
    _notify_authorisers(deviation, actor)
    return deviation


def _check_authoriser(actor: Any) -> Any:
    """The technical manager decides (the role itself: an administrator does not)."""
    user = person(actor)
    if user is None or not user.has_role(DIRECTOR):
        raise ServiceError(
            _("Only the technical manager may authorise or refuse a deviation."),
            code=CoreRefusal.FORBIDDEN,
        )
    return user


@service("deviation.authorise")
def deviation_authorise(
    *, deviation: Deviation, note: str = "", actor: Any, reason: str = ""
) -> Deviation:
    """The technical manager (技术负责人) authorises a requested deviation, with a note if any
    (R6.7c). It then awaits the customer's acceptance: the customer is told; so is the
    requester. Whoever requested the deviation cannot authorise it (R4.4: no self-approval;
    code "self_approval"): another technical manager does. They may still refuse their own
    request, which withdraws it."""
    user = _check_authoriser(actor)
    deviation = _deviation_locked(deviation)
    _state_required(deviation, Deviation.State.REQUESTED)
    if deviation.requested_by_id == user.pk:
        raise ServiceError(
            _(
                "You requested this deviation, so you cannot authorise it: another technical "
                "manager must (no one approves their own request)."
            ),
            code=MethodRefusal.SELF_APPROVAL,
        )
    deviation.state = Deviation.State.AUTHORISED
    deviation.authorised_by = user
    deviation.authorised_at = timezone.now()
    deviation.decision_note = text(note)
    deviation.save(
        update_fields=["state", "authorised_by", "authorised_at", "decision_note", "updated_at"]
    )
    _notify_customer(deviation, actor)
    _notify_requester(deviation, actor)
    return deviation


@service("deviation.refuse")
def deviation_refuse(*, deviation: Deviation, note: str, actor: Any, reason: str = "") -> Deviation:
    """The technical manager refuses a requested deviation, giving the reason; the method is
    then followed as written. `authorised_by` / `authorised_at` record who decided and when.
    The requester is told."""
    user = _check_authoriser(actor)
    deviation = _deviation_locked(deviation)
    _state_required(deviation, Deviation.State.REQUESTED)
    note = text(note)
    if not note:
        raise ServiceError(_("Give the reason for the refusal."), field="note")
    deviation.state = Deviation.State.REFUSED
    deviation.authorised_by = user
    deviation.authorised_at = timezone.now()
    deviation.decision_note = note
    deviation.save(
        update_fields=["state", "authorised_by", "authorised_at", "decision_note", "updated_at"]
    )
    _notify_requester(deviation, actor)
    return deviation


def _check_customer(deviation: Deviation, actor: Any) -> Any:
    """Only a portal account of the commission's customer answers for the customer."""
    user = person(actor)
    own = portal_customer(user)
    if own is None or own.pk != deviation.line.commission.customer_id:
        raise ServiceError(
            _("Only the customer of this commission may accept or decline its deviations."),
            code=CoreRefusal.FORBIDDEN,
        )
    return user


def _customer_answer(deviation: Deviation, *, state: str, note: str, actor: Any) -> Deviation:
    deviation = _deviation_locked(deviation)
    user = _check_customer(deviation, actor)
    _state_required(deviation, Deviation.State.AUTHORISED)
    deviation.state = state
    deviation.acceptance = Deviation.Acceptance.PORTAL
    deviation.accepted_by = user
    deviation.accepted_at = timezone.now()
    deviation.customer_note = text(note)
    deviation.save(
        update_fields=[
            "state",
            "acceptance",
            "accepted_by",
            "accepted_at",
            "customer_note",
            "updated_at",
        ]
    )
    _notify_requester(deviation, actor)
    return deviation


@service("deviation.accept")
def deviation_accept(
    *, deviation: Deviation, note: str = "", actor: Any, reason: str = ""
) -> Deviation:
    """The customer accepts an authorised deviation in the portal (R6.7c): it is then in
    force for its line and method. The requester is told."""
    return _customer_answer(deviation, state=Deviation.State.ACCEPTED, note=note, actor=actor)


@service("deviation.decline")
def deviation_decline(
    *, deviation: Deviation, note: str = "", actor: Any, reason: str = ""
) -> Deviation:
    """The customer declines an authorised deviation in the portal: the method is followed
    as written (or the work is not done). The requester is told."""
    return _customer_answer(deviation, state=Deviation.State.DECLINED, note=note, actor=actor)


@service("deviation.acceptance_upload")
def deviation_acceptance_upload(
    *, deviation: Deviation, upload, note: str = "", actor: Any, reason: str = ""
) -> Deviation:
    """The lab records the customer's acceptance of an authorised deviation from a signed
    paper (a PDF scan or a photo), kept by its SHA-256 (R6.7c). Done by the desk, the
    technical manager or an administrator; `accepted_by` is who recorded it."""
    user = require_person(
        actor,
        DEVIATION_ACCEPTANCE_RECORDERS,
        message=_(
            "Only the desk, the technical manager or an administrator may record a signed "
            "acceptance."
        ),
    )
    deviation = _deviation_locked(deviation)
    _state_required(deviation, Deviation.State.AUTHORISED)
    if upload is None:
        raise ServiceError(_("Attach the signed acceptance."), field="file")
    note = field_checked(Deviation, "customer_note", text(note), field="note")
    deviation.attach(document_store(upload, field="file"))
    deviation.state = Deviation.State.ACCEPTED
    deviation.acceptance = Deviation.Acceptance.UPLOAD
    deviation.accepted_by = user
    deviation.accepted_at = timezone.now()
    deviation.customer_note = note
    deviation.save()
    _notify_requester(deviation, actor)
    return deviation
