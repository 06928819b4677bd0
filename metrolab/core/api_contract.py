"""What every API operation accepts and emits, decided once (R7.2a, R7.2d).

- Request bodies: a JSON body must be an object. django-ninja validates a body against its
  schema with `from_attributes`, so a bare string, number, list or null would otherwise fill
  fields from the Python value's attributes (a string's `.title()` became a method's title).
  `ObjectBodyParser` refuses such bodies; the API answers 422 in the one error shape
  (`api_errors.install`).
- Lists: `Pagination` bounds `limit` and `offset`, so that no integer a client sends can
  overflow the database (`offset` ≥ 2⁶³ was a server error).
- Responses: `StrictJSONRenderer` emits strict JSON (RFC 8259): never `NaN` or `Infinity`.
  A non-finite float is sent as `null` and logged, since it is a defect upstream.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Annotated, Any

from django.utils.translation import gettext_lazy as _lazy
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

logger = logging.getLogger(__name__)

# Pages of API lists: the default and the largest a client may ask for.
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Far past any list the lab will hold, far below the 64-bit limit of the databases.
MAX_OFFSET = 10**12


# For operations that page by hand (a bare list): the same bounds as `Pagination`.
PageLimit = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)]
PageOffset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]


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
