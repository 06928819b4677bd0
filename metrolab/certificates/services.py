"""Writes of certificates (R6.3, R9.1): queue a certificate when a record is approved, issue it
in the background (DCC → PDF/A-3b → PAdES signature → content-addressed store), revoke and
replace it, and audit each download.

Numbers: the certificate number follows `METROLAB_CERTIFICATE_NUMBER` (default
"{prefix}{year}-{seq:06d}", the prefix per kind from `METROLAB_CERTIFICATE_PREFIXES`, one
counter per prefix and year); the electronic certificate identifier (R6.3d) is
"<METROLAB_CERTIFICATE_ID_PREFIX>-<year>-<seq7>-<cc>", one counter per year for all kinds, with
ISO 7064 MOD 97-10 check digits <cc> so that a mistyped identifier is recognised as one.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from metrolab.certificates.errors import CertificateRefusal
from metrolab.certificates.models import Certificate, CertificateNumberCounter
from metrolab.commissions.choices import Service
from metrolab.core import audit, files
from metrolab.core.errors import CoreRefusal
from metrolab.core.models import OrganisationProfile
from metrolab.core.permissions import SYSTEM, is_system, person, require_roles
from metrolab.core.roles import ADMIN, APPROVER, DIRECTOR, QUALITY_MANAGER
from metrolab.core.service import ServiceError, service
from metrolab.core.text import NOTE
from metrolab.records.models import Record

log = logging.getLogger(__name__)

AREA = "certificates"
# Who revokes, replaces and re-issues certificates: the authorised signatories and managers.
MANAGING_ROLES = (APPROVER, DIRECTOR, QUALITY_MANAGER, ADMIN)
# The verification code printed on a certificate: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
VALID = (Certificate.Status.QUEUED, Certificate.Status.ISSUING, Certificate.Status.ISSUED)

DEFAULT_NUMBER_FORMAT = "{prefix}{year}-{seq:06d}"
DEFAULT_PREFIXES = {
    Certificate.Kind.VERIFICATION: "JD",
    Certificate.Kind.VERIFICATION_FAIL: "JT",
    Certificate.Kind.CALIBRATION: "JZ",
    Certificate.Kind.TEST: "JC",
    Certificate.Kind.INSPECTION: "JY",
}


# --- numbers ---------------------------------------------------------------------------------


def _take(key: str) -> int:
    """The next sequence of counter `key` (its row locked until the transaction ends)."""
    counters = CertificateNumberCounter.objects.select_for_update()
    counter = counters.filter(key=key).first()
    if counter is None:
        try:
            with transaction.atomic():
                counter = CertificateNumberCounter.objects.create(key=key, last=0)
        except IntegrityError:  # made meanwhile by another certificate
            counter = counters.get(key=key)
    counter.last += 1
    counter.save(update_fields=["last", "updated_at"])
    return counter.last


def number_format() -> tuple[str, dict[str, str]]:
    """The configured number rule and prefixes, checked: ImproperlyConfigured when the rule
    does not give distinct numbers ({seq} missing) or names an unknown field."""
    rule = getattr(settings, "METROLAB_CERTIFICATE_NUMBER", "") or DEFAULT_NUMBER_FORMAT
    prefixes = {
        **DEFAULT_PREFIXES,
        **(getattr(settings, "METROLAB_CERTIFICATE_PREFIXES", {}) or {}),
    }
    if "{seq" not in rule:
        raise ImproperlyConfigured("METROLAB_CERTIFICATE_NUMBER must contain {seq}")
    try:
        rule.format(prefix="X", year=2026, yy="26", month="01", seq=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ImproperlyConfigured(f"METROLAB_CERTIFICATE_NUMBER {rule!r}: {exc}") from None
    return rule, prefixes


def next_number(kind: str, day: dt.date) -> str:
    """The next certificate number of `kind` in `day`'s year by the configured rule."""
    rule, prefixes = number_format()
    prefix = prefixes.get(kind, "")
    seq = _take(f"number:{prefix}:{day.year}")
    return rule.format(
        prefix=prefix, year=day.year, yy=f"{day.year % 100:02d}", month=f"{day.month:02d}", seq=seq
    )


