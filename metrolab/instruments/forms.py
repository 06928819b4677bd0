"""Forms of the run pages (issue 16; R8b): starting a run (the procedure, the lab's equipment
per role, and for a meter role without equipment — the item under test — its connection, a
few fields turned into the connection JSON `services.checked_connection` takes), aborting
with a reason, and the filters of the lists. They only collect input; the services decide."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from metrolab.core.text import CODE, REASON, REFERENCE
from metrolab.instruments.connections import DEFAULT_TIMEOUT_MS, TRANSPORTS, driver_classes
from metrolab.instruments.models import Run, RunEvent
from metrolab.instruments.selectors import connected_equipment, label

KIND_LABELS = {
    "visa": _("VISA (TCPIP, USB, GPIB, ASRL)"),
    "serial": _("Serial line"),
    "modbus": _("Modbus TCP"),
}


class EquipmentChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        parts = [obj.asset_no, obj.name, obj.model]
        where = f" · {obj.location}" if obj.location else ""
        return " ".join(p for p in parts if p) + where


class RunStartForm(forms.Form):
    """The procedure (hidden: chosen above the form) and, for each of its roles, the lab's
    equipment (`role-<name>`); a meter role may instead take a connection (`conn-<name>-*`)."""

    procedure = forms.CharField(widget=forms.HiddenInput, max_length=CODE)
    reason = forms.CharField(
        label=_("Why the values are measured again"),
        max_length=REASON,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The record came back from its check: the reason is kept with every value."),
    )

    def __init__(
        self,
        *args,
        definition: Mapping[str, Any],
        initial_roles=None,
        initial_connections: Mapping[str, Mapping[str, Any]] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        initial_connections = initial_connections or {}
        self.fields["procedure"].initial = definition["code"]
        self.roles = {r["name"]: r for r in definition.get("roles", [])}
        self.role_rows: list[dict[str, Any]] = []
        initial_roles = initial_roles or {}
        drivers = [("", "—"), *((name, name) for name in driver_classes())]
        kinds = [(k, KIND_LABELS.get(k, k)) for k in TRANSPORTS]
        for name, spec in self.roles.items():
            meter = spec.get("kind") == "meter"
            field = EquipmentChoice(
                queryset=connected_equipment(),
                required=not meter,
                label=label(spec.get("label")) or name,
                empty_label=_("— the item under test: its connection below —") if meter else "—",
                initial=initial_roles.get(name),
            )
            self.fields[f"role-{name}"] = field
            row = {"name": name, "field": f"role-{name}", "meter": meter, "connection": []}
            if meter:
                prefix = f"conn-{name}-"
                functions = set(spec.get("functions") or ())
                fitting = [
                    (n, n)
                    for n, cls in driver_classes().items()
                    if not functions or functions & set(getattr(cls, "functions", ()))
                ]
                extra = {
                    "kind": forms.ChoiceField(
                        label=_("Connection"), choices=kinds, required=False, initial="visa"
                    ),
                    "driver": forms.ChoiceField(
                        label=_("Instrument driver"),
                        choices=[("", "—"), *fitting] if fitting else drivers,
                        required=False,
                    ),
                    "address": forms.CharField(
                        label=_("Address"),
                        required=False,
                        max_length=REFERENCE,
                        help_text=_(
                            "The VISA resource (e.g. TCPIP0::10.0.0.9::5025::SOCKET), the "
                            "serial port (e.g. /dev/ttyUSB0) or the Modbus host."
                        ),
                    ),
                    "port": forms.IntegerField(
                        label=_("Modbus TCP port"), required=False, min_value=1, max_value=65535
                    ),
                    "baudrate": forms.IntegerField(
                        label=_("Baud rate"), required=False, min_value=50, max_value=4_000_000
                    ),
                    "timeout_ms": forms.IntegerField(
                        label=_("Timeout (ms)"),
                        required=False,
                        min_value=1,
                        max_value=60000,
                        initial=DEFAULT_TIMEOUT_MS,
                    ),
                }
                known = form_values(initial_connections.get(name) or {})
                for key, extra_field in extra.items():
                    if key in known:
                        extra_field.initial = known[key]
                    self.fields[prefix + key] = extra_field
                    row["connection"].append(prefix + key)
            self.role_rows.append(row)

    def bound_rows(self) -> list[dict[str, Any]]:
        """The roles with their bound fields, for the template."""
        return [
            {
                **row,
                "equipment": self[row["field"]],
                "connection_fields": [self[f] for f in row["connection"]],
            }
            for row in self.role_rows
        ]

    def clean(self):
        data = super().clean()
        equipment: dict[str, Any] = {}
        connections: dict[str, dict[str, Any]] = {}
        for row in self.role_rows:
            name = row["name"]
            piece = data.get(row["field"])
            if piece is not None:
                equipment[name] = piece
                continue
            if not row["meter"]:
                continue
            prefix = f"conn-{name}-"
            address = (data.get(prefix + "address") or "").strip()
            if not address:
                self.add_error(
                    prefix + "address",
                    _("Choose the equipment above or give the instrument's address."),
                )
                continue
            connections[name] = connection_json(
                kind=data.get(prefix + "kind") or "visa",
                driver=data.get(prefix + "driver") or "",
                address=address,
                port=data.get(prefix + "port"),
                baudrate=data.get(prefix + "baudrate"),
                timeout_ms=data.get(prefix + "timeout_ms"),
            )
        data["equipment_roles"] = equipment
        data["connections"] = connections
        return data


def connection_json(
    *, kind: str, driver: str, address: str, port=None, baudrate=None, timeout_ms=None
) -> dict[str, Any]:
    """The connection JSON of the small form (`connections.open_driver` takes it)."""
    found: dict[str, Any] = {"kind": kind, "driver": driver}
    if kind == "visa":
        found["resource"] = address
    elif kind == "serial":
        found["port"] = address
        if baudrate:
            found["baudrate"] = baudrate
    else:
        found["host"] = address
        found["port"] = port or 502
        found["unit"] = 1
    found["timeout_ms"] = timeout_ms or DEFAULT_TIMEOUT_MS
    return found


def form_values(connection: Mapping[str, Any]) -> dict[str, Any]:
    """The small form's values for a connection JSON (the reverse of `connection_json`)."""
    kind = connection.get("kind")
    if kind not in TRANSPORTS:
        return {}
    address = {"visa": "resource", "serial": "port"}.get(kind, "host")
    values = {
        "kind": kind,
        "driver": connection.get("driver") or "",
        "address": connection.get(address) or "",
        "timeout_ms": connection.get("timeout_ms") or DEFAULT_TIMEOUT_MS,
    }
    if kind == "modbus":
        values["port"] = connection.get("port")
    if kind == "serial":
        values["baudrate"] = connection.get("baudrate")
    return values


class ProcedureChoiceForm(forms.Form):
    """Which procedure to run (when several fit the record)."""

    procedure = forms.ChoiceField(label=_("Procedure"), choices=())

    def __init__(self, *args, procedures: Mapping[str, Mapping[str, Any]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["procedure"].choices = [
            (code, f"{label(d.get('title'))} ({code} v{d.get('version')})")
            for code, d in procedures.items()
        ]


class AbortForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for aborting"),
        max_length=REASON,
        widget=forms.Textarea({"rows": 2}),
    )


class PauseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REASON, required=False)


class RunFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("any")), *Run.Status.choices]
    )


class EventFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("any")), *RunEvent.Kind.choices]
    )
