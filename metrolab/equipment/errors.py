"""Refusal codes of equipment.

Each member carries the HTTP status the API answers with (metrolab/core/errors.py)."""

from http import HTTPStatus

from metrolab.core.errors import Refusal


class EquipmentRefusal(Refusal):
    SCRAPPED = "scrapped", HTTPStatus.CONFLICT
    EXPIRED = "expired", HTTPStatus.CONFLICT
    INACTIVE = "inactive", HTTPStatus.CONFLICT
    NOT_USABLE = "not_usable", HTTPStatus.CONFLICT
    CALIBRATION_REQUIRED = "calibration_required", HTTPStatus.CONFLICT
    OUT_OF_CONTROL = "out_of_control", HTTPStatus.CONFLICT
