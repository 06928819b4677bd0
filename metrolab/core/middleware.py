"""Request context for the audit log: a request id, the client address, the signed-in user."""

import ipaddress
import re
import uuid

from django.conf import settings
from django.http import JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from metrolab.core.context import RequestInfo, reset_request, set_request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def normalise_ip(value: str | None) -> str | None:
    """An IP address in canonical text form (IPv6 compressed, lower case), or None when it is
    not an address. The audit log hashes this form, so it must equal what the database
    returns."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or, behind a reverse proxy listed in METROLAB_TRUSTED_PROXIES, the address
    that proxy reports in X-Forwarded-For (the right-most entry: the one it added itself)."""
    remote = normalise_ip(request.META.get("REMOTE_ADDR"))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if remote is not None and remote in settings.METROLAB_TRUSTED_PROXIES and forwarded:
        return normalise_ip(forwarded.split(",")[-1]) or remote
    return remote


class RequestContextMiddleware:
    """Gives every request an id (kept from X-Request-ID when well-formed) and makes it, the
    client address and later the user available to services and the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = set_request(
            RequestInfo(request_id=request.request_id, client_ip=client_ip(request))
        )
        try:
            response = self.get_response(request)
        finally:
            reset_request(token)
        response["X-Request-ID"] = request.request_id
        return response


class LanguageMiddleware:
    """Chinese (zh-Hans) by default, whatever the browser's language; English only when the user
    chose it with the language switch (which sets the language cookie)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supported = {code for code, _name in settings.LANGUAGES}
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ["Cookie"])
        response.headers.setdefault("Content-Language", language)
        return response


class ApiErrorShapeMiddleware:
    """Errors under /api/ that did not come from an API operation (an unknown path, a method
    the path does not allow, a server error) get the API's one JSON error shape too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            from metrolab.core.api_errors import CODES, plain_error_body

            status = response.status_code
            json_response = JsonResponse(
                plain_error_body(request, status, CODES.get(status, "error")), status=status
            )
            for header in ("Allow", "X-Request-ID"):
                if header in response:
                    json_response[header] = response[header]
            return json_response
        return response
