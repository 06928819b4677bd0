"""The correction to apply at a value, read from the calibration points of a reference
standard's certificate: the one home of this rule (issue 13), used by the equipment app
(`equipment.selectors.calibration_correction`) and by record templates (`correction(role, x)`
in `rules`).

- At a calibrated point: that point's correction, U and k, exactly.
- Between two calibrated points of the same unit (`units.same_unit`: "℃" is "°C"): the
  correction interpolated linearly between the two neighbours; U (with its k) is the larger
  of the two neighbours', since interpolation does not reduce the uncertainty of either point
  (a conservative choice: no standard prescribes interpolating U).
- Outside the calibrated points, or in another unit: None — the certificate does not say, so a
  record must not guess.

Pure Python on `Decimal`; no Django.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from metrolab.metrology.rounding import to_decimal
from metrolab.metrology.units import same_unit

__all__ = ["CalibrationPoint", "Correction", "correction_at"]


class Correction(NamedTuple):
    """What to apply at a value: the correction, its expanded uncertainty U and k."""

    correction: Decimal
    expanded_uncertainty: Decimal
    coverage_factor: Decimal


class CalibrationPoint(NamedTuple):
    """One calibrated point of a certificate."""

    nominal: Decimal
    unit: str
    correction: Decimal
    expanded_uncertainty: Decimal
    coverage_factor: Decimal


def _point(point: Any) -> CalibrationPoint:
    """A calibration point from an object with attributes (a model instance) or a mapping."""
    get = point.get if isinstance(point, Mapping) else lambda key: getattr(point, key, None)
    k = get("coverage_factor")
    return CalibrationPoint(
        nominal=to_decimal(get("nominal"), field="nominal"),
        unit=(get("unit") or "").strip(),
        correction=to_decimal(get("correction"), field="correction"),
        expanded_uncertainty=to_decimal(get("expanded_uncertainty"), field="expanded_uncertainty"),
        coverage_factor=to_decimal(2 if k is None else k, field="coverage_factor"),
    )


def correction_at(points: Iterable[Any], x: object, unit: str) -> Correction | None:
    """The correction (and its U, k) at `x` `unit` from calibration `points` (objects or
    mappings with nominal, unit, correction, expanded_uncertainty, coverage_factor).

    Raises `RoundingError` (a ValueError) when `x` or a point's number is not a decimal number.
    """
    value = to_decimal(x, field="nominal")
    ordered = sorted(
        (p for p in map(_point, points) if same_unit(p.unit, unit)), key=lambda p: p.nominal
    )
    below = above = None
    for point in ordered:
        if point.nominal == value:
            return Correction(point.correction, point.expanded_uncertainty, point.coverage_factor)
        if point.nominal < value:
            below = point
        elif above is None:
            above = point
    if below is None or above is None:
        return None
    fraction = (value - below.nominal) / (above.nominal - below.nominal)
    correction = below.correction + (above.correction - below.correction) * fraction
    wider = above if above.expanded_uncertainty > below.expanded_uncertainty else below
    return Correction(correction, wider.expanded_uncertainty, wider.coverage_factor)
