"""Refusal codes of commissions.

Each member carries the HTTP status the API answers with (metrolab/core/errors.py)."""

from http import HTTPStatus

from metrolab.core.errors import Refusal


class CommissionRefusal(Refusal):
    SLOT_FULL = "slot_full", HTTPStatus.CONFLICT
    SLOT_PAST = "slot_past", HTTPStatus.CONFLICT
