"""Who may do what with commissions (R4.3): the role codes that pages and API operations of
this app declare. Customers reach only their own organisation's commissions (selectors)."""

from metrolab.core.roles import (
    ADMIN,
    CUSTOMER,
    DIRECTOR,
    ITEM_KEEPER,
    LAB_STAFF,
    METROLOGIST,
    RECEPTIONIST,
)

# Read commissions: every lab role, and customers (their own only).
COMMISSION_READERS = (*LAB_STAFF, CUSTOMER)
# Create a commission at the desk (R6.1a) and on site from a phone (R6.12b).
COMMISSION_DESK = (ADMIN, RECEPTIONIST)
COMMISSION_ONSITE = (ADMIN, RECEPTIONIST, METROLOGIST)
COMMISSION_CREATORS = (ADMIN, RECEPTIONIST, METROLOGIST)
# Contract review (合同评审) and cancellation by the lab.
COMMISSION_REVIEWERS = (ADMIN, DIRECTOR, RECEPTIONIST)
COMMISSION_CANCELLERS = (ADMIN, DIRECTOR, RECEPTIONIST)
# The desk's list of the day's appointments.
ARRIVAL_READERS = (ADMIN, DIRECTOR, RECEPTIONIST, ITEM_KEEPER)
# Customers apply online (R9.1).
APPLICANTS = (CUSTOMER,)