def _mod97_value(text: str) -> int:
    """ISO 7064 / ISO 13616 letters-as-numbers (A = 10 … Z = 35), then MOD 97."""
    digits = "".join(str(int(c, 36)) for c in text if c.isalnum())
    return int(digits) % 97 if digits else 0


def check_digits(body: str) -> str:
    """ISO 7064 MOD 97-10 check digits of `body` (letters and digits; other signs ignored)."""
    return f"{98 - _mod97_value(body.upper() + '00'):02d}"


def identifier_is_well_formed(identifier: str) -> bool:
    """Whether the check digits of an identifier hold (a mistyped one fails, like an IBAN)."""
    body, _, cc = (identifier or "").strip().upper().rpartition("-")
    return bool(body) and len(cc) == 2 and cc.isdigit() and check_digits(body) == cc


def identifier_prefix() -> str:
    prefix = (getattr(settings, "METROLAB_CERTIFICATE_ID_PREFIX", "") or "ML").strip().upper()
    return "".join(c for c in prefix if c.isalnum() or c == "-").strip("-") or "ML"


def next_identifier(day: dt.date) -> str:
    """The next electronic certificate identifier (R6.3d): unique by its counter, with check
    digits."""
    prefix = identifier_prefix()
    seq = _take(f"identifier:{day.year}")
    body = f"{prefix}-{day.year}-{seq:07d}"
    return f"{body}-{check_digits(body)}"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# --- kinds and the public summary ------------------------------------------------------------


def kind_for(record: Record) -> str:
    """The certificate kind of an approved record: the task's service, and for a verification
    its conclusion (a failed verification gets a 检定结果通知书)."""
    service_name = record.task.service
    if service_name == Service.VERIFICATION:
        failed = record.decision in ("fail", "conditional_fail")
        return Certificate.Kind.VERIFICATION_FAIL if failed else Certificate.Kind.VERIFICATION
    return {
        Service.CALIBRATION: Certificate.Kind.CALIBRATION,
        Service.TESTING: Certificate.Kind.TEST,
        Service.INSPECTION: Certificate.Kind.INSPECTION,
    }.get(service_name, Certificate.Kind.CALIBRATION)


def abbreviate(name: str) -> str:
    """A customer's name as the public verification shows it: the first two and the last
    four characters, the rest masked (上海某某精密仪表有限公司 → 上海****有限公司)."""
    name = (name or "").strip()
    if len(name) <= 4:
        return name[:1] + "*" * max(len(name) - 1, 0)
    keep_end = 4 if len(name) > 8 else 2
    return name[:2] + "*" * (len(name) - 2 - keep_end) + name[-keep_end:]


def _summary(record: Record, lab: OrganisationProfile | None) -> dict[str, Any]:
    context = record.context or {}
    item = context.get("item") or {}
    return {
        "customer": abbreviate((context.get("customer") or {}).get("name") or ""),
        "item": item.get("name") or "",
        "model": item.get("model_range") or "",
        "serial_no": item.get("serial_no") or "",
        "issuer": lab.name if lab else "",
        "method": (context.get("method") or {}).get("code") or "",
    }


# --- queueing --------------------------------------------------------------------------------


def _enqueue(certificate_id: int) -> None:
    from metrolab.certificates.tasks import certificate_issue_task

    certificate_issue_task.enqueue(certificate_id=certificate_id)


