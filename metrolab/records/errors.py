"""Refusal codes of original records (metrolab/core/errors.py: each member carries the HTTP
status the API answers with). Refusals every app shares (forbidden, not found, a transition
the status forbids) use `CoreRefusal`."""

from http import HTTPStatus

from metrolab.core.errors import Refusal


class RecordRefusal(Refusal):
    # The person or the task's set-up does not pass the eligibility service for this step
    # (perform / check / approve, R6.7d): every reason is listed.
    NOT_ELIGIBLE = "record_not_eligible", HTTPStatus.FORBIDDEN
    # Who measured cannot check or approve the record; the checker cannot approve it (R4.4).
    SEGREGATION = "segregation_of_duties", HTTPStatus.FORBIDDEN
    # The signer's password (and TOTP code where enabled) did not prove who they are, or
    # failed attempts are being delayed (21 CFR 11.200). 403, not 401: the session or token
    # stays valid; only this signature was refused.
    REAUTH_FAILED = "reauthentication_failed", HTTPStatus.FORBIDDEN
    # No approved template version fits the task, or several do and none was chosen.
    NO_TEMPLATE = "no_template", HTTPStatus.UNPROCESSABLE_CONTENT
    # The task already has an open record (draft, submitted or checked).
    OPEN_RECORD = "record_open", HTTPStatus.CONFLICT
    # The room's or the method's environmental requirements do not hold now (R6.8c).
    CONDITIONS = "conditions_not_met", HTTPStatus.CONFLICT
    # A cell the template does not have.
    UNKNOWN_CELL = "unknown_cell", HTTPStatus.UNPROCESSABLE_CONTENT
    # A cell no one types: fixed text, a formula, a header filled from the commission.
    PROTECTED_CELL = "protected_cell", HTTPStatus.UNPROCESSABLE_CONTENT
    # A change after the record came back from its check needs a reason (R6.2c).
    REASON_REQUIRED = "reason_required", HTTPStatus.UNPROCESSABLE_CONTENT
    # Readings or parameters missing or not valid, or a rule that could not be evaluated.
    INCOMPLETE = "record_incomplete", HTTPStatus.CONFLICT
    # Equipment roles that cannot be given: a role the template does not name, a role given
    # to several pieces, equipment that is not the task's (or the record's).
    ROLES_INVALID = "equipment_roles_invalid", HTTPStatus.UNPROCESSABLE_CONTENT
    # A role of the template no equipment of the record holds: its reference instrument is
    # missing, so the record is not submitted.
    ROLE_MISSING = "equipment_role_missing", HTTPStatus.CONFLICT
    # An expanded uncertainty smaller than the authorised CMC (R6.2; CNAS-CL01-G005).
    BELOW_CMC = "below_cmc", HTTPStatus.UNPROCESSABLE_CONTENT
    # An approved record is locked: a correction is a formal amendment (R6.2c).
    LOCKED = "record_locked", HTTPStatus.CONFLICT
    # A record cannot be deleted before its retention period ends (R6.12a).
    RETAINED = "record_retained", HTTPStatus.CONFLICT
