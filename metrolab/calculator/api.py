"""`/api/v1/calc/...`: the metrology library over HTTP, with the same JSON as `metrolab calc`.

Open to lab staff and to device clients (instruments that post raw data for automatic
analysis, R8b); not to customers or regulators.
"""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Body, Router, Schema
from pydantic import BaseModel, ConfigDict, StringConstraints

from metrolab.calculator import messages
from metrolab.core.access import api_access
from metrolab.core.roles import DEVICE, LAB_STAFF
from metrolab.core.service import ServiceError
from metrolab.metrology import calculator
from metrolab.metrology.rounding import MAX_DIGITS

router = Router(tags=["calculator"])
AUTH = api_access(roles=[*LAB_STAFF, DEVICE])

# A number written out (JSON numbers lose digits): as many characters as a rounded result may
# have digits.
NumberText = Annotated[str, StringConstraints(max_length=MAX_DIGITS)]


class RoundIn(Schema):
    value: NumberText | float | int
    places: int | None = None
    sig: int | None = None
    interval: NumberText | float | int | None = None


class RoundOut(Schema):
    value: str


class ReportIn(Schema):
    value: NumberText | float | int
    uncertainty: NumberText | float | int
    digits: int = 2
    round_up: bool = False


class ReportOut(Schema):
    value: str
    uncertainty: str


class _Open(BaseModel):
    """A result of the metrology library: the fields it always has, named here, and those it
    adds for a method or an option (kept as `metrolab calc` prints them)."""

    model_config = ConfigDict(extra="allow")


class OutputOut(_Open):
    value: float | None
    u: float | None
    U: float | None
    k: float | None
    dof: float | None
    interval: list[float | None] | None
    budget: list[dict[str, Any]]


class UncertaintyOut(_Open):
    method: str
    outputs: dict[str, OutputOut]
    correlation: dict[str, Any]


class FitOut(_Open):
    intercept: float | None
    slope: float | None
    u_intercept: float | None
    u_slope: float | None
    r_intercept_slope: float | None
    r: float | None
    s: float | None
    dof: int | None
    predict: list[Any]


class ConformityOut(_Open):
    decision: str
    p_conformity: float | None


def _run(function, *args, **kwargs):
    """The calculation, or a refusal in the user's language: the message names the field as
    the calculator page labels it; `details[].loc` keeps the library's dotted path."""
    try:
        return function(*args, **kwargs)
    except calculator.CalculationError as exc:
        spec = args[0] if args else None
        raise ServiceError(messages.describe(exc, spec), field=exc.field) from None


@router.post("/round", response=RoundOut, auth=AUTH, summary="Round (GB/T 8170-2008)")
def round_value(request, data: RoundIn):
    return {
        "value": _run(
            calculator.calc_round,
            str(data.value),
            places=data.places,
            sig=data.sig,
            interval=None if data.interval is None else str(data.interval),
        )
    }


@router.post(
    "/report",
    response=ReportOut,
    auth=AUTH,
    summary="A value with its uncertainty, as printed (JJF 1059.1-2012)",
)
def report(request, data: ReportIn):
    if data.digits not in (1, 2):
        raise ServiceError(
            messages.describe(calculator.CalculationError("must be 1 or 2", "digits")),
            field="digits",
        )
    return _run(
        calculator.calc_report,
        str(data.value),
        str(data.uncertainty),
        digits=data.digits,
        round_up=data.round_up,
    )


@router.post(
    "/uncertainty",
    response=UncertaintyOut,
    auth=AUTH,
    summary="Uncertainty evaluation (GUM or Monte Carlo)",
)
def uncertainty(request, data: dict[str, Any] = Body(...)):  # noqa: B008
    return _run(calculator.calc_uncertainty, data)


@router.post("/fit", response=FitOut, auth=AUTH, summary="Least-squares straight line (GUM H.3)")
def fit(request, data: dict[str, Any] = Body(...)):  # noqa: B008
    return _run(calculator.calc_fit, data)


@router.post(
    "/conformity",
    response=ConformityOut,
    auth=AUTH,
    summary="Conformity decision (JJF 1094, ILAC-G8)",
)
def conformity(request, data: dict[str, Any] = Body(...)):  # noqa: B008
    return _run(calculator.calc_conformity, data)
