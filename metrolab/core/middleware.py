"""Request context for the audit log: a request id, the client address, the signed-in user."""

import re
import uuid

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers

from metrolab.core.context import RequestInfo, reset_request, set_request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or the address a trusted reverse proxy reports (METROLAB_TRUSTED_PROXIES)."""
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = getattr(settings, "METROLAB_TRUSTED_PROXIES", ())
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if remote in trusted and forwarded:
        return forwarded.split(",")[-1].strip() or remote
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
