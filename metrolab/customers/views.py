"""Customer pages (R6.1a, R9.1): the customer list and card with contacts, portal accounts,
instrument register and commissions; the register and what falls due for recalibration, for
the lab and for a customer's own portal."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metrolab.core.access import allow
from metrolab.core.pages import query_without_page
from metrolab.core.refusals import refusal_on_form
from metrolab.core.roles import CUSTOMER
from metrolab.core.service import ServiceError
from metrolab.customers import selectors, services
from metrolab.customers.filters import CustomerFilter, InstrumentFilter
from metrolab.customers.forms import (
    ContactForm,
    CustomerForm,
    InstrumentForm,
    PortalAccountForm,
    SearchForm,
)
from metrolab.customers.models import Contact
from metrolab.customers.panels import card_panels
from metrolab.customers.roles import CUSTOMER_EDITORS, CUSTOMER_READERS, INSTRUMENT_READERS

PAGE_SIZE = 25


def _can_edit(user) -> bool:
    return user.is_superuser or user.has_role(*CUSTOMER_EDITORS)


def _due_dates() -> dict:
    """Today and the end of the reminder horizon, for marking overdue and due instruments."""
    today = timezone.localdate()
    return {"today": today, "horizon": today + dt.timedelta(days=selectors.DUE_WITHIN_DAYS)}


def _save(form, write, **kwargs):
    """Run a service with the form's data; a refusal becomes a form error. Returns the result,
    or None when refused."""
    try:
        return write(data=form.cleaned_data, **kwargs)
    except ServiceError as exc:
        refusal_on_form(form, exc)
        return None


@allow(roles=CUSTOMER_READERS)
def customer_list(request):
    """Customers, searched by code, name, credit code or a contact's name / phone."""
    form = SearchForm(request.GET or None)
    form.is_valid()  # shows the errors; the rows follow the API's filter
    filters = CustomerFilter.from_query(request.GET)
    customers = selectors.customer_list(user=request.user, filters=filters)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/customer_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "can_edit": _can_edit(request.user),
        },
    )


@allow(roles=CUSTOMER_EDITORS)
def customer_create(request):
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        customer = _save(form, services.customer_create, actor=request.user)
        if customer is not None:
            messages.success(request, _("The customer was registered."))
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": None})


def _customer_or_404(request, pk: int):
    customer = selectors.customer_get(user=request.user, pk=pk)
    if customer is None:
        raise Http404
    return customer


@allow(roles=CUSTOMER_EDITORS)
def customer_edit(request, pk: int):
    customer = _customer_or_404(request, pk)
    form = CustomerForm(request.POST or None, instance=customer)
    if (
        request.method == "POST"
        and form.is_valid()
        and _save(form, services.customer_update, customer=customer, actor=request.user)
    ):
        messages.success(request, _("The customer was saved."))
        return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer})


@require_POST
@allow(roles=CUSTOMER_EDITORS)
def customer_delete(request, pk: int):
    """Remove a customer entered by mistake; one with commissions is only deactivated."""
    customer = _customer_or_404(request, pk)
    try:
        services.customer_delete(customer=customer, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("customers:detail", pk=customer.pk)
    messages.success(request, _("The customer was removed."))
    return redirect("customers:list")


@allow(roles=[*CUSTOMER_READERS, CUSTOMER])
def customer_detail(request, pk: int):
    """A customer's card: details, contacts, portal accounts (lab only), the instrument
    register and the latest commissions. A customer sees only their own organisation."""
    customer = _customer_or_404(request, pk)
    is_staff = selectors.is_lab_staff(request.user)
    instruments = selectors.instrument_list(user=request.user, customer=customer)
    panels = {}
    for panel in card_panels:
        panels.update(panel.context(request.user, customer))
    return render(
        request,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "contacts": selectors.contact_list(customer),
            "accounts": selectors.portal_accounts(customer) if is_staff else [],
            "instruments": instruments[:50],
            "instrument_count": instruments.count(),
            **panels,
            "card_panels": [panel.template for panel in card_panels],
            "is_staff": is_staff,
            "can_edit": _can_edit(request.user),
            **_due_dates(),
        },
    )


