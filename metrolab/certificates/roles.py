"""Who reads certificates (R4.3, R6.3): the lab's people who read original records, and a
customer's portal account (only its own organisation's, `certificates_visible_to`). Who
revokes, replaces, retries and batch-issues them is `services.MANAGING_ROLES`."""

from metrolab.core.roles import (
    ADMIN,
    APPROVER,
    CHECKER,
    CUSTOMER,
    DIRECTOR,
    METROLOGIST,
    QUALITY_MANAGER,
    RECEPTIONIST,
)

CERTIFICATE_STAFF = (ADMIN, DIRECTOR, QUALITY_MANAGER, RECEPTIONIST, METROLOGIST, CHECKER, APPROVER)
# Pages and API operations that read certificates; a device token reaches none of them.
CERTIFICATE_READERS = (*CERTIFICATE_STAFF, CUSTOMER)