@service("certificate.queue")
def certificate_queue(
    *, record: Record, actor: Any, replaces: Certificate | None = None, reason: str = ""
) -> Certificate:
    """Queue the certificate of an approved record: its number, identifier and verification
    code are given now; the worker renders, signs and stores it (`certificate_issue_run`).
    Refused when the record is not approved or already has a valid or pending certificate."""
    record = Record.objects.select_related("task__item__commission").get(pk=record.pk)
    if record.status != Record.Status.APPROVED or record.locked_at is None:
        raise ServiceError(
            _(
                "Only an approved original record makes a certificate "
                "(record %(number)s is %(status)s)."
            )
            % {"number": record.number, "status": record.get_status_display()},
            code=CertificateRefusal.RECORD_NOT_APPROVED,
        )
    existing = Certificate.objects.filter(record=record, status__in=VALID).first()
    if existing is not None and (replaces is None or existing.pk != replaces.pk):
        raise ServiceError(
            _("Record %(record)s already has certificate %(number)s.")
            % {"record": record.number, "number": existing.number},
            code=CertificateRefusal.ALREADY_CERTIFIED,
        )
    day = timezone.localdate()
    kind = kind_for(record)
    lab = OrganisationProfile.objects.filter(pk=1).first()
    certificate = Certificate.objects.create(
        number=next_number(kind, day),
        identifier=next_identifier(day),
        verification_code=new_code(),
        kind=kind,
        record=record,
        task=record.task,
        item=record.task.item,
        commission=record.task.item.commission,
        replaces=replaces,
        replace_reason=reason if replaces is not None else "",
        requested_by=person(actor),
        summary=_summary(record, lab),
    )
    transaction.on_commit(partial(_enqueue, certificate.pk))
    return certificate


def on_record_approved(*, record: Record, actor: Any) -> None:
    """The records' approval listener: queue the record's certificate, requested by the
    approver; an approved amendment (record.amends) replaces the certificate of the record it
    amends."""
    replaces = None
    reason = ""
    if record.amends_id:
        replaces = (
            Certificate.objects.filter(record_id=record.amends_id, status__in=VALID)
            .order_by("-pk")
            .first()
        )
        if replaces is not None:
            reason = _("Record %(old)s amended by %(new)s.") % {
                "old": record.amends.number,
                "new": record.number,
            }
    certificate_queue(record=record, actor=actor, replaces=replaces, reason=reason)


@service("certificate.batch_issue")
def certificate_batch_issue(
    *, records: list[Record], actor: Any, reason: str = ""
) -> list[Certificate]:
    """Queue the certificates of many approved records at once: a record whose certificate
    failed gets that certificate retried (same number); one without any gets a new one;
    records with a valid or pending certificate, or not approved, are skipped. Returns the
    certificates queued."""
    require_roles(actor, MANAGING_ROLES)
    queued = []
    for record in records:
        if record.status != Record.Status.APPROVED:
            continue
        if Certificate.objects.filter(record=record, status__in=VALID).exists():
            continue
        failed = (
            Certificate.objects.filter(record=record, status=Certificate.Status.FAILED)
            .order_by("-pk")
            .first()
        )
        if failed is not None:
            queued.append(certificate_retry(certificate=failed, actor=actor))
        else:
            queued.append(certificate_queue(record=record, actor=actor))
    return queued


# --- issuing (the worker) --------------------------------------------------------------------


def verify_url(certificate: Certificate) -> str:
    """The QR link: the public verification page of this certificate with its code."""
    from django.urls import reverse
    from django.utils.http import urlencode

    from metrolab.commissions.links import site_base_url

    path = reverse("verify:link", args=[certificate.identifier])
    return f"{site_base_url()}{path}?{urlencode({'code': certificate.verification_code})}"


SEAL_LINES = {
    Certificate.Kind.VERIFICATION: "检定电子证书专用章",
    Certificate.Kind.VERIFICATION_FAIL: "检定电子证书专用章",
    Certificate.Kind.CALIBRATION: "校准电子证书专用章",
    Certificate.Kind.TEST: "检测电子证书专用章",
    Certificate.Kind.INSPECTION: "检验电子证书专用章",
}
SEAL_FIELDS = {
    Certificate.Kind.VERIFICATION: "seal_verification",
    Certificate.Kind.VERIFICATION_FAIL: "seal_verification",
    Certificate.Kind.CALIBRATION: "seal_calibration",
    Certificate.Kind.TEST: "seal_testing",
    Certificate.Kind.INSPECTION: "seal_inspection",
}


