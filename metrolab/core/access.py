"""Deny by default (R4.3, R7.2a): every page and API operation declares who may use it.

Pages: decorate the view with `@public`, `@authenticated` or `@allow(roles=..., perms=...)`.
`AccessPolicyMiddleware` refuses any view that carries no declaration. The Django admin is
governed by its own staff and model-permission checks; the JSON API by `api_access` below.

API operations: pass `**public_api()` or `auth=api_access(...)`. The API's default auth refuses
everything, so an operation that declares nothing is unreachable.
`metrolab/core/tests/test_access_policy.py` walks every URL pattern and every API operation.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import AuthorizationError
from ninja.security import APIKeyCookie, HttpBearer

from metrolab.core.context import update_request
from metrolab.core.middleware import client_ip


@dataclass(frozen=True)
class Access:
    """Who may use a page or an operation. Empty roles and perms mean: any signed-in user."""

    public: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)
    perms: frozenset[str] = field(default_factory=frozenset)

    def permits(self, user) -> bool:
        if self.public:
            return True
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        if self.roles and not (user.is_superuser or user.has_role(*self.roles)):
            return False
        return all(user.has_perm(p) for p in self.perms)

    def describe(self) -> str:
        if self.public:
            return "public"
        parts = []
        if self.roles:
            parts.append("roles: " + ", ".join(sorted(self.roles)))
        if self.perms:
            parts.append("perms: " + ", ".join(sorted(self.perms)))
        return "; ".join(parts) or "any signed-in user"


def _declare(view, access: Access):
    view.metrolab_access = access
    return view


def public(view):
    """Anyone, signed in or not (login page, certificate verification, health)."""
    return _declare(view, Access(public=True))


def authenticated(view):
    """Any signed-in, active user."""
    return _declare(view, Access())


def allow(*, roles: tuple[str, ...] | list[str] = (), perms: tuple[str, ...] | list[str] = ()):
    """Signed-in users holding one of `roles` (if given) and all of `perms` (if given)."""
    if not roles and not perms:
        raise ImproperlyConfigured("allow() needs roles or perms; use @authenticated otherwise")

    def decorator(view):
        return _declare(view, Access(roles=frozenset(roles), perms=frozenset(perms)))

    return decorator


def view_access(view_func) -> Access | None:
    access = getattr(view_func, "metrolab_access", None)
    if access is None and hasattr(view_func, "view_class"):
        access = getattr(view_func.view_class, "metrolab_access", None)
    return access


# Namespaces whose views are governed by another, equally strict mechanism.
DELEGATED_NAMESPACES = {
    "admin": "Django admin: active staff users with model permissions",
    "api-1": "JSON API: metrolab.core.access.api_access on every operation",
}


class AccessPolicyMiddleware:
    """Refuses every request to a view that does not declare its access rule."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            update_request(user=request.user)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match and set(match.namespaces) & DELEGATED_NAMESPACES.keys():
            return None
        access = view_access(view_func)
        if access is None:
            if settings.DEBUG or settings.TESTING:
                raise ImproperlyConfigured(
                    f"view {match.view_name if match else view_func!r} declares no access rule"
                )
            raise PermissionDenied
        if access.permits(request.user):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied


# --- API ----

TOKEN_PREFIX = "mlt_"


def hash_token(raw: str) -> str:
    """Tokens are long random strings, so an unsalted SHA-256 is a safe way to store them."""
    return hashlib.sha256(raw.encode()).hexdigest()


def token_lookup(raw: str):
    """The active ApiToken for a raw bearer value, or None. Records when and where it was used."""
    from metrolab.core.models import ApiToken

    if not raw.startswith(TOKEN_PREFIX) or raw.count("_") < 2:
        return None
    prefix = raw[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.key_hash, hash_token(raw)):
        return None
    if not token.is_active or not token.user.is_active:
        return None
    return token


def token_roles(token) -> frozenset[str]:
    """A token acts with the roles it was scoped to that its user still holds."""
    scoped = set(token.roles.values_list("name", flat=True))
    return frozenset(scoped & set(token.user.role_codes))


def token_scoped_user(token):
    """The token's user as the API sees it: only the scoped roles that the user still holds,
    only those roles' permissions, never superuser powers. A copy, so the signed-in user
    elsewhere is unaffected; `User.save` refuses to persist such a copy's flags."""
    from django.contrib.auth.models import Permission

    roles = token_roles(token)
    perms = Permission.objects.filter(group__name__in=roles).values_list(
        "content_type__app_label", "codename"
    )
    user = copy.copy(token.user)
    user.is_superuser = False
    user._role_codes = roles
    user._perm_cache = {f"{app}.{codename}" for app, codename in perms}
    user._user_perm_cache = set()
    user._group_perm_cache = set(user._perm_cache)
    user._token_scope = token
    return user


class _ApiRule:
    def __init__(self, access: Access):
        self.access = access

    def _check(self, user, roles: frozenset[str] | None = None):
        access = self.access
        if roles is not None and access.roles and not (roles & access.roles):
            raise AuthorizationError(message=_("This token's roles do not allow this operation."))
        if not access.permits(user):
            raise AuthorizationError(message=_("You are not allowed to use this operation."))
        return user


class BearerTokenAuth(_ApiRule, HttpBearer):
    """`Authorization: Bearer mlt_...` API tokens for machines and integrations."""

    def __init__(self, access: Access):
        _ApiRule.__init__(self, access)
        HttpBearer.__init__(self)

    def authenticate(self, request, token):
        found = token_lookup(token)
        if found is None:
            return None
        user = token_scoped_user(found)
        roles = user._role_codes
        request.user = user
        update_request(user=user, token=found)
        ip = client_ip(request)
        found.last_used_at = timezone.now()
        found.last_used_ip = ip
        found.save(update_fields=["last_used_at", "last_used_ip"])
        request.api_token = found
        return self._check(user, roles)


class SessionCookieAuth(_ApiRule, APIKeyCookie):
    """The browser's signed-in session; CSRF is checked for unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, access: Access):
        _ApiRule.__init__(self, access)
        APIKeyCookie.__init__(self, csrf=True)

    def authenticate(self, request, key):
        if not request.user.is_authenticated:
            return None
        return self._check(request.user)


def api_access(*, roles: tuple[str, ...] | list[str] = (), perms: tuple[str, ...] | list[str] = ()):
    """Auth for an API operation: a bearer token or the session, holding `roles` / `perms`
    (none given: any signed-in user or valid token)."""
    access = Access(roles=frozenset(roles), perms=frozenset(perms))
    return [BearerTokenAuth(access), SessionCookieAuth(access)]


class UndeclaredAccess:
    """The API's default auth: an operation that declared no rule refuses everyone."""

    def __call__(self, request):
        raise AuthorizationError(message="This operation declares no access rule.")


PUBLIC_API_MARK = "x-metrolab-public"


def public_api() -> dict:
    """Keyword arguments for a public API operation (health, certificate verification)."""
    return {"auth": None, "openapi_extra": {PUBLIC_API_MARK: True}}
