"""Writes of the methods library and of deviations (R6.7a-c, R6.8a). Every function is a
service (metrolab.core.service): one transaction, audited with the actor; a refusal raises
ServiceError and writes nothing.

- `method_create` / `method_update` / `method_file_attach`: regulations and specifications
  with their dates and supersession, checked so that the computed status stays meaningful;
- `category_create` / `category_update`: the instrument categories methods cover;
- `deviation_request` → `deviation_authorise` / `deviation_refuse` (the technical manager;
  never the one who requested it authorises it, R4.4) →
  `deviation_accept` / `deviation_decline` (the customer in the portal) or
  `deviation_acceptance_upload` (the lab records a signed acceptance). Verification (检定)
  admits no deviation: the request is refused (R6.7c).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from metrolab.commissions.choices import CommissionStatus, Service
from metrolab.commissions.models import Commission, CommissionLine
from metrolab.core.documents import document_store
from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import person, require_person, require_roles
from metrolab.core.roles import DIRECTOR
from metrolab.core.service import ServiceError, service
from metrolab.core.text import field_checked
from metrolab.customers.selectors import portal_customer
from metrolab.customers.services import customer_notify
from metrolab.methods.coverage import classes_normalised
from metrolab.methods.errors import MethodRefusal
from metrolab.methods.models import Deviation, InstrumentCategory, Method
from metrolab.methods.roles import (
    DEVIATION_ACCEPTANCE_RECORDERS,
    DEVIATION_REQUESTERS,
    METHOD_EDITORS,
)

logger = logging.getLogger(__name__)

METHOD_FIELDS = (
    "kind",
    "code",
    "year",
    "title",
    "title_en",
    "published_date",
    "effective_date",
    "abolished_date",
    "superseded_by",
    "services",
    "accuracy_classes",
    "range_low",
    "range_high",
    "range_unit",
    "notes",
)
METHOD_RELATIONS = ("disciplines", "categories")
CATEGORY_FIELDS = ("code", "name", "name_en", "discipline")

AWAITING_ACCEPTANCE_EVENT = "deviation.awaiting_acceptance"
DECIDED_EVENT = "deviation.decided"
AWAITING_AUTHORISATION_EVENT = "deviation.awaiting_authorisation"


def _check_editor(actor: Any) -> None:
    """The library is kept by the quality manager and administrators; the system (the demo)
    is trusted, an anonymous visitor is not."""
    require_roles(
        actor,
        METHOD_EDITORS,
        message=_("Only the quality manager or an administrator may edit the methods library."),
    )


def _model_checked(instance: Model, exclude: list[str] | None = None) -> None:
    """The model's own validation (required fields, lengths, choices) as a ServiceError on the
    first field at fault. Uniqueness is checked by the callers, with clearer messages."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ServiceError(
            " ".join(str(m) for m in messages), field=None if field == "__all__" else field
        ) from None


def _copy(instance: Model, data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ServiceError(_("Unknown field: %s") % ", ".join(sorted(unknown)))
    for name, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(instance, name, value)


# --- methods --------------------------------------------------------------------------------


def _services_normalised(value: str) -> str:
    """ "calibration, verification" → "calibration,verification"; unknown codes are refused."""
    codes = [c.strip() for c in (value or "").replace(";", ",").split(",") if c.strip()]
    unknown = [c for c in codes if c not in Service.values]
    if unknown:
        raise ServiceError(
            _("Unknown service: %(codes)s (use %(known)s).")
            % {"codes": ", ".join(unknown), "known": ", ".join(Service.values)},
            field="services",
        )
    return ",".join(dict.fromkeys(codes))


def _supersession_checked(method: Method) -> None:
    """The successor is another method, not one that (through its own successors) leads back
    to this one, and it takes effect after this method does; this method in turn takes effect
    after every method it supersedes. Otherwise the computed status would be meaningless."""
    successor = method.superseded_by
    if successor is not None:
        if method.pk is not None and successor.pk == method.pk:
            raise ServiceError(_("A method cannot be superseded by itself."), field="superseded_by")
        seen = {method.pk}
        step = successor
        while step is not None and method.pk is not None:
            if step.pk in seen:
                raise ServiceError(
                    _(
                        "%(successor)s is already superseded, directly or through its "
                        "successors, by %(method)s: the versions would go round in a circle."
                    )
                    % {"successor": successor, "method": method},
                    field="superseded_by",
                )
            seen.add(step.pk)
            step = step.superseded_by
        if successor.effective_date <= method.effective_date:
            raise ServiceError(
                _(
                    "The successor %(successor)s takes effect on %(successor_date)s; it must "
                    "take effect after this method (%(own_date)s)."
                )
                % {
                    "successor": successor,
                    "successor_date": successor.effective_date.isoformat(),
                    "own_date": method.effective_date.isoformat(),
                },
                field="superseded_by",
            )
    if method.pk is None:
        return
    for predecessor in Method.objects.filter(superseded_by=method).order_by("effective_date"):
        if predecessor.effective_date >= method.effective_date:
            raise ServiceError(
                _(
                    "This method supersedes %(predecessor)s (effective %(date)s); it must take "
                    "effect after it."
                )
                % {"predecessor": predecessor, "date": predecessor.effective_date.isoformat()},
                field="effective_date",
            )


def _coverage_checked(method: Method) -> None:
    """The range a method covers: its ends in order, and a unit when an end is given."""
    low, high = method.range_low, method.range_high
    if low is not None and high is not None and low > high:
        raise ServiceError(
            _("The lower end of the range covered is above its upper end."), field="range_low"
        )
    if (low is not None or high is not None) and not method.range_unit:
        raise ServiceError(_("Give the unit of the range covered."), field="range_unit")


def _method_checked(method: Method) -> None:
    """Every rule of a method's fields, before anything is written."""
    if method.effective_date is None:
        raise ServiceError(_("Give the date the method takes effect."), field="effective_date")
    method.services = _services_normalised(method.services)
    method.accuracy_classes = classes_normalised(method.accuracy_classes)
    method.range_unit = (method.range_unit or "").strip()
    _model_checked(method)
    _coverage_checked(method)
    if method.abolished_date is not None and method.abolished_date <= method.effective_date:
        raise ServiceError(
            _("The abolition date must be after the effective date (%(date)s).")
            % {"date": method.effective_date.isoformat()},
            field="abolished_date",
        )
    _supersession_checked(method)
    duplicate = Method.objects.filter(code__iexact=method.code, year=method.year)
    if method.pk is not None:
        duplicate = duplicate.exclude(pk=method.pk)
    if duplicate.exists():
        raise ServiceError(
            _("%(code)s-%(year)s is in the library already.")
            % {"code": method.code, "year": method.year},
            code=CoreRefusal.DUPLICATE,
            field="code",
        )


def _pdf_stored(upload):
    document = document_store(upload, field="file")
    if document.content_type != "application/pdf":
        raise ServiceError(_("The text of a method must be a PDF file."), field="file")
    return document


def _relations_set(method: Method, relations: dict[str, Iterable | None]) -> None:
    for name, values in relations.items():
        if values is not None:
            getattr(method, name).set(list(values))


def _split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Iterable | None]]:
    data = dict(data)
    relations = {name: data.pop(name) for name in METHOD_RELATIONS if name in data}
    return data, relations


