"""Unit symbols compared as the same unit however they were typed.

Labs write one unit several ways: the degree Celsius as "℃" (U+2103, the usual Chinese
character) or "°C"; the ohm as "Ω" (U+2126) or "Ω" (U+03A9); the micro prefix as "µ" (U+00B5) or
"μ" (U+03BC). A calibration certificate in "℃" must give its corrections to a record reading in
"°C", and a CMC stated in "℃" applies to an uncertainty in "°C". `same_unit` compares the
symbols after mapping these variants to one spelling and removing spaces; it converts nothing
(mV and V stay different units).
"""

from __future__ import annotations

_VARIANTS = str.maketrans(
    {
        "\u2103": "°C",  # ℃ DEGREE CELSIUS
        "\u2109": "°F",  # ℉ DEGREE FAHRENHEIT
        "\u2126": "\u03a9",  # Ω OHM SIGN → GREEK CAPITAL OMEGA
        "\u00b5": "\u03bc",  # µ MICRO SIGN → GREEK SMALL MU
        "\u212a": "K",  # K KELVIN SIGN
        "\u00ba": "°",  # º MASCULINE ORDINAL, typed for the degree sign
        " ": None,
        "\u00a0": None,
        "\u3000": None,
    }
)


def unit_key(unit: object) -> str:
    """The spelling a unit symbol is compared by ("℃" and " °C" both give "°C")."""
    return str(unit or "").strip().translate(_VARIANTS)


def same_unit(a: object, b: object) -> bool:
    """Whether two unit symbols name the same unit as written (no conversion)."""
    return unit_key(a) == unit_key(b)
