"""Who does what with original records and their templates (R4.4), decided once.

- measure: the task's assignee (a metrologist) makes and fills the record;
- check (核验): a checker, never the person who measured;
- approve (批准): an approver, neither the person who measured nor the checker;
- cancel, delete after retention, amend: the measurer or a lab manager;
- templates: metrologists draft them, checkers review them, the technical manager approves.
"""

from metrolab.core.roles import (
    ADMIN,
    APPROVER,
    CHECKER,
    DEVICE,
    DIRECTOR,
    LAB_STAFF,
    METROLOGIST,
    QUALITY_MANAGER,
)

MEASURERS = (METROLOGIST,)
CHECKERS = (CHECKER,)
APPROVERS = (APPROVER,)
# Lab managers: cancel any open record (to reassign its task), amend, delete after retention.
RECORD_MANAGERS = (ADMIN, DIRECTOR)
# Who reads records (pages and API); customers and regulators see none here.
RECORD_READERS = tuple(LAB_STAFF)
# Machine clients that may write readings into a record (not sign it).
RECORD_DEVICES = (DEVICE,)
# Who may reach the records API at all.
RECORD_API = (*RECORD_READERS, DEVICE)

# Templates (the templates part of issue 14 uses these).
TEMPLATE_AUTHORS = (METROLOGIST, DIRECTOR)
TEMPLATE_REVIEWERS = (CHECKER, DIRECTOR, QUALITY_MANAGER)
TEMPLATE_APPROVERS = (DIRECTOR,)
