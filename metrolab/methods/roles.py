"""Who may do what with the methods library and deviations (R4.3, R6.7): the role codes that
pages and API operations of this app declare. Customers reach only their own organisation's
deviations (selectors); the services check the finer rules again (who decides, whose
acceptance counts)."""

from metrolab.core.roles import (
    ADMIN,
    CUSTOMER,
    DIRECTOR,
    LAB_STAFF,
    METROLOGIST,
    QUALITY_MANAGER,
    RECEPTIONIST,
)

# Read the methods library (技术依据库) and instrument categories: every lab role (R6.7b:
# methods known to all participants).
METHOD_READERS = LAB_STAFF
# Keep the library current: add and edit methods and instrument categories (R6.8a).
METHOD_EDITORS = (ADMIN, QUALITY_MANAGER)
# Read deviations: the lab, and customers (their own organisation's only).
DEVIATION_READERS = (*LAB_STAFF, CUSTOMER)
# Request a deviation for a calibration line, with its technical justification (R6.7c).
DEVIATION_REQUESTERS = (ADMIN, DIRECTOR, METROLOGIST)
# Authorise or refuse a deviation: the technical manager (技术负责人) only.
DEVIATION_AUTHORISERS = (DIRECTOR,)
# Accept or decline an authorised deviation in the portal: the customer's portal accounts.
DEVIATION_RESPONDENTS = (CUSTOMER,)
# Record the customer's acceptance from a signed paper (uploaded scan or photo).
DEVIATION_ACCEPTANCE_RECORDERS = (ADMIN, DIRECTOR, RECEPTIONIST)
