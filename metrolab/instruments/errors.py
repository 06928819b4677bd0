"""Refusal codes of instruments and procedure runs (metrolab/core/errors.py: each member
carries the HTTP status the API answers with)."""

from http import HTTPStatus

from metrolab.core.errors import Refusal


class InstrumentRefusal(Refusal):
    # The connection JSON is not one `open_driver` takes.
    CONNECTION_INVALID = "connection_invalid", HTTPStatus.UNPROCESSABLE_CONTENT
    # The equipment has no connection.
    NO_CONNECTION = "no_connection", HTTPStatus.CONFLICT
    # The instrument could not be reached or did not answer.
    UNREACHABLE = "instrument_unreachable", HTTPStatus.CONFLICT
    # The procedure does not fit the record (its template, its cells) or is unknown.
    PROCEDURE_INVALID = "procedure_invalid", HTTPStatus.UNPROCESSABLE_CONTENT
    # The person or a piece of equipment may not be used for the task today.
    NOT_ELIGIBLE = "not_eligible", HTTPStatus.CONFLICT
    # A piece of equipment is reported in another room than the record's.
    WRONG_ROOM = "equipment_elsewhere", HTTPStatus.CONFLICT
    # What the run's status does not allow (resume a done run, confirm without a prompt).
    RUN_STATUS = "run_status", HTTPStatus.CONFLICT
    # An abort needs a reason.
    REASON_REQUIRED = "reason_required", HTTPStatus.UNPROCESSABLE_CONTENT


class ProcedureRefusal(Refusal):
    """Procedures and their versions (reviewed and approved like record templates)."""

    # The definition does not compile (errors={path: [messages]}, paths as the format gives).
    INVALID_DEFINITION = "procedure_definition_invalid", HTTPStatus.UNPROCESSABLE_CONTENT
    # A run names a procedure without an approved version.
    NOT_APPROVED = "procedure_not_approved", HTTPStatus.UNPROCESSABLE_CONTENT
    # The life of a version (core/versions.py), as record templates'.
    NOT_DRAFT = "procedure_version_not_draft", HTTPStatus.CONFLICT
    NOT_IN_REVIEW = "procedure_version_not_in_review", HTTPStatus.CONFLICT
    IMMUTABLE = "procedure_version_immutable", HTTPStatus.CONFLICT
    DRAFT_OPEN = "procedure_draft_open", HTTPStatus.CONFLICT
    NOT_REVIEWED = "procedure_version_not_reviewed", HTTPStatus.CONFLICT
    ALREADY_REVIEWED = "procedure_version_already_reviewed", HTTPStatus.CONFLICT
    NOT_AUTHOR = "procedure_not_author", HTTPStatus.FORBIDDEN
    SELF_REVIEW = "procedure_self_review", HTTPStatus.FORBIDDEN
    SELF_APPROVAL = "procedure_self_approval", HTTPStatus.FORBIDDEN
