"""Who may do what with items (R4.4, R6.6): the roles each page and API operation declares.

The codes are those of `metrolab.core.roles`; customers are further limited by the selectors
to their own organisation's items.
"""

from metrolab.core.roles import (
    ADMIN,
    CUSTOMER,
    DEVICE,
    DIRECTOR,
    ITEM_KEEPER,
    LAB_STAFF,
    METROLOGIST,
    RECEPTIONIST,
)

# Receive items, print labels at the desk, bind RFID / NFC tags.
RECEIVERS = (ADMIN, RECEPTIONIST, ITEM_KEEPER)
# Record custody events (moved, in testing, awaiting return, returned, disposed).
CUSTODIANS = (ADMIN, DIRECTOR, RECEPTIONIST, ITEM_KEEPER, METROLOGIST)
# Add photos and videos: anyone of the lab who handles the item.
PHOTOGRAPHERS = LAB_STAFF
# See item cards, photos and labels: the lab, and customers (their own items only).
ITEM_READERS = (*LAB_STAFF, CUSTOMER)
# Look an item up by its tag UID: the lab and reader devices.
TAG_READERS = (*LAB_STAFF, DEVICE)
