"""Small helpers the apps' pages share: whether a user holds one of some roles, a safe way
back after a form, and a list's query string without its page number (for pagination links)."""

from __future__ import annotations

from collections.abc import Iterable

from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from metrolab.core import permissions


def holds(user, roles: Iterable[str]) -> bool:
    """The user is a superuser or holds one of `roles` (what a page shows; the services
    check again, with `metrolab.core.permissions`)."""
    return permissions.holds(user, roles)


def back_to(request, default: str):
    """Redirect to the form's `next` when it is a page of this site, else to `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


def query_without_page(request) -> str:
    """The request's query string without `page` (what a page link appends to)."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
