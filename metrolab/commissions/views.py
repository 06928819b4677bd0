"""Commission pages (R6.1a-b, R6.12b, R9.1): the list (lab: all, filtered; customer: their
own), the card with lines, quote, contract review, status timeline and items, the desk / on-site
form, the portal application with its slot picker, the day's arrivals, the printable receipt
and the public status query."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metrolab.commissions import links, selectors, services
from metrolab.commissions import quote as quoting
from metrolab.commissions.choices import CommissionStatus, Service
from metrolab.commissions.filters import CommissionFilter
from metrolab.commissions.forms import (
    ApplyForm,
    CancelForm,
    CommissionFilterForm,
    CommissionForm,
    LineFormSet,
    LinePricesForm,
    PublicStatusForm,
    ReviewForm,
    line_values,
)
from metrolab.commissions.models import Commission
from metrolab.commissions.panels import detail_extenders
from metrolab.commissions.roles import (
    APPLICANTS,
    ARRIVAL_READERS,
    COMMISSION_CANCELLERS,
    COMMISSION_CREATORS,
    COMMISSION_DESK,
    COMMISSION_ONSITE,
    COMMISSION_READERS,
    COMMISSION_REVIEWERS,
)
from metrolab.commissions.throttle import status_query_allowed
from metrolab.core.access import allow, public
from metrolab.core.middleware import client_ip
from metrolab.core.pages import holds
from metrolab.core.refusals import refusal_on_form as _refusal
from metrolab.core.roles import CUSTOMER
from metrolab.core.service import ServiceError
from metrolab.customers.roles import CUSTOMER_EDITORS
from metrolab.customers.selectors import (
    contact_primary,
    customer_get,
    customer_list,
    is_lab_staff,
    portal_account_get,
)

PAGE_SIZE = 25


def _commission_or_404(request, pk: int) -> Commission:
    commission = selectors.commission_get(user=request.user, pk=pk)
    if commission is None:
        raise Http404
    return commission


LINE_SHOWN = (
    "instrument_name",
    "model_range",
    "accuracy_class",
    "serial_no",
    "manufacturer",
    "quantity",
    "requested_method",
    "requirements",
)


def _stored_rows(lines) -> list[dict]:
    """Lines of a commission as the lines table shows them."""
    return [
        {
            **{name: getattr(line, name) for name in LINE_SHOWN},
            "service_label": line.get_service_display(),
            "unit_price": line.unit_price,
            "priced": line.priced,
            "confirmed": line.price_confirmed,
            "price_note": line.price_note,
            "amount": line.amount,
        }
        for line in lines
    ]


def _quoted_rows(quote: quoting.Quote) -> list[dict]:
    """Lines of a quote (not yet saved) as the lines table shows them."""
    return [
        {
            **{name: line.values[name] for name in LINE_SHOWN},
            "service_label": Service(line.values["service"]).label,
            "unit_price": line.unit_price,
            "priced": line.priced,
            "amount": line.amount,
        }
        for line in quote.lines
    ]


def _quote_shown(quote: quoting.Quote | None) -> dict | None:
    if quote is None:
        return None
    return {"rows": _quoted_rows(quote), "total": quote.total, "complete": quote.complete}


@allow(roles=COMMISSION_READERS)
def commission_list(request):
    """Commissions, newest first: the lab filters by status, review, customer and date; a
    customer sees only their own organisation's."""
    user = request.user
    form = CommissionFilterForm(request.GET or None)
    form.is_valid()  # shows the errors; the rows follow the API's filter
    filters = CommissionFilter.from_query(request.GET)
    customer = None
    if filters.customer:
        customer = customer_get(user=user, pk=filters.customer)
        if customer is None:
            raise Http404
    commissions = selectors.commission_list(user=user, filters=filters)
    page = Paginator(commissions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "commissions/commission_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "customer": customer,
            "is_staff": is_lab_staff(user),
            "can_create": holds(user, COMMISSION_CREATORS),
            "can_apply": user.has_role(*APPLICANTS) and not is_lab_staff(user),
        },
    )


def _can_cancel(user, commission: Commission, items: list) -> bool:
    if commission.status != CommissionStatus.APPLIED or items:
        return False
    return holds(user, COMMISSION_CANCELLERS) or (
        user.has_role(CUSTOMER) and not is_lab_staff(user)
    )