@allow(roles=[CUSTOMER])
def my_organisation(request):
    """The portal's "my organisation": the signed-in customer's own card."""
    customer = selectors.portal_customer(request.user)
    if customer is None:
        raise Http404
    return redirect("customers:detail", pk=customer.pk)


@allow(roles=CUSTOMER_EDITORS)
def contact_create(request, pk: int):
    customer = _customer_or_404(request, pk)
    form = ContactForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and _save(form, services.contact_create, customer=customer, actor=request.user)
    ):
        messages.success(request, _("The contact was added."))
        return redirect("customers:detail", pk=customer.pk)
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": customer, "contact": None},
    )


def _contact_or_404(request, pk: int) -> Contact:
    contact = Contact.objects.select_related("customer").filter(pk=pk).first()
    if contact is None or selectors.customer_get(user=request.user, pk=contact.customer_id) is None:
        raise Http404
    return contact


@allow(roles=CUSTOMER_EDITORS)
def contact_edit(request, pk: int):
    contact = _contact_or_404(request, pk)
    form = ContactForm(request.POST or None, instance=contact)
    if (
        request.method == "POST"
        and form.is_valid()
        and _save(form, services.contact_update, contact=contact, actor=request.user)
    ):
        messages.success(request, _("The contact was saved."))
        return redirect("customers:detail", pk=contact.customer_id)
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": contact.customer, "contact": contact},
    )


@require_POST
@allow(roles=CUSTOMER_EDITORS)
def contact_delete(request, pk: int):
    contact = _contact_or_404(request, pk)
    services.contact_delete(contact=contact, actor=request.user)
    messages.success(request, _("The contact was removed."))
    return redirect("customers:detail", pk=contact.customer_id)


@allow(roles=CUSTOMER_EDITORS)
def portal_account_create(request, pk: int):
    """Open a portal account (role customer) for a contact (R9.1)."""
    contact = _contact_or_404(request, pk)
    form = PortalAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.portal_account_create(
                contact=contact,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                actor=request.user,
            )
        except ServiceError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("The portal account was opened."))
            return redirect("customers:detail", pk=contact.customer_id)
    return render(
        request,
        "customers/portal_account_form.html",
        {"form": form, "contact": contact, "customer": contact.customer},
    )


def _instruments_page(request, *, due_only: bool):
    user = request.user
    is_staff = selectors.is_lab_staff(user)
    form = SearchForm(request.GET or None)
    form.is_valid()  # shows the errors; the rows follow the API's filter
    filters = InstrumentFilter.from_query(request.GET)
    if due_only:
        filters = filters.model_copy(update={"due": True})
    customer = None
    if filters.customer is not None or filters.customer_id is not None:
        customer = _customer_or_404(request, filters.customer or filters.customer_id)
    instruments = selectors.instrument_list(user=user, filters=filters)
    page = Paginator(instruments, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/instrument_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "due_only": due_only,
            "customer": customer,
            "own": None if is_staff else selectors.portal_customer(user),
            "is_staff": is_staff,
            "can_edit": _can_edit(user),
            "days": selectors.DUE_WITHIN_DAYS,
            **_due_dates(),
        },
    )


@allow(roles=INSTRUMENT_READERS)
def instrument_list(request):
    """The instrument register: every customer's for the lab, one's own for a customer."""
    return _instruments_page(request, due_only=False)


@allow(roles=INSTRUMENT_READERS)
def instruments_due(request):
    """Instruments due for recalibration within 30 days, and overdue ones (R9.1)."""
    return _instruments_page(request, due_only=True)


@allow(roles=CUSTOMER_EDITORS)
def instrument_edit(request, pk: int):
    instrument = selectors.instrument_get(user=request.user, pk=pk)
    if instrument is None:
        raise Http404
    form = InstrumentForm(request.POST or None, instance=instrument)
    if (
        request.method == "POST"
        and form.is_valid()
        and _save(form, services.instrument_update, instrument=instrument, actor=request.user)
    ):
        messages.success(request, _("The instrument was saved."))
        return redirect("customers:detail", pk=instrument.customer_id)
    return render(
        request, "customers/instrument_form.html", {"form": form, "instrument": instrument}
    )
