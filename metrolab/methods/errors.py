"""Refusal codes of methods and deviations.

Each member carries the HTTP status the API answers with (metrolab/core/errors.py)."""

from http import HTTPStatus

from metrolab.core.errors import Refusal


class MethodRefusal(Refusal):
    VERIFICATION_NO_DEVIATION = "verification_no_deviation", HTTPStatus.UNPROCESSABLE_CONTENT
    SELF_APPROVAL = "self_approval", HTTPStatus.FORBIDDEN
