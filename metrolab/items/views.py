"""Item pages (R6.6): receipt at the desk, labels, the scan page and item card, photos and
videos, RFID / NFC tags, custody events and the storage overview. Phone-friendly: the same
pages serve the desk and the mobile terminal (R6.12)."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from metrolab.core.access import allow
from metrolab.core.pages import holds
from metrolab.core.refusals import form_error_messages as _form_errors
from metrolab.core.refusals import refusal_message as _refused
from metrolab.core.roles import LAB_STAFF
from metrolab.core.service import ServiceError
from metrolab.items import files, selectors, services
from metrolab.items.filters import ItemFilter
from metrolab.items.forms import (
    BatchReceiveForm,
    CustodyForm,
    ItemFilterForm,
    MediaForm,
    ReceiveForm,
    ScanForm,
    TagForm,
)
from metrolab.items.labels import LabelData, label_sheet_pdf, labels_pdf
from metrolab.items.models import Item, StorageLocation
from metrolab.items.roles import CUSTODIANS, ITEM_READERS, PHOTOGRAPHERS, RECEIVERS

PAGE_SIZE = 50
FORMS_PER_LINE = 10  # receipt forms shown at once for one line (the rest after these)


def item_card_url(request, number: str) -> str:
    """The absolute URL of an item's card, as its QR code holds it. METROLAB_SITE_URL (e.g.
    https://lab.example.cn) wins over the address the request came in on, so labels printed
    from an internal address still work from a phone outside."""
    path = reverse("items:card", args=[number])
    base = getattr(settings, "METROLAB_SITE_URL", "")
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


# --- lists, scan and card ----


@allow(roles=ITEM_READERS)
def item_list(request):
    """Items the user may see: all of them for the lab, a customer's own for a customer."""
    form = ItemFilterForm(request.GET or None)
    form.is_valid()  # shows the errors; the rows follow the API's filter
    items = selectors.item_list(user=request.user, filters=ItemFilter.from_query(request.GET))
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "items/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_receive": holds(request.user, RECEIVERS),
        },
    )


@allow(roles=ITEM_READERS)
@require_GET
def scan(request):
    """Type or scan a code (item number from the QR or barcode, or an RFID / NFC tag UID)
    and open the item's card (R6.6a)."""
    form = ScanForm(request.GET or None)
    if form.is_valid():
        item = selectors.item_find_by_code(user=request.user, code=form.cleaned_data["code"])
        if item is not None:
            return redirect("items:card", number=item.number)
        messages.error(
            request, _("No item found for “%(code)s”.") % {"code": form.cleaned_data["code"]}
        )
    return render(request, "items/scan.html", {"form": ScanForm()})


@allow(roles=ITEM_READERS)
def item_card(request, number: str):
    """The item card (R6.6a): commission, customer, state, place, custody history, photos and
    videos, tags and tasks. Customers see only their own items (others: 404)."""
    item = selectors.item_get(user=request.user, number=number)
    user = request.user
    lab = selectors.user_sees_all_items(user)
    context = {
        "item": item,
        "events": selectors.custody_history(item),
        "media": item.media.select_related("uploaded_by").order_by("created_at", "pk"),
        "tags": item.tags.select_related("bound_by").order_by("created_at") if lab else [],
        "tasks": item.tasks.select_related("assignee").order_by("pk"),
        "lab": lab,
        "custody_form": CustodyForm() if holds(user, CUSTODIANS) else None,
        "tag_form": TagForm() if holds(user, RECEIVERS) else None,
        "media_form": MediaForm() if holds(user, PHOTOGRAPHERS) else None,
        "final": item.state in (Item.State.RETURNED, Item.State.DISPOSED),
    }
    return render(request, "items/card.html", context)


# --- writes from the card ----


@allow(roles=CUSTODIANS)
@require_POST
def item_custody(request, number: str):
    """Record a custody event from the card (R6.6d, R6.6f)."""
    item = selectors.item_get(user=request.user, number=number)
    form = CustodyForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("items:card", number=item.number)
    data = form.cleaned_data
    try:
        services.item_custody_record(
            item=item,
            kind=data["event"],
            actor=request.user,
            location=data["location"],
            collected_by=data["collected_by"],
            note=data["note"],
            reason=data["reason"],
        )
    except ServiceError as exc:
        _refused(request, exc)
    else:
        item.refresh_from_db()
        messages.success(
            request,
            _("Item %(number)s: %(state)s.")
            % {"number": item.number, "state": item.get_state_display()},
        )
    return redirect("items:card", number=item.number)


@allow(roles=RECEIVERS)
@require_POST
def item_tag_bind(request, number: str):
    """Bind an RFID / NFC tag to the item (R6.6a)."""
    item = selectors.item_get(user=request.user, number=number)
    form = TagForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            tag = services.item_tag_bind(
                item=item, uid=form.cleaned_data["uid"], actor=request.user
            )
        except ServiceError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Tag %(uid)s is bound to this item.") % {"uid": tag.uid})
    return redirect("items:card", number=item.number)