@allow(roles=COMMISSION_READERS)
def commission_detail(request, pk: int):
    """A commission's card: lines and quote, contract review, status nodes with their times,
    and its items once received; what other apps add (`detail_extenders`: the deviations from
    methods). A customer sees only their own (404 otherwise)."""
    commission = _commission_or_404(request, pk)
    user = request.user
    extra = {}
    for extend in detail_extenders:
        extra.update(extend(user, commission))
    items = list(commission.items.select_related("location").order_by("number"))
    can_review = (
        holds(user, COMMISSION_REVIEWERS)
        and commission.review == Commission.Review.PENDING
        and commission.status != CommissionStatus.CANCELLED
    )
    return render(
        request,
        "commissions/commission_detail.html",
        {
            "commission": commission,
            "lines": _stored_rows(commission.lines.all()),
            "items": items,
            "timeline": selectors.commission_timeline(commission),
            "is_staff": is_lab_staff(user),
            "status_url": links.status_url(commission, request),
            "can_review": can_review,
            "review_form": ReviewForm() if can_review else None,
            "prices_form": (
                LinePricesForm(lines=commission.lines.all(), prefix="price") if can_review else None
            ),
            "can_cancel": _can_cancel(user, commission, items),
            "cancel_form": CancelForm(),
            **extra,
        },
    )


