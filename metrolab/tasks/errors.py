"""Refusal codes of tasks.

Each member carries the HTTP status the API answers with (metrolab/core/errors.py)."""

from http import HTTPStatus

from metrolab.core.errors import Refusal


class TaskRefusal(Refusal):
    # The assignee or the set-up chosen (authorised item, equipment, method) does not meet
    # what assigning or starting the task needs: the client chooses otherwise (422).
    NOT_ELIGIBLE = "not_eligible", HTTPStatus.UNPROCESSABLE_CONTENT
