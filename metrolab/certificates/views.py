"""Certificate pages (R6.3, R9.1, R4.3): the list with its filter (the API's,
`filters.CertificateFilter`), one certificate with the live state of its issue, its downloads
(audited), revocation and replacement with a reason, retrying a failed issue, and the approved
records without a valid certificate, whose certificates are issued in a batch.

Lab staff who read records see every certificate; a customer's portal account sees only its
own organisation's certificates that have a file (`selectors.certificates_visible_to`), and a
404 for any other. Every write is a service of `services.py`; a refusal is shown on its form."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from metrolab.certificates import services
from metrolab.certificates.filters import CertificateFilter
from metrolab.certificates.forms import BatchIssueForm, CertificateFilterForm, CertificateReasonForm
from metrolab.certificates.models import Certificate
from metrolab.certificates.roles import CERTIFICATE_READERS
from metrolab.certificates.selectors import certificates_visible_to
from metrolab.core.access import allow
from metrolab.core.pages import query_without_page
from metrolab.core.permissions import holds
from metrolab.core.refusals import refusal_on_form
from metrolab.core.service import ServiceError
from metrolab.customers.selectors import is_lab_staff
from metrolab.records.models import Record

PAGE_SIZE = 50
# How often a page asks for the state of a certificate being issued (milliseconds).
POLL_MS = 2000
# The downloads: format → (content type, file extension).
FORMATS = {"pdf": ("application/pdf", "pdf"), "dcc": ("application/xml", "xml")}


def certificate_or_404(user, pk: int) -> Certificate:
    """The certificate if `user` may see it; 404 otherwise (never saying that it exists)."""
    certificate = certificates_visible_to(user).filter(pk=pk).first()
    if certificate is None:
        raise Http404("no such certificate")
    return certificate


def download_response(certificate: Certificate, data: bytes, fmt: str) -> HttpResponse:
    """The stored bytes as an attachment named after the certificate's number."""
    content_type, extension = FORMATS[fmt]
    name = f"{certificate.number}.{extension}"
    fallback = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in name)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- the list --------------------------------------------------------------------------------


def _rows_context(request) -> dict:
    form = CertificateFilterForm(request.GET or None)
    if request.GET:
        form.is_valid()  # its errors are shown beside the fields; the valid values filter
    filters = CertificateFilter.from_query(request.GET)
    rows = filters.filter(certificates_visible_to(request.user))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = query_without_page(request)
    parts = request.GET.copy()
    parts["part"] = "rows"
    return {
        "form": form,
        "filters": filters,
        "page": page,
        "query": query,
        "rows_url": f"{request.path}?{parts.urlencode()}",
        "polling": any(c.in_progress for c in page),
        "poll_ms": POLL_MS,
        "is_staff": is_lab_staff(request.user),
        "can_manage": holds(request.user, services.MANAGING_ROLES),
    }


@allow(roles=CERTIFICATE_READERS)
@require_GET
def certificate_list(request):
    """Certificates, newest first, with the filters of the API (status, kind, the days of
    issue, a search); the rows of certificates being issued refresh until they end
    (`?part=rows`)."""
    context = _rows_context(request)
    if request.GET.get("part") == "rows":
        return render(request, "certificates/_rows.html", context)
    return render(request, "certificates/list.html", context)


# --- one certificate -------------------------------------------------------------------------


def _context(request, certificate: Certificate, *, revoke_form=None, replace_form=None) -> dict:
    can_manage = holds(request.user, services.MANAGING_ROLES)
    issued = certificate.status == Certificate.Status.ISSUED
    replaced_by = Certificate.objects.filter(replaces=certificate).first()
    return {
        "certificate": certificate,
        "can_manage": can_manage,
        "is_staff": is_lab_staff(request.user),
        "poll_ms": POLL_MS,
        "replaced_by": replaced_by,
        "verify_url": services.verify_url(certificate) if certificate.has_file else "",
        "can_revoke": can_manage
        and certificate.status in (Certificate.Status.ISSUED, Certificate.Status.FAILED),
        "can_replace": can_manage and issued and replaced_by is None,
        "revoke_form": revoke_form or CertificateReasonForm(prefix="revoke"),
        "replace_form": replace_form or CertificateReasonForm(prefix="replace"),
    }


def _page(request, certificate: Certificate, *, status=200, **forms):
    context = _context(request, certificate, **forms)
    return render(request, "certificates/detail.html", context, status=status)