@service("method.create")
def method_create(*, data: dict[str, Any], upload=None, actor: Any, reason: str = "") -> Method:
    """Add a regulation or specification to the library (R6.7a, R6.8a): kind, code, year,
    title, dates, successor, services, disciplines and instrument categories (`data`), and its
    text as a PDF (`upload`, optional). The effective date is required; an abolition date must
    come after it; the successor must be another method taking effect later, with no circle;
    code and year together are unique."""
    _check_editor(actor)
    fields, relations = _split(data)
    method = Method()
    _copy(method, fields, METHOD_FIELDS)
    _method_checked(method)
    if upload is not None:
        method.attach(_pdf_stored(upload))
    method.save()
    _relations_set(method, relations)
    return method


@service("method.update")
def method_update(
    *, method: Method, data: dict[str, Any], upload=None, actor: Any, reason: str = ""
) -> Method:
    """Edit a method of the library (R6.8a: kept current); fields not named keep their value.
    The same rules as `method_create` apply, and a method it supersedes must still take
    effect before it. A new PDF replaces the link to the old one (the old file is kept)."""
    _check_editor(actor)
    fields, relations = _split(data)
    method = Method.objects.select_for_update().get(pk=method.pk)
    _copy(method, fields, METHOD_FIELDS)
    _method_checked(method)
    if upload is not None:
        method.attach(_pdf_stored(upload))
    method.save()
    _relations_set(method, relations)
    return method


@service("method.file_attach")
def method_file_attach(*, method: Method, upload, actor: Any, reason: str = "") -> Method:
    """Attach the text of a method (a PDF), kept by its SHA-256 and never overwritten."""
    _check_editor(actor)
    method = Method.objects.select_for_update().get(pk=method.pk)
    method.attach(_pdf_stored(upload))
    method.save(update_fields=["file_sha256", "file_name", "file_type", "updated_at"])
    return method


# --- instrument categories ------------------------------------------------------------------


def _category_checked(category: InstrumentCategory) -> None:
    _model_checked(category)
    duplicate = InstrumentCategory.objects.filter(code__iexact=category.code)
    if category.pk is not None:
        duplicate = duplicate.exclude(pk=category.pk)
    if duplicate.exists():
        raise ServiceError(
            _("The category code %(code)s is taken already.") % {"code": category.code},
            code=CoreRefusal.DUPLICATE,
            field="code",
        )


@service("instrument_category.create")
def category_create(*, data: dict[str, Any], actor: Any, reason: str = "") -> InstrumentCategory:
    """Add an instrument category (器具类别) that methods and authorised items cover."""
    _check_editor(actor)
    category = InstrumentCategory()
    _copy(category, data, CATEGORY_FIELDS)
    _category_checked(category)
    category.save()
    return category


@service("instrument_category.update")
def category_update(
    *, category: InstrumentCategory, data: dict[str, Any], actor: Any, reason: str = ""
) -> InstrumentCategory:
    """Edit an instrument category; fields not named keep their value."""
    _check_editor(actor)
    category = InstrumentCategory.objects.select_for_update().get(pk=category.pk)
    _copy(category, data, CATEGORY_FIELDS)
    _category_checked(category)
    category.save()
    return category


# --- deviations -----------------------------------------------------------------------------


def _text(value: str) -> str:
    return (value or "").strip()


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
    description, justification = _text(description), _text(justification)
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
    deviation.decision_note = _text(note)
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
    note = _text(note)
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
    deviation.customer_note = _text(note)
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
    note = field_checked(Deviation, "customer_note", _text(note), field="note")
    deviation.attach(document_store(upload, field="file"))
    deviation.state = Deviation.State.ACCEPTED
    deviation.acceptance = Deviation.Acceptance.UPLOAD
    deviation.accepted_by = user
    deviation.accepted_at = timezone.now()
    deviation.customer_note = note
    deviation.save()
    _notify_requester(deviation, actor)
    return deviation
