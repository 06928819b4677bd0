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
import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models
from django.db.models import Q, Subquery
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


# Token authentication reads one row per request: the token, its user and the version of
# roles and permissions (AuthVersion), in one query. Last use is written at most once a
# minute per token (or when the address changes); the token's roles and permissions come from
# a small per-process cache while that version is unchanged.
#
# Why a version in the database and not Django's cache framework: the project configures no
# shared cache (the default is per process), and the product runs several web workers and
# `metrolab worker` processes; a per-process cache alone would let a revoked role act on in
# the other processes. The token row (revoked, expiry) and its user (active) are read fresh on
# every request anyway; the version read with them costs nothing more.

#: A token's last use (`last_used_at` / `last_used_ip`) is written at most this often.
TOKEN_LAST_USE_SECONDS = 60
#: How long a process reuses a token's roles and permissions, even with the version unchanged.
TOKEN_CACHE_SECONDS = 30
#: Tokens whose roles and permissions a process keeps at once (the oldest make room).
TOKEN_CACHE_SIZE = 1024


@dataclass(frozen=True)
class TokenScope:
    """What a token may do, as computed at `version` for this token and user."""

    version: int | None
    token_id: int
    user_id: int
    roles: frozenset[str]
    perms: frozenset[str]
    until: float  # time.monotonic() after which it is computed again


_scopes: dict[str, TokenScope] = {}
_scopes_lock = threading.Lock()


def token_cache_clear() -> None:
    """Forget every token's cached roles and permissions in this process."""
    with _scopes_lock:
        _scopes.clear()


def token_lookup(raw: str):
    """The active ApiToken for a raw bearer value, with its user and the current AuthVersion
    (`auth_version`), in one query; or None."""
    from metrolab.core.models import ApiToken, AuthVersion

    if not raw.startswith(TOKEN_PREFIX) or raw.count("_") < 2:
        return None
    prefix = raw[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = (
        ApiToken.objects.select_related("user")
        .annotate(auth_version=Subquery(AuthVersion.objects.filter(pk=1).values("version")[:1]))
        .filter(prefix=prefix)
        .first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, hash_token(raw)):
        return None
    if not token.is_active or not token.user.is_active:
        return None
    return token


def token_scope(token) -> TokenScope:
    """The token's roles (those it was scoped to that its user still holds) and their
    permissions: from this process's cache while the AuthVersion read with the token is
    unchanged and the entry is younger than TOKEN_CACHE_SECONDS, else computed (one query)."""
    from django.contrib.auth.models import Group

    from metrolab.core.models import ApiToken

    version = getattr(token, "auth_version", None)
    now = time.monotonic()
    cached = _scopes.get(token.key_hash)
    if (
        cached is not None
        and "auth_version" in token.__dict__
        and cached.version == version
        and cached.token_id == token.pk
        and cached.user_id == token.user_id
        and cached.until > now
    ):
        return cached
    scoped = ApiToken.roles.through.objects.filter(apitoken_id=token.pk).values("group_id")
    rows = Group.objects.filter(pk__in=scoped, user=token.user_id).values_list(
        "name", "permissions__content_type__app_label", "permissions__codename"
    )
    roles, perms = set(), set()
    for name, app, codename in rows:
        roles.add(name)
        if codename is not None:
            perms.add(f"{app}.{codename}")
    scope = TokenScope(
        version=version,
        token_id=token.pk,
        user_id=token.user_id,
        roles=frozenset(roles),
        perms=frozenset(perms),
        until=now + TOKEN_CACHE_SECONDS,
    )
    with _scopes_lock:
        if len(_scopes) >= TOKEN_CACHE_SIZE:
            for key in list(_scopes)[: TOKEN_CACHE_SIZE // 4]:
                _scopes.pop(key, None)
        _scopes[token.key_hash] = scope
    return scope


def token_roles(token) -> frozenset[str]:
    """A token acts with the roles it was scoped to that its user still holds."""
    return token_scope(token).roles


def token_scoped_user(token):
    """The token's user as the API sees it: only the scoped roles that the user still holds,
    only those roles' permissions, never superuser powers. A copy, so the signed-in user
    elsewhere is unaffected; `User.save` refuses to persist such a copy's flags."""
    scope = token_scope(token)
    user = copy.copy(token.user)
    user.is_superuser = False
    user._role_codes = scope.roles
    user._perm_cache = scope.perms
    user._user_perm_cache = frozenset()
    user._group_perm_cache = scope.perms
    user._token_scope = token
    return user


def record_token_use(token, ip: str | None) -> bool:
    """Record when and from where the token was used, at most once every
    TOKEN_LAST_USE_SECONDS (and when the address changes): one conditional UPDATE, without the
    audit chain's lock (last_used_* are left out of the audit log), and no statement at all
    while the row read with the token is recent. True if this call wrote."""
    from metrolab.core.models import ApiToken

    now = timezone.now()
    horizon = now - dt.timedelta(seconds=TOKEN_LAST_USE_SECONDS)
    last = token.last_used_at
    if last is not None and last > horizon and token.last_used_ip == ip:
        return False
    # AuditedQuerySet refuses update(); these two fields are not audited, and one statement
    # that re-checks the condition keeps concurrent processes to one write a minute.
    wrote = (
        models.QuerySet(ApiToken)
        .filter(
            Q(pk=token.pk),
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=horizon) | ~Q(last_used_ip=ip),
        )
        .update(last_used_at=now, last_used_ip=ip)
    )
    if wrote:
        token.last_used_at, token.last_used_ip = now, ip
    return bool(wrote)


def bump_auth_version(**kwargs) -> None:
    """Give AuthVersion a new value, inside the caller's transaction: every process's cached
    token roles and permissions are computed again on their next request."""
    from metrolab.core.models import AuthVersion

    value = secrets.randbits(62)
    if not AuthVersion.objects.filter(pk=1).update(version=value):
        AuthVersion.objects.update_or_create(pk=1, defaults={"version": value})


def _on_m2m_changed(sender, action, **kwargs) -> None:
    if action in {"post_add", "post_remove", "post_clear"}:
        bump_auth_version()


def _on_group_saved(sender, instance, created, **kwargs) -> None:
    if not created:  # a rename changes the role code that tokens and people hold
        bump_auth_version()


def connect_token_cache_invalidation() -> None:
    """Connected in CoreConfig.ready(): the changes that alter what a token may do."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from metrolab.core.models import ApiToken, User

    for through in (
        User.groups.through,
        User.user_permissions.through,
        Group.permissions.through,
        ApiToken.roles.through,
    ):
        m2m_changed.connect(
            _on_m2m_changed, sender=through, dispatch_uid=f"token-scope-{through._meta.label}"
        )
    post_save.connect(_on_group_saved, sender=Group, dispatch_uid="token-scope-group-save")
    post_delete.connect(bump_auth_version, sender=Group, dispatch_uid="token-scope-group-delete")
    post_delete.connect(
        bump_auth_version, sender=Permission, dispatch_uid="token-scope-permission-delete"
    )


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
        record_token_use(found, client_ip(request))
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
