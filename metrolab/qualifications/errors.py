"""Refusal codes of qualifications and authorisations.

Each member carries the HTTP status the API answers with (metrolab/core/errors.py)."""

from http import HTTPStatus

from metrolab.core.errors import Refusal


class QualificationRefusal(Refusal):
    METHOD_KIND_UNFIT = "method_kind_unfit", HTTPStatus.UNPROCESSABLE_CONTENT
    NOT_STAFF = "not_staff", HTTPStatus.UNPROCESSABLE_CONTENT
    ROLE_UNFIT = "role_unfit", HTTPStatus.UNPROCESSABLE_CONTENT
    SELF_GRANT = "self_grant", HTTPStatus.FORBIDDEN
    ITEM_EXPIRED = "item_expired", HTTPStatus.UNPROCESSABLE_CONTENT
    CERTIFICATE_OF_ANOTHER = "certificate_of_another", HTTPStatus.UNPROCESSABLE_CONTENT
    CERTIFICATE_EXPIRED = "certificate_expired", HTTPStatus.UNPROCESSABLE_CONTENT
