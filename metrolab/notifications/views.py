"""Notification pages (R6.1c): the signed-in user's inbox and the delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from metrolab.core.access import allow, authenticated
from metrolab.notifications import selectors, services
from metrolab.notifications.forms import DeliveryFilterForm

INBOX_PAGE_SIZE = 20
LOG_PAGE_SIZE = 50


@authenticated
def inbox(request):
    """The user's own notifications, unread first (R6.1c)."""
    notifications = selectors.notification_list(user=request.user)
    page = Paginator(notifications, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread": selectors.notification_unread_count(user=request.user)},
    )


@require_POST
@authenticated
def mark_read(request, pk: int):
    """Mark one of the user's own notifications read; anyone else's is not found."""
    notification = selectors.notification_get(user=request.user, pk=pk)
    if notification is None:
        raise Http404
    services.notification_mark_read(notification, request.user, actor=request.user)
    return redirect(_back_to_inbox(request))


@require_POST
@authenticated
def mark_all_read(request):
    count = services.notification_mark_all_read(user=request.user, actor=request.user)
    done = ngettext(
        "%(count)d notification marked read.", "%(count)d notifications marked read.", count
    )
    messages.success(request, done % {"count": count})
    return redirect(_back_to_inbox(request))


def _back_to_inbox(request) -> str:
    """The inbox page the form was posted from."""
    page = request.POST.get("page", "")
    return reverse("notifications:inbox") + (f"?page={int(page)}" if page.isdigit() else "")


@allow(perms=["notifications.view_delivery"])
def delivery_log(request):
    """The delivery log for administrators and quality managers, filtered by status and
    channel; 50 deliveries a page (R6.1c)."""
    form = DeliveryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    deliveries = selectors.delivery_list(
        status=filters.get("status", ""), channel=filters.get("channel", "")
    )
    page = Paginator(deliveries, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "notifications/delivery_log.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "channels": selectors.channel_status(),
        },
    )
