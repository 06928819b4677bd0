"""What every API operation accepts and emits, decided once (R7.2a, R7.2d).

- Request bodies: a JSON body must be an object. django-ninja validates a body against its
  schema with `from_attributes`, so a bare string, number, list or null would otherwise fill
  fields from the Python value's attributes (a string's `.title()` became a method's title).
  `ObjectBodyParser` refuses such bodies; the API answers 422 in the one error shape
  (`api_errors.install`).
- Lists: every list operation is `@paginate`d with `Pagination`: `?limit=` (default 100, at
  most 1000) and `?offset=`, answering `{"items": [...], "count": n}`
  (core/tests/test_api_contract.py walks the OpenAPI document for it). The bounds keep any
  integer a client sends from overflowing the database (`offset` ≥ 2⁶³ was a server error).
  `Mapped` turns only the page's rows into response objects.
- Errors: every operation documents the one error shape (`ApiError`) for the client errors
  the API layer can answer (`MetrolabAPI.get_openapi_schema`). A service's refusal answers the
  status its code carries (metrolab/core/errors.py): 409 for the object's state, 422 for a
  value, 404, 403; `error.code` names the refusal (`conflict`, `slot_full`, `invalid`, ...).
- Answers: every operation's success answer has a typed schema (not a bare dict).
- Responses: `StrictJSONRenderer` emits strict JSON (RFC 8259): never `NaN` or `Infinity`.
  A non-finite float is sent as `null` and logged, since it is a defect upstream.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _lazy
from ninja import Field, NinjaAPI, Schema
from ninja.pagination import LimitOffsetPagination
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

logger = logging.getLogger(__name__)

# Pages of API lists: the default and the largest a client may ask for.
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Far past any list the lab will hold, far below the 64-bit limit of the databases.
MAX_OFFSET = 10**12


class BodyNotAnObject(ValueError):
    """The JSON body parsed, but is not an object."""

    message = _lazy("The request body must be a JSON object.")


class ObjectBodyParser(Parser):
    """JSON bodies are objects, or the request is refused."""

    def parse_body(self, request):
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise BodyNotAnObject(type(data).__name__)
        return data


class Pagination(LimitOffsetPagination):
    """`?limit=&offset=` with bounds (the project's NINJA_PAGINATION_CLASS)."""

    class Input(Schema):
        limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_PAGE_SIZE, **kwargs)


class Mapped:
    """Rows for `@paginate` that become response objects through `out` only for the page
    sent: `return Mapped(queryset, _thing_out)` instead of building every row's dict."""

    def __init__(self, rows: Any, out: Callable[[Any], Any]) -> None:
        self.rows = rows
        self.out = out

    def all(self) -> Mapped:
        return self

    def count(self) -> int:
        return self.rows.count() if isinstance(self.rows, QuerySet) else len(self.rows)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list:
        return [self.out(row) for row in self.rows[window]]


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class StrictJSONRenderer(JSONRenderer):
    """Strict JSON only: `allow_nan=False`, with non-finite floats replaced by null."""

    json_dumps_params = {"allow_nan": False}

    def render(self, request, data: Any, *, response_status: int) -> Any:
        try:
            return super().render(request, data, response_status=response_status)
        except ValueError:
            logger.warning(
                "Non-finite number in an API response replaced by null",
                extra={"request_id": getattr(request, "request_id", ""), "path": request.path},
            )
            return super().render(request, _finite(data), response_status=response_status)


class ApiErrorDetail(Schema):
    loc: list[str] = []
    message: str
    type: str | None = None


class ApiErrorBody(Schema):
    status: int
    code: str
    message: str
    details: list[ApiErrorDetail]


class ApiError(Schema):
    """The one JSON error shape of the API (metrolab/core/api_errors.py)."""

    error: ApiErrorBody
    request_id: str


# Client errors any operation may answer, with what they mean.
_ERRORS = {
    "400": "Malformed request (unparseable JSON, unreadable upload)",
    "404": "No such object, or not visible to you",
    "409": "Conflict with the object's current state (already done, cancelled, a duplicate, "
    "a transition its status forbids); error.code names it",
    "422": "Invalid input: a value refused, by its schema or by a business rule; error.code "
    "names it",
    "429": "Too many requests",
}
_SECURED_ERRORS = {
    "401": "Not signed in, or no valid API token",
    "403": "Not allowed: the role, or this person for this object",
}
_BODY_ERRORS = {"413": "Request body too large"}


_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A unique string of the client's: a retry with the same key and body gets "
    "the first (successful) answer and creates nothing new, for 24 hours "
    "(metrolab/core/idempotency.py).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


class MetrolabAPI(NinjaAPI):
    """django-ninja's API with the error contract documented on every operation."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        error_schema = ApiError.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in error_schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components["ApiError"] = error_schema
        reference = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                if method == "post":
                    operation.setdefault("parameters", []).append(_IDEMPOTENCY_KEY)
                errors = dict(_ERRORS)
                if operation.get("security"):
                    errors.update(_SECURED_ERRORS)
                if "requestBody" in operation:
                    errors.update(_BODY_ERRORS)
                responses = operation.setdefault("responses", {})
                for code, description in errors.items():
                    responses.setdefault(code, {"description": description, "content": reference})
        return schema
