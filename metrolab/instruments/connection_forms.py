"""The form of an instrument connection on the equipment card (R8a): a kind, the fields of
that kind, a driver and a timeout, turned into the connection JSON `open_driver` takes. The
form only collects input; `services.checked_connection` decides (its refusals are shown on
the fields: `connection_form_errors`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from metrolab.core.service import ServiceError
from metrolab.core.text import NAME
from metrolab.instruments.connections import DEFAULT_TIMEOUT_MS, TRANSPORTS, driver_classes

KIND_LABELS = {
    "visa": _("VISA (TCPIP / USB / GPIB / ASRL)"),
    "modbus": _("Modbus (TCP or RTU)"),
    "serial": _("Serial line (ASCII)"),
}
DRIVER_LABELS = {
    "fluke55xx": _("Multifunction calibrator (Fluke 55xx)"),
    "dmm34401": _("Digital multimeter (34401A)"),
    "pressure_modbus": _("Pressure controller (Modbus registers)"),
    "bath": _("Temperature bath and bridge readout"),
}
BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
#: Keys of a stored connection the form does not show, kept when the kind stays the same.
KEPT_KEYS = ("backend", "read_termination", "write_termination", "parity", "bytesize", "stopbits")


def driver_choices() -> list:
    """The registered drivers grouped by the connection kinds they can use."""
    classes = driver_classes()
    return [("", "—")] + [
        (
            KIND_LABELS.get(kind, kind),
            [
                (name, DRIVER_LABELS.get(name, name))
                for name, cls in classes.items()
                if kind in cls.transports
            ],
        )
        for kind in TRANSPORTS
    ]


def _number(label, *, required=False, low=None, high=None, help_text="") -> forms.IntegerField:
    attrs = {"inputmode": "numeric"}
    if low is not None:
        attrs["min"] = low
    if high is not None:
        attrs["max"] = high
    return forms.IntegerField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.NumberInput(attrs=attrs),
    )


class ConnectionForm(forms.Form):
    """How the piece is connected: the kind, its address, the driver and the timeout."""

    kind = forms.ChoiceField(label=_("Connection kind"), choices=())
    resource = forms.CharField(
        label=_("VISA resource"),
        required=False,
        max_length=NAME,
        help_text=_("e.g. TCPIP0::192.168.1.20::5025::SOCKET or GPIB0::22::INSTR"),
        widget=forms.TextInput(attrs={"autocapitalize": "off", "spellcheck": "false"}),
    )
    modbus_mode = forms.ChoiceField(
        label=_("Modbus transport"),
        required=False,
        choices=(("tcp", _("Modbus TCP")), ("rtu", _("Modbus RTU (serial)"))),
    )
    host = forms.CharField(
        label=_("Host"),
        required=False,
        max_length=NAME,
        help_text=_("Modbus TCP: the instrument's address"),
        widget=forms.TextInput(attrs={"autocapitalize": "off", "spellcheck": "false"}),
    )
    tcp_port = _number(_("TCP port"), low=1, high=65535, help_text=_("Modbus TCP: 502 if empty"))
    unit = _number(_("Modbus unit"), low=0, high=247, help_text=_("1 if empty"))
    serial_port = forms.CharField(
        label=_("Serial port"),
        required=False,
        max_length=NAME,
        help_text=_("Serial line or Modbus RTU: e.g. /dev/ttyUSB0"),
        widget=forms.TextInput(attrs={"autocapitalize": "off", "spellcheck": "false"}),
    )
    baudrate = forms.TypedChoiceField(
        label=_("Baud rate"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—")] + [(rate, str(rate)) for rate in BAUD_RATES],
    )
    driver = forms.ChoiceField(label=_("Instrument driver"), choices=())
    timeout_ms = _number(
        _("Timeout (ms)"), required=True, low=1, high=60000, help_text=_("1 to 60000")
    )

    #: The fields of each part of the form, in order (the template's fieldsets).
    GROUPS = (
        ("", ("kind", "driver", "timeout_ms")),
        ("visa", ("resource",)),
        ("modbus", ("modbus_mode", "host", "tcp_port", "unit")),
        ("serial", ("serial_port", "baudrate")),
    )

    def __init__(self, *args, previous: dict[str, Any] | None = None, **kwargs):
        self.previous = dict(previous or {})
        kwargs.setdefault("initial", initial_of(self.previous))
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, KIND_LABELS.get(k, k)) for k in TRANSPORTS]
        self.fields["driver"].choices = driver_choices()

    def groups(self) -> list[tuple[str, list]]:
        legends = {"": "", **KIND_LABELS}
        return [(legends[key], [self[name] for name in names]) for key, names in self.GROUPS]

    def connection(self) -> dict[str, Any]:
        """The connection JSON of the cleaned data (checked by the service, not here)."""
        data = self.cleaned_data
        kind = data["kind"]
        connection: dict[str, Any] = {"kind": kind}
        if kind == "visa":
            connection["resource"] = data["resource"].strip()
        elif kind == "serial":
            connection["port"] = data["serial_port"].strip()
            connection["baudrate"] = data["baudrate"] or 9600
        elif kind == "modbus":
            if data["modbus_mode"] == "rtu":
                connection["method"] = "rtu"
                connection["port"] = data["serial_port"].strip()
                connection["baudrate"] = data["baudrate"] or 19200
            else:
                connection["host"] = data["host"].strip()
                connection["port"] = data["tcp_port"] or 502
            connection["unit"] = 1 if data["unit"] is None else data["unit"]
        connection["driver"] = data["driver"]
        connection["timeout_ms"] = data["timeout_ms"]
        if self.previous.get("kind") == kind:
            for key in KEPT_KEYS:
                if key in self.previous:
                    connection[key] = self.previous[key]
        return connection

    def show_refusal(self, error: ServiceError) -> None:
        """The service's refusal on the fields it names (`connection.<key>`)."""
        kind = self.cleaned_data.get("kind")
        rtu = self.cleaned_data.get("modbus_mode") == "rtu"
        fields = {
            "connection.kind": "kind",
            "connection.driver": "driver",
            "connection.resource": "resource",
            "connection.host": "host",
            "connection.timeout_ms": "timeout_ms",
            "connection.port": "serial_port" if kind == "serial" or rtu else "tcp_port",
        }
        for key, messages in (error.errors or {"": [error.message]}).items():
            for message in messages:
                self.add_error(fields.get(key), message)


def initial_of(connection: dict[str, Any]) -> dict[str, Any]:
    """The form's values for a stored connection (empty: a VISA connection, 2 s timeout)."""
    kind = connection.get("kind", "visa")
    initial: dict[str, Any] = {
        "kind": kind,
        "driver": connection.get("driver", ""),
        "timeout_ms": connection.get("timeout_ms", DEFAULT_TIMEOUT_MS),
        "modbus_mode": "tcp",
    }
    if kind == "visa":
        initial["resource"] = connection.get("resource", "")
    elif kind == "serial":
        initial["serial_port"] = connection.get("port", "")
        initial["baudrate"] = connection.get("baudrate", 9600)
    elif kind == "modbus":
        initial["unit"] = connection.get("unit", 1)
        if connection.get("method") == "rtu":
            initial["modbus_mode"] = "rtu"
            initial["serial_port"] = connection.get("port", "")
            initial["baudrate"] = connection.get("baudrate", 19200)
        else:
            initial["host"] = connection.get("host", "")
            initial["tcp_port"] = connection.get("port", 502)
    return initial