def seal_for(kind: str, lab: OrganisationProfile | None) -> dict[str, str]:
    """The seal's ring text (the lab) and its line (the kind's "…电子证书专用章") from the
    organisation profile's seal text: "<lab name><line>" is split at the line; a text without
    one of the lines is printed whole around the ring with the kind's line below."""
    line = SEAL_LINES[kind]
    name = lab.name if lab else ""
    text = (getattr(lab, SEAL_FIELDS[kind], "") or "").strip() if lab else ""
    if text:
        for candidate in set(SEAL_LINES.values()):
            if text.endswith(candidate) and len(text) > len(candidate):
                return {"name": text[: -len(candidate)].strip(), "line": candidate}
        return {"name": text, "line": line}
    return {"name": name, "line": line}


def document_for(certificate: Certificate, *, lab: OrganisationProfile | None) -> dict[str, Any]:
    """What the PDF prints: the DCC's content plus the certificate's own fields."""
    from metrolab.certificates.dcc import dcc_content
    from metrolab.records import calculation

    record = certificate.record
    content = dcc_content(
        record,
        number=certificate.number,
        identifier=certificate.identifier,
        issued_on=certificate.issued_on,
        lab=lab or {},
    )
    if certificate.replaces_id:
        content["replaces"] = {
            "number": certificate.replaces.number,
            "identifier": certificate.replaces.identifier,
            "reason": certificate.replace_reason,
        }
    else:
        content["replaces"] = None
    next_due = ""
    if certificate.kind == Certificate.Kind.VERIFICATION:
        begin = (
            timezone.localdate(record.approved_at) if record.approved_at else certificate.issued_on
        )
        due = calculation.evaluate(record).next_due(begin)
        next_due = due.isoformat() if due else ""
    deviations = _deviations(record)
    from metrolab.commissions.links import site_base_url

    content.update(
        kind=certificate.kind,
        verification_code=certificate.verification_code,
        verify_url=verify_url(certificate),
        verify_site=site_base_url(),
        location=_location(record),
        next_due=next_due,
        deviations=deviations,
        seal=seal_for(certificate.kind, lab),
    )
    return content


def _deviations(record: Record) -> list[str]:
    """The deviations from the method accepted for the item's commission line (R6.7c: only a
    deviation authorised and accepted by the customer is worked to and reported)."""
    from metrolab.methods.models import Deviation

    line_id = record.task.item.line_id
    if line_id is None:
        return []
    accepted = Deviation.objects.filter(line_id=line_id, state=Deviation.State.ACCEPTED)
    return [
        f"{d.description}（{_('technical justification')}：{d.justification}）"
        for d in accepted.order_by("pk")
    ]


def _location(record: Record) -> str:
    room = getattr(record, "room", None)
    if room is not None:
        return f"{room.name}（{room.code}）" if getattr(room, "code", "") else room.name
    return "本实验室 / Laboratory"


def _store(data: bytes) -> files.StoredFile:
    return files.store_chunks([data], limit=max(len(data), 1), area=AREA)


def read_file(sha256: str) -> bytes:
    """The stored bytes with this SHA-256; ServiceError when missing or not what was stored."""
    import hashlib

    try:
        path = files.path_for(sha256, AREA)
        data = path.read_bytes()
    except (ValueError, OSError):
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != sha256:
        raise ServiceError(
            _("The stored certificate file is missing or damaged."),
            code=CertificateRefusal.FILE_MISSING,
        )
    return data


