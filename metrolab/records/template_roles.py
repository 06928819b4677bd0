"""Who may do what with record templates (R6.2d; T/CMA CC045 template review): the role codes
the template pages and API operations declare. The services check again, with the finer rules
(only the author edits his draft; the author never reviews or approves it; the reviewer does
not approve it)."""

from metrolab.core.roles import CHECKER, DIRECTOR, LAB_STAFF, METROLOGIST, QUALITY_MANAGER

# Read templates and their versions: the lab's staff.
TEMPLATE_READERS = LAB_STAFF
# Create templates, draft, edit and submit versions: each discipline's technical staff.
TEMPLATE_DESIGNERS = (METROLOGIST, CHECKER, DIRECTOR, QUALITY_MANAGER)
# Review a version submitted (a second person: checkers and the technical manager).
TEMPLATE_REVIEWERS = (CHECKER, DIRECTOR)
# Approve a reviewed version for use: the technical manager (技术负责人).
TEMPLATE_APPROVERS = (DIRECTOR,)
