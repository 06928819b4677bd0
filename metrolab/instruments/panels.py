"""The instrument panel of a piece of equipment's card (R8a, R8b; issue 16), registered in
`equipment.panels.detail_extenders` by InstrumentsConfig: the connection (kind, address,
driver, timeout), the identity last read and whether it matches the register, the last
identify and self-test with their transcripts, the form that sets the connection (for
CONNECTION_EDITORS), the Identify and Self-test buttons (READERS), and the last procedure
runs that used the piece."""

from __future__ import annotations

from typing import Any

from django.db.models import TextField
from django.db.models.functions import Cast

from metrolab.core.pages import holds
from metrolab.equipment.panels import DetailPanel, register_detail_panel
from metrolab.instruments.api import CONNECTION_EDITORS, READERS
from metrolab.instruments.connection_forms import KIND_LABELS, ConnectionForm
from metrolab.instruments.models import ConnectionCheck, InstrumentConnection, Run
from metrolab.instruments.services import identity_mismatches

#: The checks listed on the card (the last one expanded); the rest are on the checks page.
CARD_CHECKS = 5
#: The runs listed on the card.
CARD_RUNS = 5


def runs_using(equipment) -> Any:
    """The runs whose roles ({role: equipment pk}) name `equipment`: the roles' JSON as text
    matched with a pattern (a JSON containment lookup is not available on SQLite); role
    names are identifiers, so only a value can be followed by the piece's pk this way."""
    pattern = rf":\s*{int(equipment.pk)}\s*[,}}]"
    return (
        Run.objects.annotate(roles_text=Cast("roles", TextField()))
        .filter(roles_text__regex=pattern)
        .order_by("-created_at", "-pk")
    )


def address_of(connection: dict[str, Any]) -> str:
    """Where the instrument is reached: the VISA resource, host:port, or the serial port."""
    kind = connection.get("kind")
    if kind == "visa":
        return str(connection.get("resource", ""))
    if kind == "modbus" and connection.get("method") != "rtu":
        return f"{connection.get('host', '')}:{connection.get('port', 502)}"
    return str(connection.get("port", ""))


def connection_summary(link: InstrumentConnection | None) -> dict[str, Any] | None:
    if link is None:
        return None
    connection = link.connection or {}
    kind = connection.get("kind", "")
    rtu = kind == "modbus" and connection.get("method") == "rtu"
    return {
        "kind": KIND_LABELS.get(kind, kind),
        "transport": ("RTU" if rtu else "TCP") if kind == "modbus" else "",
        "address": address_of(connection),
        "unit": connection.get("unit") if kind == "modbus" else None,
        "baudrate": connection.get("baudrate") if kind == "serial" or rtu else None,
        "driver": link.driver,
        "timeout_ms": connection.get("timeout_ms", 2000),
    }


def equipment_panel(user, equipment) -> dict[str, Any] | None:
    """The panel's variables for `user` (constant queries, whatever the number of checks)."""
    link = InstrumentConnection.objects.filter(equipment=equipment).first()
    checks: list[ConnectionCheck] = []
    count = 0
    last_self_test = None
    if link is not None:
        checks = list(link.checks.select_related("by").order_by("-at", "-pk")[:CARD_CHECKS])
        count = link.checks.count()
        last_self_test = next((c for c in checks if c.kind == ConnectionCheck.Kind.SELF_TEST), None)
        if last_self_test is None:
            last_self_test = (
                link.checks.filter(kind=ConnectionCheck.Kind.SELF_TEST)
                .select_related("by")
                .order_by("-at", "-pk")
                .first()
            )
    identity = (link.identity if link else None) or {}
    can_edit = holds(user, CONNECTION_EDITORS)
    return {
        "equipment": equipment,
        "link": link,
        "summary": connection_summary(link),
        "identity": identity,
        "mismatches": identity_mismatches(equipment, identity) if identity else [],
        "last_check": checks[0] if checks else None,
        "earlier_checks": checks[1:],
        "check_count": count,
        "more_checks": count > len(checks),
        "last_self_test": last_self_test,
        "can_edit": can_edit,
        "can_check": link is not None and holds(user, READERS),
        "form": ConnectionForm(previous=link.connection if link else None) if can_edit else None,
        "runs": list(runs_using(equipment).select_related("started_by")[:CARD_RUNS]),
    }


PANEL = DetailPanel("instruments/_equipment_panel.html", equipment_panel)


def register() -> None:
    register_detail_panel(PANEL)
