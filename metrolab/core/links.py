"""Links only where the user may follow them (R4.3): a page that links to another page
(often of another app: the customer of an instrument, the item of a task) shows a plain name
when the target view's access declaration would refuse the user, instead of a link to a 403."""

from __future__ import annotations

from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from metrolab.core.access import DELEGATED_NAMESPACES, view_access


def may_open(user, url: str) -> bool:
    """Whether the access policy lets `user` open `url` (the declaration of the view it
    resolves to; object-level filters of the view itself still apply)."""
    try:
        match = resolve(url.split("?", 1)[0])
    except Resolver404:
        return False
    if "admin" in match.namespaces:
        return bool(user and user.is_active and user.is_staff)
    if set(match.namespaces) & DELEGATED_NAMESPACES.keys():
        return bool(user and user.is_authenticated)
    access = view_access(match.func)
    return access is not None and access.permits(user)


def permitted_url(user, viewname: str, *args, **kwargs) -> str:
    """The URL of `viewname` if `user` may open it, else an empty string."""
    try:
        url = reverse(viewname, args=args or None, kwargs=kwargs or None)
    except NoReverseMatch:
        return ""
    return url if may_open(user, url) else ""
