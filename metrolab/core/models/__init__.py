from metrolab.core.models.audit import AuditEvent, AuditVerification
from metrolab.core.models.base import AuditBypassError, AuditedModel, TimeStampedModel
from metrolab.core.models.idempotency import IdempotencyKey
from metrolab.core.models.organisation import OrganisationProfile
from metrolab.core.models.signin import SigninFailureWindow, SigninThrottle
from metrolab.core.models.users import ApiToken, AuthVersion, User

__all__ = [
    "ApiToken",
    "AuditBypassError",
    "AuditEvent",
    "AuditVerification",
    "AuditedModel",
    "AuthVersion",
    "IdempotencyKey",
    "OrganisationProfile",
    "SigninFailureWindow",
    "SigninThrottle",
    "TimeStampedModel",
    "User",
]
