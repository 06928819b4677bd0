"""Who may do what with the environment (R4.4, R6.11): the roles each API operation declares."""

from metrolab.core.roles import ADMIN, DEVICE, LAB_STAFF

# Report readings: device accounts (their tokens), and the administrator.
READING_WRITERS = (DEVICE, ADMIN)
# See rooms, their current values and requirements: the lab, and devices (wall displays).
STATUS_READERS = (*LAB_STAFF, DEVICE)
# Plot a sensor's history: the lab.
HISTORY_READERS = LAB_STAFF
