"""JSON errors with one stable shape for the whole API:

{"error": {"status": 403, "code": "forbidden", "message": "...", "details": [...]},
 "request_id": "..."}

A service's refusal (`ServiceError`) answers the status of its code (metrolab/core/errors.py):
409 for a conflict with the object's state, 422 for values refused, 404 and 403.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from metrolab.core.api_contract import BodyNotAnObject
from metrolab.core.errors import refusal_status
from metrolab.core.service import ServiceError

logger = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "throttled",
    500: "server_error",
}


MESSAGES = {
    404: _lazy("No such API operation."),
    405: _lazy("This API operation does not accept that method."),
    413: _lazy("The request body is larger than the server accepts."),
    500: _lazy("Internal error. Quote the request id."),
}


UPLOAD_UNREADABLE = _lazy(
    "The upload could not be read: the form or a file name is malformed or too long "
    "(file names: at most 255 characters)."
)


def error_body(
    request, status: int, message: str, *, code: str | None = None, details=None
) -> dict:
    return {
        "error": {
            "status": status,
            "code": code or CODES.get(status, "error"),
            "message": str(message),
            "details": details or [],
        },
        "request_id": getattr(request, "request_id", ""),
    }


def plain_error_body(request, status: int, code: str) -> dict:
    """For errors raised outside any API operation (see ApiErrorShapeMiddleware)."""
    return error_body(request, status, MESSAGES.get(status, code), code=code)


def error_response(
    api: NinjaAPI, request, status: int, message: str, *, code: str | None = None, details=None
):
    body = error_body(request, status, message, code=code, details=details)
    return api.create_response(request, body, status=status)


def install(api: NinjaAPI) -> None:
    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return error_response(api, request, 401, _("Sign in or send a valid API token."))

    @api.exception_handler(AuthorizationError)
    def forbidden(request, exc):
        return error_response(api, request, 403, str(exc.message))

    @api.exception_handler(ValidationError)
    def invalid(request, exc):
        details = [
            {
                "loc": [str(p) for p in e.get("loc", [])],
                "message": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors
        ]
        return error_response(api, request, 422, _("The request is not valid."), details=details)

    @api.exception_handler(ServiceError)
    def refused(request, exc):
        # The status its code carries (metrolab/core/errors.py): 422 a value, 409 the state,
        # 404 no such object, 403 not this person.
        details = [
            {"loc": [name] if name else [], "message": message}
            for name, messages in exc.errors.items()
            for message in messages
        ]
        status = refusal_status(exc.code)
        return error_response(api, request, status, exc.message, code=exc.code, details=details)

    @api.exception_handler(DjangoValidationError)
    def model_invalid(request, exc):
        details = [
            {"loc": [name], "message": str(msg)}
            for name, msgs in getattr(exc, "message_dict", {"": exc.messages}).items()
            for msg in msgs
        ]
        return error_response(api, request, 422, _("The request is not valid."), details=details)

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        if isinstance(exc.__cause__, BodyNotAnObject):
            # The parser's refusal reaches us wrapped by django-ninja as "cannot parse" (400);
            # the body parsed, so it is a validation error like any other wrong value.
            details = [{"loc": ["body"], "message": str(BodyNotAnObject.message)}]
            return error_response(
                api, request, 422, _("The request is not valid."), details=details
            )
        return error_response(api, request, exc.status_code, str(exc.message))

    @api.exception_handler(RequestDataTooBig)
    def too_large(request, exc):
        return error_response(api, request, 413, MESSAGES[413])

    @api.exception_handler(SuspiciousOperation)
    def malformed(request, exc):
        message = getattr(exc, "user_message", None) or _("The request is malformed.")
        return error_response(api, request, 400, str(message))

    @api.exception_handler(MultiPartParserError)
    def unreadable_upload(request, exc):
        return error_response(api, request, 400, UPLOAD_UNREADABLE)

    @api.exception_handler(OverflowError)
    @api.exception_handler(DataError)
    def out_of_range(request, exc):
        # An identifier or number past what the database stores (SQLite: OverflowError,
        # PostgreSQL: DataError): no object can match it, so it is the client's error.
        logger.info("Value out of the database's range: %s", exc)
        return error_response(api, request, 422, _("A number or value is out of range."))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return error_response(api, request, 404, _("Not found."))

    @api.exception_handler(PermissionDenied)
    def denied(request, exc):
        return error_response(api, request, 403, _("You are not allowed to do this."))

    @api.exception_handler(Exception)
    def server_error(request, exc):
        logger.exception("API error", extra={"request_id": getattr(request, "request_id", "")})
        return error_response(api, request, 500, _("Internal error. Quote the request id."))
