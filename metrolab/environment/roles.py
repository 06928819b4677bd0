"""Who may do what with the environment (R4.4, R6.11): the roles each page and API operation
declares."""

from metrolab.core.roles import (
    ADMIN,
    DEVICE,
    DIRECTOR,
    EQUIPMENT_MANAGER,
    LAB_STAFF,
    METROLOGIST,
    QUALITY_MANAGER,
)

# Report readings: device accounts (their tokens), and the administrator.
READING_WRITERS = (DEVICE, ADMIN)
# See rooms, their current values, requirements, alarms and actuators: the lab, and devices
# (wall displays).
STATUS_READERS = (*LAB_STAFF, DEVICE)
# Plot a sensor's history, open the dashboards, the alarm and command logs: the lab.
HISTORY_READERS = LAB_STAFF
# Acknowledge an alarm (with a comment): the people who answer for the rooms and the work.
ALARM_ACKNOWLEDGERS = (ADMIN, DIRECTOR, QUALITY_MANAGER, EQUIPMENT_MANAGER, METROLOGIST)
# Command an actuator by hand (R6.11e "manual control by authorised staff").
CONTROLLERS = (ADMIN, DIRECTOR, EQUIPMENT_MANAGER)
