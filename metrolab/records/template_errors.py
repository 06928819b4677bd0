"""Refusal codes of record templates and their versions (R6.2d).

Each member carries the HTTP status the API answers with (metrolab/core/errors.py)."""

from http import HTTPStatus

from metrolab.core.errors import Refusal


class TemplateRefusal(Refusal):
    # The definition does not compile (errors={path: [messages]}, paths as the engine gives).
    INVALID_DEFINITION = "template_invalid", HTTPStatus.UNPROCESSABLE_CONTENT
    # Only a draft is edited, submitted; only a version in review is reviewed or approved.
    NOT_DRAFT = "template_version_not_draft", HTTPStatus.CONFLICT
    NOT_IN_REVIEW = "template_version_not_in_review", HTTPStatus.CONFLICT
    # An approved or retired version never changes (a change is a new version).
    IMMUTABLE = "template_version_immutable", HTTPStatus.CONFLICT
    # One version in progress (draft or in review) per template at a time.
    DRAFT_OPEN = "template_draft_open", HTTPStatus.CONFLICT
    # Approval comes after the review; a version is reviewed once.
    NOT_REVIEWED = "template_version_not_reviewed", HTTPStatus.CONFLICT
    ALREADY_REVIEWED = "template_version_already_reviewed", HTTPStatus.CONFLICT
    # Only the author edits and submits his draft.
    NOT_AUTHOR = "template_not_author", HTTPStatus.FORBIDDEN
    # Segregation of duties: the author never reviews or approves his version; the reviewer
    # does not approve it either.
    SELF_REVIEW = "template_self_review", HTTPStatus.FORBIDDEN
    SELF_APPROVAL = "template_self_approval", HTTPStatus.FORBIDDEN
