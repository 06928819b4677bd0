"""Who may do what with the qualification libraries (R4.3, R6.8): the role codes that pages
and API operations of this app declare.

The quality manager (and the administrator) keep the libraries: authorised items, staff
profiles, certificates, training records and authorisations. Every lab staff member reads
them; anyone signed in sees their own profile (the selectors enforce that)."""

from metrolab.core.roles import (
    ADMIN,
    APPROVER,
    CHECKER,
    DIRECTOR,
    LAB_STAFF,
    METROLOGIST,
    QUALITY_MANAGER,
)

# Edit authorised items, profiles, certificates, training records and authorisations.
LIBRARY_EDITORS = (ADMIN, QUALITY_MANAGER)
# Read the libraries: the lab's own people.
LIBRARY_READERS = LAB_STAFF

# The roles a person must hold to be authorised in each capacity (R6.8c): a metrologist
# performs, a checker checks (核验), an approver or the technical manager approves (批准).
CAPACITY_ROLES: dict[str, tuple[str, ...]] = {
    "perform": (METROLOGIST,),
    "check": (CHECKER,),
    "approve": (APPROVER, DIRECTOR),
}
