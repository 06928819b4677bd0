"""The custody rules of an item (R6.6d, R6.6f): which event may follow which, and where the
item is after each. Pure functions shared by the services that record events and by the
selector that re-derives state and place from the events, so both read the same rules.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from metrolab.items.models import Item

S = Item.State

# Event kind → the states it may follow. Nothing follows returned or disposed.
ALLOWED_AFTER: dict[str, frozenset[str]] = {
    S.MOVED: frozenset({S.RECEIVED, S.MOVED, S.IN_TESTING, S.AWAITING_RETURN}),
    S.IN_TESTING: frozenset({S.RECEIVED, S.MOVED, S.AWAITING_RETURN}),
    S.AWAITING_RETURN: frozenset({S.RECEIVED, S.MOVED, S.IN_TESTING}),
    S.RETURNED: frozenset({S.RECEIVED, S.MOVED, S.AWAITING_RETURN}),
    S.DISPOSED: frozenset({S.RECEIVED, S.MOVED, S.AWAITING_RETURN}),
}
FINAL = frozenset({S.RETURNED, S.DISPOSED})
# Events that say where the item now is (a storage place is required).
NEEDS_LOCATION = frozenset({S.MOVED})


def transition_problem(current: str, kind: str) -> str | None:
    """Why `kind` cannot follow `current`, in the user's words; None when it can."""
    if kind == S.RECEIVED:
        return _("An item is received once, at receipt.")
    if current in FINAL:
        return _("This item was %(state)s: nothing more can happen to it.") % {
            "state": S(current).label
        }
    if kind not in ALLOWED_AFTER:
        return _("Unknown custody event.")
    if current not in ALLOWED_AFTER[kind]:
        if kind == S.IN_TESTING and current == S.IN_TESTING:
            return _("This item is in testing already.")
        if kind in FINAL and current == S.IN_TESTING:
            return _("This item is in testing: finish testing first.")
        return _("An item that is %(state)s cannot be marked %(event)s.") % {
            "state": S(current).label,
            "event": S(kind).label,
        }
    return None


def location_after(kind: str, event_location_id: int | None, previous_id: int | None):
    """Where the item is after an event: the place the event names; for "awaiting return"
    without a place, where it was; nowhere once in testing without a place, returned or
    disposed."""
    if kind in FINAL:
        return None
    if kind == S.AWAITING_RETURN and event_location_id is None:
        return previous_id
    return event_location_id