@require_POST
@allow(roles=COMMISSION_REVIEWERS)
def commission_review(request, pk: int):
    """Contract review (合同评审): accept, with conditions if any, or reject with the reason."""
    commission = _commission_or_404(request, pk)
    form = ReviewForm(request.POST)
    prices = LinePricesForm(request.POST, lines=commission.lines.all(), prefix="price")
    if not form.is_valid():
        messages.error(request, _("Choose to accept or to reject."))
        return redirect("commissions:detail", pk=commission.pk)
    if not prices.is_valid():
        for row in prices.rows:
            for bound in (row["entry"], row["price"], row["reason"]):
                for error in bound.errors:
                    messages.error(
                        request,
                        _("Line %(n)s: %(message)s") % {"n": row["n"], "message": error},
                    )
        return redirect("commissions:detail", pk=commission.pk)
    try:
        services.commission_review(
            commission=commission,
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
            prices=prices.prices(),
            actor=request.user,
            reason=form.cleaned_data["note"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The contract review was recorded."))
    return redirect("commissions:detail", pk=commission.pk)


@require_POST
@allow(roles=[*COMMISSION_CANCELLERS, CUSTOMER])
def commission_cancel(request, pk: int):
    """Cancel before any item is received, with the reason (customers: their own only)."""
    commission = _commission_or_404(request, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for the cancellation."))
        return redirect("commissions:detail", pk=commission.pk)
    try:
        services.commission_cancel(
            commission=commission, reason=form.cleaned_data["reason"], actor=request.user
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The commission was cancelled."))
    return redirect("commissions:detail", pk=commission.pk)


def _quote_or_create(request, form, lines, *, customer, channel, slot):
    """Either show the quote of the lines (action "quote") or create the commission. Returns
    (quote, commission); refusals land on the form."""
    values = line_values(lines)
    try:
        if request.POST.get("action") == "quote":
            discipline = slot.discipline if slot is not None else None
            return quoting.quote(quoting.lines_checked(values), discipline), None
        commission = services.commission_create(
            customer=customer,
            lines=values,
            channel=channel,
            contact=form.cleaned_data.get("contact"),
            slot=slot,
            promised_date=form.cleaned_data.get("promised_date"),
            requirements=form.cleaned_data.get("requirements", ""),
            actor=request.user,
        )
    except ServiceError as exc:
        _refusal(form, exc)
        return None, None
    messages.success(
        request,
        _("Commission %(number)s was created; its query code is %(code)s.")
        % {"number": commission.number, "code": commission.query_code},
    )
    return None, commission


def _channels(user) -> list[str]:
    channels = []
    if holds(user, COMMISSION_DESK):
        channels.append(Commission.Channel.DESK.value)
    if holds(user, COMMISSION_ONSITE):
        channels.append(Commission.Channel.ONSITE.value)
    return channels


@allow(roles=COMMISSION_CREATORS)
def commission_create(request):
    """A commission entered at the desk or on site from a phone (R6.1a, R6.12b): first the
    customer, then the lines (add as many as needed), the quote, and create."""
    user = request.user
    customer_pk = request.POST.get("customer") or request.GET.get("customer")
    if not customer_pk or not str(customer_pk).isdigit():
        search = request.GET.get("q", "").strip()
        customers = customer_list(user=user, search=search, active=True)
        page = Paginator(customers, 20).get_page(request.GET.get("page"))
        return render(
            request,
            "commissions/customer_pick.html",
            {
                "page": page,
                "search": search,
                "query": urlencode({"q": search}) if search else "",
                "can_add_customer": holds(user, CUSTOMER_EDITORS),
            },
        )
    customer = customer_get(user=user, pk=int(customer_pk))
    if customer is None:
        raise Http404
    channels = _channels(user)
    primary = contact_primary(customer)
    form = CommissionForm(
        request.POST or None,
        customer=customer,
        channels=channels,
        initial={"channel": channels[0], "contact": primary.pk if primary else None},
    )
    lines = LineFormSet(request.POST or None, prefix="lines")
    quote = None
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        quote, commission = _quote_or_create(
            request,
            form,
            lines,
            customer=customer,
            channel=form.cleaned_data["channel"],
            slot=form.cleaned_data.get("slot"),
        )
        if commission is not None:
            return redirect("commissions:detail", pk=commission.pk)
    return render(
        request,
        "commissions/commission_form.html",
        {
            "form": form,
            "lines": lines,
            "customer": customer,
            "quote": _quote_shown(quote),
            "portal": False,
        },
    )


@allow(roles=APPLICANTS)
def commission_apply(request):
    """The customer's online application with an appointment (R9.1): the slot picker shows
    the slots with places left; the quote is shown before the application is sent."""
    account = portal_account_get(request.user)
    if account is None:
        return render(request, "commissions/commission_form.html", {"no_account": True})
    customer = account.customer
    contact = account.contact or contact_primary(customer)
    disciplines = selectors.discipline_list_bookable()
    code = request.POST.get("discipline") or request.GET.get("discipline")
    discipline = next((d for d in disciplines if d.code == code), None)
    discipline = discipline or (disciplines[0] if disciplines else None)
    form = ApplyForm(
        request.POST or None,
        customer=customer,
        discipline=discipline,
        initial={"contact": contact.pk if contact else None},
    )
    lines = LineFormSet(request.POST or None, prefix="lines")
    quote = None
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        quote, commission = _quote_or_create(
            request,
            form,
            lines,
            customer=customer,
            channel=Commission.Channel.PORTAL,
            slot=form.cleaned_data["slot"],
        )
        if commission is not None:
            return redirect("commissions:detail", pk=commission.pk)
    return render(
        request,
        "commissions/commission_form.html",
        {
            "form": form,
            "lines": lines,
            "customer": customer,
            "quote": _quote_shown(quote),
            "portal": True,
            "disciplines": disciplines,
            "discipline": discipline,
        },
    )


@allow(roles=ARRIVAL_READERS)
def arrivals(request):
    """The commissions booked for a day (today unless ?day=YYYY-MM-DD): who is coming when."""
    try:
        day = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = timezone.localdate()
    commissions = list(selectors.arrivals(day=day).prefetch_related("lines"))
    return render(
        request,
        "commissions/arrivals.html",
        {
            "day": day,
            "today": timezone.localdate(),
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "commissions": commissions,
        },
    )


@allow(roles=COMMISSION_READERS)
def commission_receipt(request, pk: int):
    """The printable receipt (委托单回执): lines, the confirmed quote, and the query code with
    the full link and a QR code of the public status page."""
    commission = _commission_or_404(request, pk)
    status_url = links.status_url(commission, request)
    return render(
        request,
        "commissions/receipt.html",
        {
            "commission": commission,
            "lines": _stored_rows(commission.lines.all()),
            "status_url": status_url,
            "qr_svg": links.qr_svg(status_url),
        },
    )


@public
def public_status(request):
    """Self-service query (R6.1b, R9.1): number and query code in, the status nodes reached with
    their times out, nothing else. A wrong number and a wrong code get the same answer, and
    each client address may ask only a few times a minute."""
    data = request.POST if request.method == "POST" else None
    if data is None and request.GET.get("number") and request.GET.get("code"):
        data = request.GET
    form = PublicStatusForm(data)
    result = error = None
    status = 200
    if data is not None and form.is_valid():
        if not status_query_allowed(client_ip(request)):
            error = _("Too many queries from your address. Wait a minute and try again.")
            status = 429
        else:
            found = selectors.commission_public_status(
                form.cleaned_data["number"], form.cleaned_data["code"]
            )
            if found is None:
                error = _("No commission matches this number and query code.")
            else:
                commission, nodes = found
                result = {
                    "number": commission.number,
                    "status_label": commission.get_status_display(),
                    "expected_completion": selectors.commission_expected_date(commission),
                    "nodes": nodes,
                    "items": selectors.commission_public_items(commission),
                }
    return render(
        request,
        "commissions/public_status.html",
        {"form": form, "result": result, "error": error},
        status=status,
    )