@service("certificate.issue")
def _issue_stored(
    *, certificate: Certificate, actor: Any, pdf: files.StoredFile, dcc: files.StoredFile
) -> Certificate:
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    certificate.status = Certificate.Status.ISSUED
    certificate.issued_at = timezone.now()
    certificate.pdf_sha256 = pdf.sha256
    certificate.pdf_size = pdf.size
    certificate.dcc_sha256 = dcc.sha256
    certificate.error = ""
    certificate.save(
        update_fields=[
            "status",
            "issued_at",
            "pdf_sha256",
            "pdf_size",
            "dcc_sha256",
            "error",
            "updated_at",
        ]
    )
    if certificate.replaces_id:
        old = Certificate.objects.select_for_update().get(pk=certificate.replaces_id)
        if old.status not in (Certificate.Status.REPLACED, Certificate.Status.REVOKED):
            old.status = Certificate.Status.REPLACED
            old.revoked_at = certificate.issued_at
            old.revoke_reason = certificate.replace_reason or _("Replaced by %(number)s.") % {
                "number": certificate.number
            }
            old.save(update_fields=["status", "revoked_at", "revoke_reason", "updated_at"])
    _refresh_commission(certificate)
    return certificate


@service("certificate.issue_failed")
def _issue_failed(*, certificate: Certificate, actor: Any, message: str) -> Certificate:
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    certificate.status = Certificate.Status.FAILED
    certificate.error = message[:NOTE]
    certificate.save(update_fields=["status", "error", "updated_at"])
    return certificate


def _refresh_commission(certificate: Certificate) -> None:
    from metrolab.commissions.services import commission_refresh_status

    commission_refresh_status(certificate.commission, actor=SYSTEM)


def certificate_issue_run(*, certificate_id: int) -> Certificate:
    """Render, sign and store a queued certificate (called by the worker). Its state moves
    QUEUED → ISSUING → ISSUED, or FAILED with the reason (shown on its page; it can be
    retried). The file is stored by its SHA-256 and never changed."""
    from metrolab.certificates.dcc import build_dcc
    from metrolab.certificates.render import render_certificate
    from metrolab.certificates.signing import sign_pdf

    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
        if certificate.status not in (Certificate.Status.QUEUED, Certificate.Status.FAILED):
            return certificate
        certificate.status = Certificate.Status.ISSUING
        certificate.attempts += 1
        certificate.issued_on = certificate.issued_on or timezone.localdate()
        certificate.save(update_fields=["status", "attempts", "issued_on", "updated_at"])
    try:
        certificate = Certificate.objects.select_related(
            "record__task__item__commission__customer", "record__room", "replaces"
        ).get(pk=certificate_id)
        lab = OrganisationProfile.objects.filter(pk=1).first()
        if lab is None or not lab.name.strip():
            raise ImproperlyConfigured(
                _("the lab's name is not set in the organisation profile (System → Organisation)")
            )
        document = document_for(certificate, lab=lab)
        dcc_xml = build_dcc(document)
        pdf = render_certificate(document, dcc_xml=dcc_xml)
        signed = sign_pdf(
            pdf,
            reason=f"{certificate.get_kind_display()} {certificate.number}",
            location=(lab.address if lab else "") or (lab.name if lab else "") or "MetroLab",
        )
        stored_pdf = _store(signed)
        stored_dcc = _store(dcc_xml)
    except Exception as exc:  # every failure is shown on the certificate
        log.exception("certificate %s could not be issued", certificate_id)
        return _issue_failed(certificate=certificate, actor=SYSTEM, message=_failure_text(exc))
    return _issue_stored(certificate=certificate, actor=SYSTEM, pdf=stored_pdf, dcc=stored_dcc)


def _failure_text(exc: Exception) -> str:
    if isinstance(exc, ImproperlyConfigured):
        return _("The lab's signing is not set up: %(problem)s") % {"problem": exc}
    return f"{exc.__class__.__name__}: {exc}"


