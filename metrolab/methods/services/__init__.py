"""Writes of the methods library and of deviations (R6.7a-c, R6.8a). Every function is a
service (metrolab.core.service): one transaction, audited with the actor; a refusal raises
ServiceError and writes nothing. One module per part of the domain:

- `library`: `method_create` / `method_update` / `method_file_attach` (regulations and
  specifications with their dates and supersession, checked so that the computed status
  stays meaningful) and `category_create` / `category_update` (the instrument categories
  methods cover);
- `deviations`: `deviation_request` → `deviation_authorise` / `deviation_refuse` (the
  technical manager; never the one who requested it authorises it, R4.4) →
  `deviation_accept` / `deviation_decline` (the customer in the portal) or
  `deviation_acceptance_upload` (the lab records a signed acceptance). Verification (检定)
  admits no deviation: the request is refused (R6.7c);
- `_common`: what they share (who edits the library, reading the input).

Field rules live on the models; the services validate through them
(`metrolab.core.validation.validated`) and report every field at fault at once
(`ServiceError.errors`).
"""

from metrolab.methods.services.deviations import (
    AWAITING_ACCEPTANCE_EVENT,
    AWAITING_AUTHORISATION_EVENT,
    DECIDED_EVENT,
    deviation_accept,
    deviation_acceptance_upload,
    deviation_authorise,
    deviation_decline,
    deviation_refuse,
    deviation_request,
)
from metrolab.methods.services.library import (
    CATEGORY_FIELDS,
    METHOD_FIELDS,
    METHOD_RELATIONS,
    category_create,
    category_update,
    method_create,
    method_file_attach,
    method_update,
)

__all__ = [
    "AWAITING_ACCEPTANCE_EVENT",
    "AWAITING_AUTHORISATION_EVENT",
    "CATEGORY_FIELDS",
    "DECIDED_EVENT",
    "METHOD_FIELDS",
    "METHOD_RELATIONS",
    "category_create",
    "category_update",
    "deviation_accept",
    "deviation_acceptance_upload",
    "deviation_authorise",
    "deviation_decline",
    "deviation_refuse",
    "deviation_request",
    "method_create",
    "method_file_attach",
    "method_update",
]
