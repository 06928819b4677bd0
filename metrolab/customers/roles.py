"""Who may do what with customers and their instruments (R4.3): the role codes that pages and
API operations of this app declare."""

from metrolab.core.roles import ADMIN, CUSTOMER, DIRECTOR, LAB_STAFF, QUALITY_MANAGER, RECEPTIONIST

# Read customer organisations, their contacts and portal accounts.
CUSTOMER_READERS = (ADMIN, DIRECTOR, QUALITY_MANAGER, RECEPTIONIST)
# Create and edit customers, contacts, portal accounts and the instrument register.
CUSTOMER_EDITORS = (ADMIN, RECEPTIONIST)
# The instrument register and what falls due: all lab staff, and customers (their own only).
INSTRUMENT_READERS = (*LAB_STAFF, CUSTOMER)
