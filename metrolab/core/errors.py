"""Refusal codes and the HTTP status each one means (R7.2d), decided once.

A service refuses with `ServiceError(message, code=<member>)`, the member of an enum of
refusal codes: the core's (`CoreRefusal`) for the refusals every app shares, or its app's
(`<app>/errors.py`) for the refusals of its domain. Each member carries its HTTP status, and
the API answers with it (`metrolab/core/api_errors.py`):

- 422 (`INVALID`): a value the client sent is not acceptable (a wrong or missing field, a
  value a business rule refuses): the same request with other values may succeed;
- 409 (`CONFLICT`): the object's current state does not allow the change (already done,
  cancelled, scrapped, full, a duplicate, a transition its status forbids): the request may
  succeed once the state is different;
- 404 (`NOT_FOUND`): the object named does not exist, or is not visible to the caller;
- 403 (`FORBIDDEN`): this person may not do this to this object.

A test (`core/tests/test_refusal_codes.py`) fails on a literal string code in the code base.
"""

from __future__ import annotations

from enum import StrEnum
from http import HTTPStatus

# The four statuses of a refusal.
INVALID = HTTPStatus.UNPROCESSABLE_CONTENT  # 422
CONFLICT = HTTPStatus.CONFLICT  # 409
NOT_FOUND = HTTPStatus.NOT_FOUND  # 404
FORBIDDEN = HTTPStatus.FORBIDDEN  # 403


class Refusal(StrEnum):
    """Base of the refusal-code enums: `NAME = "code", <status>` (the status 422 if left
    out). Members are strings, so the code reads and serialises as before."""

    status: int

    def __new__(cls, value: str, status: int = INVALID) -> Refusal:
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = int(status)
        return member


class CoreRefusal(Refusal):
    """The refusals every app shares."""

    INVALID = "invalid", HTTPStatus.UNPROCESSABLE_CONTENT
    TOO_LONG = "too_long", HTTPStatus.UNPROCESSABLE_CONTENT
    FORBIDDEN = "forbidden", HTTPStatus.FORBIDDEN
    NOT_FOUND = "not_found", HTTPStatus.NOT_FOUND
    CONFLICT = "conflict", HTTPStatus.CONFLICT
    DUPLICATE = "duplicate", HTTPStatus.CONFLICT
    INVALID_TRANSITION = "invalid_transition", HTTPStatus.CONFLICT


# The status of a code given as a plain string (a code from outside the enums): the core's
# codes keep their status, any other is a refusal of the values (422).
_CORE_STATUS = {member.value: member.status for member in CoreRefusal}


def refusal_status(code: str) -> int:
    """The HTTP status of a refusal code: its member's, or the core code's of that name."""
    status = getattr(code, "status", None)
    if isinstance(status, int):
        return status
    return _CORE_STATUS.get(str(code), INVALID)
