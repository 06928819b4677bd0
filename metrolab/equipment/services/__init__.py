"""Writes of equipment (R6.5, R8c, R6.8a). Every function here is a service
(metrolab.core.service): one transaction, audited, and a refusal (ServiceError) leaves nothing
written. One module per part of the domain:

- `register`: `equipment_create`, `equipment_update`, `equipment_set_status` (with a reason;
  scrapped is final);
- `calibrations`: its own calibrations (溯源) with the results as data (points) and the
  certificate, and the metrological confirmation (计量确认) without which they do not count;
- `checks`: intermediate checks (期间核查, GB/T 27025-2019 §6.4.10), plans and results judged
  by the control-chart tests; `control`: the out-of-control state (失控) they set and clear;
- `maintenance`: maintenance, faults and repairs; `usage`: the usage log;
- `bookings` (overlaps refused under the equipment's row lock); `location` (staff or an RFID
  zone reader, R8c); `standards`: measurement standards (计量标准装置, R6.8a);
- `_common`: what they share (validation through the models' rules, the row lock, the status
  write, alerts).

Every service takes a required keyword-only `actor` (`metrolab.core.permissions`): a person,
who must hold the role the operation needs (roles.py), as the pages and the API also require;
or `SYSTEM` for the lab's own processes (the demo, the CLI, the worker), trusted by role
checks. Anyone else (an anonymous visitor, None) is refused. Field rules live on the models
(fields, validators, clean()); the services validate through them and report every field at
fault at once (`ServiceError.errors`).
"""

from metrolab.equipment.models import MAX_POINTS, normalise_tag_uid
from metrolab.equipment.services._common import decimal_value, equipment_managers
from metrolab.equipment.services.bookings import (
    MAX_BOOKING,
    booking_overlaps,
    equipment_booking_cancel,
    equipment_booking_create,
)
from metrolab.equipment.services.calibrations import (
    equipment_calibration_add,
    equipment_calibration_confirm,
)
from metrolab.equipment.services.checks import (
    CHECK_FAILED_EVENT,
    equipment_check_plan_create,
    equipment_check_plan_update,
    equipment_check_result_add,
)
from metrolab.equipment.services.control import (
    check_result_judged,
    equipment_control_reconcile,
    out_of_control_reason,
)
from metrolab.equipment.services.location import (
    READER_REPEAT_WINDOW,
    equipment_locate,
    equipment_locate_by_tag,
)
from metrolab.equipment.services.maintenance import FAULT_EVENT, equipment_maintenance_add
from metrolab.equipment.services.register import (
    equipment_create,
    equipment_set_status,
    equipment_update,
)
from metrolab.equipment.services.standards import (
    measurement_standard_create,
    measurement_standard_update,
)
from metrolab.equipment.services.usage import (
    equipment_usage_close,
    equipment_usage_close_for_task,
    equipment_usage_record,
)

__all__ = [
    "CHECK_FAILED_EVENT",
    "FAULT_EVENT",
    "MAX_BOOKING",
    "MAX_POINTS",
    "READER_REPEAT_WINDOW",
    "booking_overlaps",
    "check_result_judged",
    "decimal_value",
    "equipment_booking_cancel",
    "equipment_booking_create",
    "equipment_calibration_add",
    "equipment_calibration_confirm",
    "equipment_check_plan_create",
    "equipment_check_plan_update",
    "equipment_check_result_add",
    "equipment_control_reconcile",
    "equipment_create",
    "equipment_locate",
    "equipment_locate_by_tag",
    "equipment_maintenance_add",
    "equipment_managers",
    "equipment_set_status",
    "equipment_update",
    "equipment_usage_close",
    "equipment_usage_close_for_task",
    "equipment_usage_record",
    "measurement_standard_create",
    "measurement_standard_update",
    "normalise_tag_uid",
    "out_of_control_reason",
]
