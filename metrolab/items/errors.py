"""Refusal codes of items.

Each member carries the HTTP status the API answers with (metrolab/core/errors.py)."""

from http import HTTPStatus

from metrolab.core.errors import Refusal


class ItemRefusal(Refusal):
    NOT_RECEIVABLE = "not_receivable", HTTPStatus.CONFLICT
    QUANTITY_EXCEEDED = "quantity_exceeded", HTTPStatus.CONFLICT
    UNSUPPORTED_TYPE = "unsupported_type", HTTPStatus.UNPROCESSABLE_CONTENT
    TOO_LARGE = "too_large", HTTPStatus.UNPROCESSABLE_CONTENT
    # The item still has open work (tasks not done): return or dispose only with a reason.
    OPEN_WORK = "open_work", HTTPStatus.CONFLICT
