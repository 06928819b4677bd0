"""Who may do what with equipment (R6.5, R8c, R6.8a): the role codes that pages, API operations
and services of this app declare.

The equipment manager (设备管理员) keeps the equipment register, its calibrations (溯源) and
metrological confirmation, the intermediate-check plans and the measurement standards; every
member of the lab reads them, books equipment, writes its usage log and reports its faults.
"""

from metrolab.core.roles import (
    ADMIN,
    DEVICE,
    EQUIPMENT_MANAGER,
    LAB_STAFF,
    METROLOGIST,
)

# Edit equipment, calibrations (and confirm them), intermediate-check plans, status, standards.
EQUIPMENT_EDITORS = (ADMIN, EQUIPMENT_MANAGER)
# Read the register, calibrations, charts, logs, the calendar and measurement standards.
EQUIPMENT_READERS = LAB_STAFF
# Book equipment, add manual usage entries, set where equipment is.
BOOKERS = LAB_STAFF
USAGE_RECORDERS = LAB_STAFF
LOCATORS = LAB_STAFF
# Report a fault (and take the equipment out of service): anyone of the lab who finds one
# (GB/T 27025-2019 §6.4.9: faulty equipment is taken out of service at once).
FAULT_REPORTERS = LAB_STAFF
# Record maintenance and repairs.
MAINTAINERS = (ADMIN, EQUIPMENT_MANAGER, METROLOGIST)
# Record intermediate-check (期间核查) results.
CHECK_RECORDERS = (ADMIN, EQUIPMENT_MANAGER, METROLOGIST)
# Post where a tagged item of equipment was seen: RFID zone readers, and the lab.
LOCATION_POSTERS = (*LAB_STAFF, DEVICE)