@service("certificate.retry")
def certificate_retry(*, certificate: Certificate, actor: Any, reason: str = "") -> Certificate:
    """Queue a failed certificate again (after its cause was fixed, e.g. the signing key)."""
    require_roles(actor, MANAGING_ROLES)
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.status != Certificate.Status.FAILED:
        raise ServiceError(
            _("Only a certificate whose issue failed can be retried."),
            code=CertificateRefusal.STATUS,
        )
    certificate.status = Certificate.Status.QUEUED
    certificate.save(update_fields=["status", "updated_at"])
    transaction.on_commit(partial(_enqueue, certificate.pk))
    return certificate


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(
            _("Give the reason."), code=CertificateRefusal.REASON_REQUIRED, field="reason"
        )
    return reason


@service("certificate.revoke")
def certificate_revoke(*, certificate: Certificate, actor: Any, reason: str = "") -> Certificate:
    """Revoke (作废) an issued certificate with the reason: its verification answers
    "revoked" from now on; the file stays stored, unchanged."""
    user = require_roles(actor, MANAGING_ROLES)
    reason = _reason(reason)
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.status not in (Certificate.Status.ISSUED, Certificate.Status.FAILED):
        raise ServiceError(
            _("Certificate %(number)s is %(status)s: it cannot be revoked.")
            % {"number": certificate.number, "status": certificate.get_status_display()},
            code=CertificateRefusal.STATUS,
        )
    certificate.status = Certificate.Status.REVOKED
    certificate.revoked_at = timezone.now()
    certificate.revoked_by = user
    certificate.revoke_reason = reason
    certificate.save(
        update_fields=["status", "revoked_at", "revoked_by", "revoke_reason", "updated_at"]
    )
    return certificate


@service("certificate.replace")
def certificate_replace(*, certificate: Certificate, actor: Any, reason: str = "") -> Certificate:
    """Replace (更正) an issued certificate: a new certificate with a new number is made from
    the record's latest approved version (an approved amendment of it, else the same record,
    e.g. after the customer's address was corrected); it refers to the one it replaces, which
    is marked replaced with the reason once the new one is issued."""
    user = require_roles(actor, MANAGING_ROLES)
    reason = _reason(reason)
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.status != Certificate.Status.ISSUED:
        raise ServiceError(
            _("Only an issued certificate can be replaced."), code=CertificateRefusal.STATUS
        )
    if Certificate.objects.filter(replaces=certificate).exists():
        raise ServiceError(
            _("Certificate %(number)s is already being replaced.") % {"number": certificate.number},
            code=CertificateRefusal.STATUS,
        )
    record = (
        Record.objects.filter(task_id=certificate.task_id, status=Record.Status.APPROVED)
        .order_by("-approved_at", "-pk")
        .first()
    ) or certificate.record
    new = certificate_queue(record=record, actor=user or actor, replaces=certificate, reason=reason)
    audit.record(
        "certificate.replace",
        object_type="certificates.certificate",
        object_id=str(certificate.pk),
        changes={"number": certificate.number, "replaced_by": new.number},
        reason=reason,
    )
    return new


@service("certificate.download")
def certificate_download(*, certificate: Certificate, actor: Any, format: str) -> bytes:
    """The stored PDF ("pdf") or DCC XML ("dcc") of an issued (or revoked / replaced)
    certificate, for those who may see it (`certificates_visible_to`; the system for the CLI);
    each download is audited with who took it."""
    from metrolab.certificates.selectors import certificates_visible_to

    if (
        not is_system(actor)
        and not certificates_visible_to(actor).filter(pk=certificate.pk).exists()
    ):
        raise ServiceError(_("Not found."), code=CoreRefusal.NOT_FOUND)
    sha = certificate.pdf_sha256 if format == "pdf" else certificate.dcc_sha256
    if not sha:
        raise ServiceError(
            _("Certificate %(number)s has no file yet.") % {"number": certificate.number},
            code=CertificateRefusal.STATUS,
        )
    data = read_file(sha)
    audit.record(
        "certificate.download",
        object_type="certificates.certificate",
        object_id=str(certificate.pk),
        changes={"number": certificate.number, "format": format, "sha256": sha},
    )
    return data
