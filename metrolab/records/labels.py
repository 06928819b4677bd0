"""The words a record's page, its history and its archive show for the codes a record keeps:
equipment roles, how a signer was authenticated, environmental quantities, yes/no and decision
values computed by a template, and the template engine's problems (the metrology library
speaks English; its problem codes are translated here, at the boundary, like
`calculator/messages.py` does for the calculator).

Codes are data (the trail, the signatures' digests, the API keep them); only their display is
translated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metrolab.environment.models import Quantity

ROLE_LABELS = {
    "standard": gettext_lazy("standard"),
    "reference": gettext_lazy("reference standard"),
    "calibrator": gettext_lazy("calibrator"),
    "bath": gettext_lazy("thermostatic bath"),
    "bridge": gettext_lazy("thermometer bridge"),
    "source": gettext_lazy("source"),
    "uut": gettext_lazy("unit under test"),
}

AUTHENTICATION_LABELS = {
    "password": gettext_lazy("password"),
    "password+totp": gettext_lazy("password and one-time code"),
}

# Values a template computes as text (a per-point decision, a yes/no parameter).
TOKEN_LABELS = {
    "yes": gettext_lazy("yes"),
    "no": gettext_lazy("no"),
    "pass": gettext_lazy("Pass"),
    "fail": gettext_lazy("Fail"),
    "undecided": gettext_lazy("Undecided"),
    "conditional_pass": gettext_lazy("Conditional pass"),
    "conditional_fail": gettext_lazy("Conditional fail"),
}


def role_label(role: str, label: Mapping[str, str] | None = None) -> str:
    """An equipment role of a template ("standard", "calibrator") in the user's language: the
    words known here, else the template's own {"zh", "en"} label of it, else its name."""
    if not role:
        return ""
    if role in ROLE_LABELS:
        return str(ROLE_LABELS[role])
    if isinstance(label, Mapping):
        zh = (translation.get_language() or "").startswith("zh")
        return str((label.get("zh") if zh else label.get("en")) or label.get("en") or role)
    return role


def authentication_label(how: str) -> str:
    return str(AUTHENTICATION_LABELS.get(how, how))


def quantity_label(name: str) -> str:
    return str(Quantity(name).label) if name in Quantity.values else name


def token_text(text: Any) -> str:
    """A value as shown: the words for yes / no and the decisions, else the text itself."""
    text = "" if text is None else str(text)
    return str(TOKEN_LABELS[text]) if text in TOKEN_LABELS else text


def problem_message(problem: Mapping[str, Any]) -> str:
    """The engine's problem in the user's language (its English message in English)."""
    message = str(problem.get("message") or "")
    if not (translation.get_language() or "").startswith("zh"):
        return message
    point = problem.get("point")
    messages = {
        "not_a_number": _("This is not a number."),
        "not_a_choice": _("Choose one of the values offered."),
        "too_many_decimals": _("More decimals than the resolution allows."),
        "out_of_range": _("Outside the range the template allows."),
        "calculation": _("A rule of the template cannot be calculated from these values."),
        "cmc": _("The authorised CMC cannot be compared with this uncertainty (unit)."),
        "below_cmc": (
            _("Point %(point)s: the expanded uncertainty is smaller than the authorised CMC.")
            % {"point": point}
            if point
            else _("An expanded uncertainty is smaller than the authorised CMC.")
        ),
    }
    return str(messages.get(problem.get("code") or "", message))