@allow(roles=RECEIVERS)
@require_POST
def item_tag_unbind(request, number: str, uid: str):
    item = selectors.item_get(user=request.user, number=number)
    tag = item.tags.filter(uid=services.normalise_tag_uid(uid)).first()
    if tag is None:
        raise Http404("no such tag on this item")
    services.item_tag_unbind(tag=tag, actor=request.user)
    messages.success(request, _("Tag %(uid)s was unbound.") % {"uid": tag.uid})
    return redirect("items:card", number=item.number)


@allow(roles=PHOTOGRAPHERS)
@require_POST
def item_media_upload(request, number: str):
    """Add photos or videos to an item, e.g. straight from a phone's camera (R6.6b)."""
    item = selectors.item_get(user=request.user, number=number)
    form = MediaForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("items:card", number=item.number)
    added = 0
    for upload in form.cleaned_data["files"]:
        try:
            services.item_media_add(
                item=item, upload=upload, actor=request.user, caption=form.cleaned_data["caption"]
            )
        except ServiceError as exc:
            _refused(request, exc)
        else:
            added += 1
    if added:
        messages.success(request, _("%(n)d file(s) added.") % {"n": added})
    return redirect("items:card", number=item.number)


_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@allow(roles=ITEM_READERS)
@require_GET
def media_file(request, pk: int):
    """A stored photo or video, if the user may see its item (customers: their own only).
    Sent with the type found at upload and nosniff; a single byte range is honoured so that
    phones can play videos."""
    media = selectors.item_media_get(user=request.user, pk=pk)
    path = files.path_for(media.sha256)
    if not path.is_file():
        raise Http404("file missing from the store")
    size = path.stat().st_size
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if match and (match.group(1) or match.group(2)):
        start, end = match.groups()
        if start:
            first, last = int(start), min(int(end) if end else size - 1, size - 1)
        else:
            first, last = max(0, size - int(end)), size - 1
        if first > last or first >= size:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        with path.open("rb") as fh:
            fh.seek(first)
            body = fh.read(last - first + 1)
        response = HttpResponse(body, status=206, content_type=media.content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    else:
        response = FileResponse(path.open("rb"), content_type=media.content_type)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="{media.sha256}"'
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response


# --- labels ----


def _label_data(request, items) -> list[LabelData]:
    caption = _("Commission")
    return [
        LabelData(
            number=item.number,
            name=item.name,
            commission_number=item.commission.number,
            url=item_card_url(request, item.number),
            commission_caption=caption,
        )
        for item in items
    ]


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@allow(roles=ITEM_READERS)
@require_GET
def item_label(request, number: str):
    """The 50 × 30 mm label of one item, for a label printer (R6.6a)."""
    item = selectors.item_get(user=request.user, number=number)
    return _pdf_response(labels_pdf(_label_data(request, [item])), f"label-{item.number}.pdf")


@allow(roles=ITEM_READERS)
@require_GET
def commission_labels(request, pk: int):
    """The labels of the items of a commission: an A4 sheet (default) or, with
    ?format=roll, one 50 × 30 mm page per item for a label printer. ?numbers=A,B,... keeps
    only those items (the pieces of one batch received together)."""
    commission = selectors.commission_for_labels(user=request.user, pk=pk)
    items = selectors.item_list(user=request.user, commission=commission).order_by("number")
    numbers = [n.strip() for n in request.GET.get("numbers", "").split(",") if n.strip()]
    if numbers:
        items = items.filter(number__in=numbers[: services.MAX_BATCH])
    items = list(items)
    if not items:
        raise Http404("no items received yet")
    data = _label_data(request, items)
    if request.GET.get("format") == "roll":
        return _pdf_response(labels_pdf(data), f"labels-{commission.number}.pdf")
    return _pdf_response(label_sheet_pdf(data), f"labels-{commission.number}-A4.pdf")


# --- receipt ----


@allow(roles=RECEIVERS)
@require_GET
def receive_index(request):
    """Commissions whose items may be received (accepted, not cancelled) (R6.6a)."""
    q = request.GET.get("q", "").strip()
    commissions = selectors.commissions_receivable(q=q)
    page = Paginator(commissions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "items/receive_index.html",
        {"page": page, "q": q, "query": f"q={q}" if q else ""},
    )


def _receipt_slots(commission, bound=None, batch=None):
    """For each line, one form per item still to receive (at most FORMS_PER_LINE at once)
    and, when more than one is still to come, the form receiving several at once; and the
    submitted form if it no longer has a place (its line is complete now)."""
    lines = []
    placed = False
    for progress in selectors.commission_lines_progress(commission):
        line = progress.line
        batch_form = None
        if progress.remaining > 1:
            if batch is not None and batch.prefix == f"b{line.pk}":
                batch_form = batch
            else:
                batch_form = BatchReceiveForm(
                    prefix=f"b{line.pk}",
                    remaining=progress.remaining,
                    initial={
                        "line": line.pk,
                        "count": progress.remaining,
                        "promised_date": line.promised_date or commission.promised_date,
                    },
                )
        forms = []
        for i in range(min(progress.remaining, FORMS_PER_LINE)):
            prefix = f"l{line.pk}-{i}"
            if bound is not None and bound.prefix == prefix:
                forms.append(bound)
                placed = True
                continue
            initial = {
                "line": line.pk,
                "serial_no": line.serial_no if line.quantity == 1 else "",
                "promised_date": line.promised_date or commission.promised_date,
            }
            forms.append(ReceiveForm(prefix=prefix, initial=initial))
        lines.append({"progress": progress, "forms": forms, "batch_form": batch_form})
    return lines, (bound if bound is not None and not placed else None)


def _receive_batch(request, commission):
    """Receive several identical pieces of one line (the batch form); returns the redirect
    on success, else the bound form with the refusal on it."""
    prefix = request.POST.get("prefix", "")
    form = BatchReceiveForm(request.POST, prefix=prefix)
    line = None
    if form.is_valid():
        line = commission.lines.filter(pk=form.cleaned_data["line"]).first()
        if line is None:
            form.add_error(None, _("This line is not part of the commission."))
    if line is None:
        return None, form
    data = form.cleaned_data
    try:
        items = services.items_receive_batch(
            line=line,
            count=data["count"],
            actor=request.user,
            serial_nos=data["serial_nos"],
            condition=data["condition"],
            location=data["location"],
            promised_date=data["promised_date"],
        )
    except ServiceError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None, form
    messages.success(
        request,
        _("%(count)d items received: %(first)s to %(last)s. Print their labels below.")
        % {"count": len(items), "first": items[0].number, "last": items[-1].number},
    )
    url = reverse("items:receive_commission", args=[commission.pk])
    numbers = ",".join(item.number for item in items)
    return redirect(f"{url}?{urlencode({'batch': numbers})}"), form


@allow(roles=RECEIVERS)
def receive_commission(request, pk: int):
    """Receive a commission's items, one form per item, then print their labels (R6.6a)."""
    commission = selectors.commission_receivable_get(pk)
    bound = batch = None
    if request.method == "POST" and request.POST.get("action") == "batch":
        done, batch = _receive_batch(request, commission)
        if done is not None:
            return done
    elif request.method == "POST":
        prefix = request.POST.get("prefix", "")
        bound = ReceiveForm(request.POST, request.FILES, prefix=prefix)
        line = None
        if bound.is_valid():
            line = commission.lines.filter(pk=bound.cleaned_data["line"]).first()
            if line is None:
                bound.add_error(None, _("This line is not part of the commission."))
        if line is not None:
            data = bound.cleaned_data
            try:
                item = services.item_receive(
                    line=line,
                    actor=request.user,
                    serial_no=data["serial_no"],
                    condition=data["condition"],
                    location=data["location"],
                    promised_date=data["promised_date"],
                    photos=data["photos"],
                )
            except ServiceError as exc:
                bound.add_error(exc.field if exc.field in bound.fields else None, exc.message)
            else:
                messages.success(
                    request,
                    _("Item %(number)s received: stick its label on it.") % {"number": item.number},
                )
                return redirect(reverse("items:receive_commission", args=[commission.pk]))
    received = selectors.item_list(user=request.user, commission=commission).order_by("number")
    lines, unplaced = _receipt_slots(commission, bound, batch)
    if batch is not None and batch.errors and not any(e["batch_form"] is batch for e in lines):
        unplaced = batch
    just_received = [n.strip() for n in request.GET.get("batch", "").split(",") if n.strip()][
        : services.MAX_BATCH
    ]
    batch_labels = None
    if just_received:
        labels = reverse("items:commission_labels", args=[commission.pk])
        batch_labels = {
            "count": received.filter(number__in=just_received).count(),
            "url": f"{labels}?{urlencode({'numbers': ','.join(just_received)})}",
        }
    refused = (bound is not None and bound.errors) or (batch is not None and batch.errors)
    return render(
        request,
        "items/receive.html",
        {
            "commission": commission,
            "lines": lines,
            "unplaced_form": unplaced,
            "received": received,
            "batch_labels": batch_labels,
        },
        status=422 if refused else 200,
    )


# --- storage ----


@allow(roles=LAB_STAFF)
@require_GET
def storage(request):
    """Which items are where (R6.6d): a count per storage place, and the items of one place."""
    places = selectors.storage_overview()
    location = None
    place = request.GET.get("place", "")
    unplaced = place == "none"
    if place and not unplaced:
        location = StorageLocation.objects.filter(pk=place).first() if place.isdigit() else None
        if location is None:
            raise Http404("no such place")
    items = None
    if location is not None or unplaced:
        items = Paginator(
            selectors.items_in_lab(location=location, unplaced=unplaced), PAGE_SIZE
        ).get_page(request.GET.get("page"))
    return render(
        request,
        "items/storage.html",
        {
            "places": places,
            "location": location,
            "unplaced": unplaced,
            "page": items,
            "query": f"place={place}" if items is not None else "",
        },
    )
