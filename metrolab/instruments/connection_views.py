"""The instrument connection of a piece of equipment, from its card (R8a; issue 16): set or
change the connection (CONNECTION_EDITORS; a refusal is shown on the form, nothing written),
identify it against the register and run its self-test (READERS; the outcome shown on the
card, where the last check is expanded with its transcript), and every check of it, paginated.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from metrolab.core.access import allow
from metrolab.core.pages import query_without_page
from metrolab.core.service import ServiceError
from metrolab.equipment.models import Equipment
from metrolab.instruments import services
from metrolab.instruments.api import CONNECTION_EDITORS, READERS
from metrolab.instruments.connection_forms import ConnectionForm
from metrolab.instruments.models import InstrumentConnection

CHECKS_PAGE = 20


def _card(equipment: Equipment) -> str:
    return reverse("equipment:detail", args=[equipment.pk]) + "#instrument"


@allow(roles=CONNECTION_EDITORS)
@require_http_methods(["GET", "POST"])
def connection_edit(request, equipment_id: int):
    """Set or change how the piece is connected; a refusal (an unknown or unfit driver, a
    missing address, a bad timeout) is shown on the form and nothing is written."""
    equipment = get_object_or_404(Equipment, pk=equipment_id)
    link = InstrumentConnection.objects.filter(equipment=equipment).first()
    previous = link.connection if link else None
    form = ConnectionForm(request.POST or None, previous=previous)
    if request.method == "POST" and form.is_valid():
        try:
            services.connection_set(
                equipment=equipment, connection=form.connection(), actor=request.user
            )
        except ServiceError as error:
            form.show_refusal(error)
        else:
            messages.success(
                request, _("%(equipment)s: connection saved.") % {"equipment": equipment}
            )
            return redirect(_card(equipment))
    return render(
        request,
        "instruments/connection_form.html",
        {"equipment": equipment, "form": form, "link": link},
    )


@allow(roles=READERS)
@require_POST
def connection_identify(request, equipment_id: int):
    """Connect, read the identity and compare it with the register; the outcome as a message,
    the check (with its transcript) on the card."""
    equipment = get_object_or_404(Equipment, pk=equipment_id)
    try:
        result = services.connection_identify(equipment=equipment, actor=request.user)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect(_card(equipment))
    identity = result["identity"]
    named = " ".join(
        v for v in (identity["manufacturer"], identity["model"], identity["serial"]) if v
    )
    if result["matches"]:
        messages.success(
            request,
            _("Identified: %(identity)s; it matches the register.") % {"identity": named},
        )
    else:
        messages.warning(
            request,
            _("Identified: %(identity)s; it does not match the register: %(mismatches)s")
            % {"identity": named, "mismatches": " ".join(result["mismatches"])},
        )
    return redirect(_card(equipment))


@allow(roles=READERS)
@require_POST
def connection_self_test(request, equipment_id: int):
    """Run the instrument's self-test; the outcome as a message, the check on the card."""
    equipment = get_object_or_404(Equipment, pk=equipment_id)
    try:
        failures = services.connection_self_test(equipment=equipment, actor=request.user)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect(_card(equipment))
    if failures:
        messages.error(
            request, _("Self-test failed: %(failures)s") % {"failures": "; ".join(failures)}
        )
    else:
        messages.success(request, _("Self-test passed."))
    return redirect(_card(equipment))


@allow(roles=READERS)
@require_http_methods(["GET"])
def connection_checks(request, equipment_id: int):
    """Every identify and self-test of the piece's connection, newest first, with their
    transcripts, paginated."""
    equipment = get_object_or_404(Equipment, pk=equipment_id)
    link = InstrumentConnection.objects.filter(equipment=equipment).first()
    rows = link.checks.select_related("by").order_by("-at", "-pk") if link else []
    page = Paginator(rows, CHECKS_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "instruments/connection_checks.html",
        {
            "equipment": equipment,
            "link": link,
            "page": page,
            "query": query_without_page(request),
        },
    )
