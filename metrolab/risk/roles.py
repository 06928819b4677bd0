"""Who may do what with the risk radar and reverse traceability (R4.5): the role codes that
pages and API operations of this app declare."""

from metrolab.core.roles import ADMIN, DIRECTOR, EQUIPMENT_MANAGER, QUALITY_MANAGER

# See the radar of what expires or falls due.
RADAR_READERS = (ADMIN, DIRECTOR, QUALITY_MANAGER, EQUIPMENT_MANAGER)
# Trace the work an item of equipment was used for, and read impact reviews.
TRACE_READERS = (ADMIN, DIRECTOR, QUALITY_MANAGER, EQUIPMENT_MANAGER)
# Open and close impact reviews (the equipment manager reads only).
REVIEW_EDITORS = (ADMIN, DIRECTOR, QUALITY_MANAGER)