@allow(roles=CERTIFICATE_READERS)
@require_GET
def certificate_detail(request, pk: int):
    """One certificate: every field, its links (record, commission, item, the certificate it
    replaces and the one replacing it), the state of its issue (the page's body polled with
    `?part=body` while queued or being issued; the error and "Retry" when it failed), its
    downloads, and revoking or replacing it with a reason."""
    certificate = certificate_or_404(request.user, pk)
    if request.GET.get("part") == "body":
        return render(request, "certificates/_body.html", _context(request, certificate))
    return _page(request, certificate)


@allow(roles=CERTIFICATE_READERS)
@require_GET
def certificate_file(request, pk: int, fmt: str):
    """The signed PDF or the DCC XML as a download named after the number; each download is
    audited (`certificate.download`, with who took it)."""
    if fmt not in FORMATS:
        raise Http404("no such format")
    certificate = certificate_or_404(request.user, pk)
    try:
        data = services.certificate_download(
            certificate=certificate, actor=request.user, format=fmt
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("certificates:detail", certificate.pk)
    return download_response(certificate, data, fmt)


def _reason_step(request, pk: int, step: str):
    certificate = certificate_or_404(request.user, pk)
    form = CertificateReasonForm(request.POST, prefix=step)
    if form.is_valid():
        service = {"revoke": services.certificate_revoke, "replace": services.certificate_replace}
        try:
            result = service[step](
                certificate=certificate, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ServiceError as exc:
            refusal_on_form(form, exc)
        else:
            if step == "revoke":
                messages.success(
                    request, _("Certificate %(number)s revoked.") % {"number": result.number}
                )
            else:
                messages.success(
                    request,
                    _("Certificate %(new)s queued to replace %(old)s.")
                    % {"new": result.number, "old": certificate.number},
                )
            return redirect("certificates:detail", result.pk)
    forms = {"revoke_form" if step == "revoke" else "replace_form": form}
    return _page(request, certificate, status=422, **forms)


@allow(roles=services.MANAGING_ROLES)
@require_POST
def certificate_revoke(request, pk: int):
    """Revoke (作废) an issued certificate with the reason, confirmed."""
    return _reason_step(request, pk, "revoke")


@allow(roles=services.MANAGING_ROLES)
@require_POST
def certificate_replace(request, pk: int):
    """Replace (更正) an issued certificate with the reason, confirmed: a new certificate is
    queued; this one is marked replaced once the new one is issued."""
    return _reason_step(request, pk, "replace")


@allow(roles=services.MANAGING_ROLES)
@require_POST
def certificate_retry(request, pk: int):
    """Queue a certificate whose issue failed again (after its cause was fixed)."""
    certificate = certificate_or_404(request.user, pk)
    try:
        services.certificate_retry(certificate=certificate, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Certificate %(number)s queued again.") % {"number": certificate.number}
        )
    return redirect("certificates:detail", certificate.pk)


# --- records without a valid certificate -----------------------------------------------------


def records_without_certificate():
    """Approved records without a valid or pending certificate (its issue failed, it was
    revoked, or the record was approved before certificates existed), newest approval first,
    with their certificates (the last one is shown)."""
    return (
        Record.objects.filter(status=Record.Status.APPROVED, locked_at__isnull=False)
        .exclude(certificates__status__in=services.VALID)
        .select_related("task__item__commission__customer", "approved_by")
        .prefetch_related(
            Prefetch("certificates", queryset=Certificate.objects.order_by("-created_at", "-pk"))
        )
        .order_by("-approved_at", "-pk")
    )


@allow(roles=services.MANAGING_ROLES)
@require_GET
def certificate_pending(request):
    """The approved records without a valid certificate: choose several and issue their
    certificates at once."""
    page = Paginator(records_without_certificate(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "certificates/pending.html",
        {"page": page, "query": query_without_page(request), "form": BatchIssueForm()},
    )


@allow(roles=services.MANAGING_ROLES)
@require_POST
def certificate_batch_issue(request):
    """Queue the certificates of the chosen records (`certificate_batch_issue`); they show
    on the list as queued, refreshed until they are issued."""
    posted = [int(v) for v in request.POST.getlist("records") if v.isdigit() and len(v) < 12]
    candidates = records_without_certificate().filter(pk__in=posted)
    form = BatchIssueForm(request.POST, record_ids=candidates.values_list("pk", flat=True))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("certificates:pending")
    records = list(Record.objects.filter(pk__in=form.cleaned_data["records"]).order_by("pk"))
    try:
        queued = services.certificate_batch_issue(records=records, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("certificates:pending")
    messages.success(
        request,
        ngettext(
            "%(n)d certificate queued for issue.",
            "%(n)d certificates queued for issue.",
            len(queued),
        )
        % {"n": len(queued)},
    )
    return redirect("certificates:list")
