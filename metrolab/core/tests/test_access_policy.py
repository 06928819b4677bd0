"""Deny by default (R4.3, R7.2a): every URL pattern and every API operation declares who may
use it, and nothing is reachable anonymously unless it is explicitly public.

These tests enumerate the URL resolver and the OpenAPI schema, so an endpoint added later by
any app is covered without editing this file.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from config.api import api
from metrolab.core.access import DELEGATED_NAMESPACES, PUBLIC_API_MARK, view_access
from metrolab.core.roles import LAB_STAFF

# The only pages anyone may open without signing in.
PUBLIC_PAGES = {
    "core:login",
    "core:login_totp",
    "core:logout",
    "set_language",
    "favicon",
    "admin:login",
    "admin:logout",
    "api-1:openapi-json",
    "api-1:openapi-view",
    "api-1:api-root",
    "commissions:public_status",
    # Certificate verification (R9.1): by number and code, by the QR link, by upload.
    "verify:form",
    "verify:link",
}
# The only API operations anyone may call without credentials (method, path).
PUBLIC_OPERATIONS = {
    ("get", "/api/v1/health"),
    ("get", "/api/v1/public/commissions/{number}/status"),
    # Certificate verification (R9.1): by number and code, by the QR link, by upload.
    ("get", "/api/v1/public/certificates/verify"),
    ("get", "/api/v1/public/certificates/{identifier}/verify"),
    ("post", "/api/v1/public/certificates/verify-file"),
}

SAMPLE = {"int": "1", "str": "x", "slug": "x", "uuid": str(uuid.UUID(int=1)), "path": "x/y"}


def _walk(patterns, prefix="", namespaces=()):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = (*namespaces, p.namespace) if p.namespace else namespaces
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p, namespaces


def _concrete(route: str) -> str | None:
    """A URL for a route: converters filled with sample values; regex routes made literal."""
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE.get(m.group(1) or "str", "x"), route)
    if route.startswith("^"):
        route = route.lstrip("^").rstrip("$").replace("\\Z", "")
        route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
        route = route.replace("\\", "")
        if any(ch in route for ch in "()[]*+?|"):
            return None
    return "/" + route


def all_patterns():
    return list(_walk(get_resolver().url_patterns))


def test_every_page_declares_its_access_rule():
    undeclared = []
    for route, pattern, namespaces in all_patterns():
        if set(namespaces) & DELEGATED_NAMESPACES.keys() and view_access(pattern.callback) is None:
            continue
        if view_access(pattern.callback) is None:
            undeclared.append(route)
    assert not undeclared, f"views without an access rule: {undeclared}"


def test_only_listed_pages_are_public():
    public = set()
    for _route, pattern, namespaces in all_patterns():
        access = view_access(pattern.callback)
        if access is not None and access.public:
            public.add(":".join([*namespaces, pattern.name or "?"]))
    assert public <= PUBLIC_PAGES, f"public pages not in the reviewed list: {public - PUBLIC_PAGES}"


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in_everywhere_else(client):
    checked = 0
    for route, _pattern, namespaces in all_patterns():
        url = _concrete(route)
        if url is None:
            continue
        match = resolve(url)
        name = match.view_name
        if name in PUBLIC_PAGES or "api-1" in namespaces:
            continue  # API operations: the tests below
        response = client.get(url)
        checked += 1
        assert response.status_code in (301, 302), f"{url} ({name}) answered {response.status_code}"
        location = response.headers["Location"]
        assert "login" in location, f"{url} ({name}) redirected to {location}"
    assert checked >= 10


def _operations():
    """Every operation of every router, from the routers themselves (so an operation left out
    of the OpenAPI schema is still checked), with its full path and methods."""
    api.urls  # noqa: B018 - binds the routers
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            parts = [p.strip("/") for p in (prefix, path) if p.strip("/")]
            full = "/api/v1/" + "/".join(parts) + ("/" if path.endswith("/") and parts else "")
            for op in path_view.operations:
                for method in op.methods:
                    yield method.lower(), full, op


def test_every_api_operation_declares_access():
    from metrolab.core.access import BearerTokenAuth, SessionCookieAuth

    undeclared = []
    for method, path, op in _operations():
        if (op.openapi_extra or {}).get(PUBLIC_API_MARK):
            assert (method, path) in PUBLIC_OPERATIONS, f"{method} {path} is public but unlisted"
            assert not op.auth_callbacks
            continue
        kinds = {type(cb) for cb in op.auth_callbacks}
        if not kinds or not kinds <= {BearerTokenAuth, SessionCookieAuth}:
            undeclared.append(f"{method.upper()} {path}")
    assert not undeclared, f"API operations with no declared access: {undeclared}"


def test_every_other_api_url_is_a_listed_public_page():
    """Under /api/v1/ only operations (checked above) and the reviewed public pages exist."""
    operation_views = {
        p.callback
        for _r, p, ns in all_patterns()
        if "api-1" in ns and getattr(p.callback, "__qualname__", "").startswith("PathView")
    }
    for _route, pattern, namespaces in all_patterns():
        if "api-1" in namespaces and pattern.callback not in operation_views:
            assert f"api-1:{pattern.name}" in PUBLIC_PAGES, pattern.name


def test_the_schema_lists_every_operation():
    schema_ops = {(m, p) for p, ms in api.get_openapi_schema()["paths"].items() for m in ms}
    router_ops = {(m, p) for m, p, _op in _operations()}
    assert router_ops == schema_ops


def _api_url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.django_db
def test_anonymous_gets_401_from_every_non_public_operation(client):
    seen = 0
    for method, path, _op in _operations():
        response = getattr(client, method)(_api_url(path), content_type="application/json")
        if (method, path) in PUBLIC_OPERATIONS:
            assert response.status_code not in (401, 403), f"{method} {path}"
            continue
        seen += 1
        assert response.status_code == 401, f"{method} {path} answered {response.status_code}"
        body = response.json()
        assert body["error"]["code"] == "unauthenticated"
        assert body["request_id"]
    assert seen >= 1


def test_an_undeclared_operation_refuses_everyone(cast):
    """The API's default auth (what an operation gets when it declares nothing) refuses even a
    signed-in admin."""
    from django.test import RequestFactory
    from ninja.errors import AuthorizationError

    from metrolab.core.access import UndeclaredAccess

    assert [type(a) for a in api.auth] == [UndeclaredAccess]
    request = RequestFactory().get("/api/v1/anything")
    request.user = cast["admin"]
    with pytest.raises(AuthorizationError):
        api.auth[0](request)


PAGE_ACCESS = {
    # url name: roles (cast usernames) that may open it; every other cast member gets 403.
    "core:dashboard": "*",
    "core:account_security": "*",
    "core:audit_log": {"admin", "quality_manager"},
    "core:audit_verification": {"admin", "quality_manager"},
    "core:organisation": {"admin", "director", "quality_manager"},
    "core:api_tokens": {"admin"},
    "calculator:uncertainty": set(LAB_STAFF),
    "notifications:inbox": "*",
    "notifications:deliveries": {"admin", "quality_manager"},
    # Issue 5: the libraries are read by the whole lab, edited by their managers.
    "methods:list": set(LAB_STAFF),
    "methods:mine": set(LAB_STAFF),
    "methods:categories": set(LAB_STAFF),
    "methods:create": {"admin", "quality_manager"},
    "methods:deviations": {*LAB_STAFF, "customer", "customer_a", "customer_b"},
    "equipment:list": set(LAB_STAFF),
    "equipment:standards": set(LAB_STAFF),
    "equipment:calendar": set(LAB_STAFF),
    "qualifications:items": set(LAB_STAFF),
    "qualifications:people": set(LAB_STAFF),
    "risk:radar": {"admin", "director", "quality_manager", "equipment_manager"},
    "risk:trace": {"admin", "director", "quality_manager", "equipment_manager"},
    # Issue 6: the environment's dashboards and logs are read by the lab.
    "environment:rooms": set(LAB_STAFF),
    "environment:alarms": set(LAB_STAFF),
    "environment:commands": set(LAB_STAFF),
    "environment:devices": set(LAB_STAFF),
    # Issue 15: certificates are read by those who read records and by customers (their own);
    # the approved records without one are for those who manage certificates.
    "certificates:list": {
        *("admin", "director", "quality_manager", "receptionist"),
        *("metrologist", "checker", "approver", "customer", "customer_a", "customer_b"),
    },
    "certificates:pending": {"admin", "director", "quality_manager", "approver"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", sorted(PAGE_ACCESS))
def test_pages_open_only_for_their_roles(cast, client, url_name):
    from django.urls import reverse

    allowed = PAGE_ACCESS[url_name]
    for username, user in cast.items():
        client.force_login(user)
        status = client.get(reverse(url_name)).status_code
        expected = 200 if allowed == "*" or username in allowed else 403
        assert status == expected, f"{username} on {url_name}: {status}, expected {expected}"


@pytest.mark.django_db
def test_navigation_shows_only_permitted_modules(cast, client):
    client.force_login(cast["receptionist"])
    html = client.get("/").content.decode()
    assert 'href="/audit/"' not in html
    assert 'href="/tokens/"' not in html
    client.force_login(cast["admin"])
    html = client.get("/").content.decode()
    assert 'href="/audit/"' in html and 'href="/tokens/"' in html and 'href="/admin/"' in html


@pytest.mark.django_db
def test_back_office_is_for_staff_only(cast, client):
    client.force_login(cast["receptionist"])
    assert client.get("/admin/").status_code == 302
    client.force_login(cast["admin"])
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/core/user/").status_code == 200
