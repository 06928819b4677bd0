"""Refusal codes of the environment monitoring and control.

Each member carries the HTTP status the API answers with (metrolab/core/errors.py)."""

from http import HTTPStatus

from metrolab.core.errors import Refusal


class EnvironmentRefusal(Refusal):
    INACTIVE = "inactive", HTTPStatus.CONFLICT
    UNCHANGED = "unchanged", HTTPStatus.CONFLICT
