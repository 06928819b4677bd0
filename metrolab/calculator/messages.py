"""The metrology library's refusals (`CalculationError`: a dotted field path and an English
message) in the user's language, with the field named as the calculator page labels it.

The library has no Django in it, so the translation happens here, at the boundary of the
calculator page and `/api/v1/calc/...` (R8b; the UI speaks zh-Hans by default). A message
that no pattern below knows is shown as it is, after the translated field label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from metrolab.metrology.calculator import CalculationError

# --- field labels ------------------------------------------------------------------------------

TOP_FIELDS = {
    "model": _lazy("Measurement model"),
    "inputs": _lazy("Inputs"),
    "correlations": _lazy("Correlations"),
    "coverage": _lazy("Coverage"),
    "method": _lazy("Method"),
    "trials": _lazy("Trials"),
    "seed": _lazy("Seed"),
    "interval": _lazy("Interval"),
    "adaptive_digits": _lazy("Adaptive digits"),
    "max_trials": _lazy("Trials"),
    # round, report, fit and conformity (API)
    "value": _lazy("Value"),
    "places": _lazy("Decimal places"),
    "sig": _lazy("Significant digits"),
    "step": _lazy("Rounding interval"),
    "uncertainty": _lazy("Uncertainty"),
    "digits": _lazy("Significant digits of the uncertainty"),
    "round_up": _lazy("Round up"),
    "x": _lazy("x values"),
    "y": _lazy("y values"),
    "predict_at": _lazy("Prediction points"),
    "lower": _lazy("Lower limit"),
    "upper": _lazy("Upper limit"),
    "rule": _lazy("Decision rule"),
    "guard": _lazy("Guard band"),
    "U": _lazy("Expanded uncertainty U"),
    "u": _lazy("Standard uncertainty u"),
    "span": _lazy("Span"),
}

# The keys of one input quantity, named as the input-row columns of the page call them.
INPUT_KEYS = {
    "value": _lazy("Estimate"),
    "u": _lazy("standard uncertainty u"),
    "expanded": _lazy("expanded uncertainty U"),
    "half_width": _lazy("half-width a"),
    "k": _lazy("coverage factor k"),
    "p": _lazy("coverage probability p"),
    "beta": _lazy("β"),
    "dof": _lazy("degrees of freedom ν"),
    "reliability": _lazy("reliability"),
    "readings": _lazy("Readings"),
    "distribution": _lazy("Evaluation"),
}

COVERAGE_KEYS = {"k": _lazy("coverage factor k"), "p": _lazy("coverage probability p")}

_INDEXED = re.compile(r"^(?P<name>[A-Za-z_]\w*)\[(?P<n>\d+)\]$")


def field_label(path: str | None, spec: Mapping | None = None) -> str:
    """The field a dotted path points at, as the page labels it (`inputs.Ps.expanded` →
    "输入量 Ps：扩展不确定度 U")."""
    if not path:
        return ""
    head, _sep, rest = path.partition(".")
    indexed = _INDEXED.match(head)
    if indexed and indexed["name"] == "correlations":
        return _("Correlations, line %(n)s") % {"n": int(indexed["n"]) + 1}
    if indexed and indexed["name"] in TOP_FIELDS:
        return _("%(field)s, item %(n)s") % {
            "field": TOP_FIELDS[indexed["name"]],
            "n": int(indexed["n"]) + 1,
        }
    if head == "model" and rest:
        return _("Measurement model, output %(name)s") % {"name": rest}
    if head == "inputs" and rest:
        name, _sep, key = rest.partition(".")
        if not key:
            return _("Input %(name)s") % {"name": name}
        reading = _INDEXED.match(key)
        if reading and reading["name"] == "readings":
            return _("Input %(name)s: reading %(n)s") % {
                "name": name,
                "n": int(reading["n"]) + 1,
            }
        return _("Input %(name)s: %(field)s") % {
            "name": name,
            "field": INPUT_KEYS.get(key, key),
        }
    if head == "coverage" and rest:
        return str(COVERAGE_KEYS.get(rest, TOP_FIELDS["coverage"]))
    if not rest and head in TOP_FIELDS:
        return str(TOP_FIELDS[head])
    # A bare quantity name: an output of the model, or one of its inputs.
    model = (spec or {}).get("model") if isinstance(spec, Mapping) else None
    if isinstance(model, Mapping) and path in model:
        return _("Measurement model, output %(name)s") % {"name": path}
    if path.isidentifier():
        return _("Input %(name)s") % {"name": path}
    return path


# --- messages ----------------------------------------------------------------------------------

# Python's own words when an expression cannot be read.
SYNTAX = [
    (
        re.compile(r"^invalid syntax\. Perhaps you forgot a comma\?$"),
        _lazy("invalid syntax (a comma missing?)"),
    ),
    (re.compile(r"^'(?P<bracket>.)' was never closed$"), _lazy("“%(bracket)s” is never closed")),
    (re.compile(r"^unmatched '(?P<bracket>.)'$"), _lazy("unmatched “%(bracket)s”")),
    (re.compile(r"^closing parenthesis .*$"), _lazy("the brackets do not match")),
    (re.compile(r"^invalid decimal literal$"), _lazy("invalid number")),
    (re.compile(r"^invalid character .*$"), _lazy("invalid character")),
]
EVALUATION = {
    "float division by zero": _lazy("division by zero"),
    "division by zero": _lazy("division by zero"),
    "math domain error": _lazy("outside the function's domain"),
    "math range error": _lazy("result too large"),
}

MESSAGES = [
    (r"is required", _lazy("is required")),
    (r"must be a number, not the boolean (?P<value>.+)", _lazy("must be a number, not %(value)s")),
    (r"must be a number, not (?P<value>.+)", _lazy("must be a number, not %(value)s")),
    (r"must be a number", _lazy("must be a number")),
    (
        r"must be a finite number, not (?P<value>.+)",
        _lazy("must be a finite number, not %(value)s"),
    ),
    (
        r"must be a finite number greater than zero",
        _lazy("must be a finite number greater than zero"),
    ),
    (r"must be a finite number, not negative", _lazy("must be a finite number, not negative")),
    (r"must be a finite number", _lazy("must be a finite number")),
    (
        r"must be greater than zero, not (?P<value>.+)",
        _lazy("must be greater than zero, not %(value)s"),
    ),
    (
        r"must be greater than zero \(or infinite\)",
        _lazy("must be greater than zero (or infinite)"),
    ),
    (r"must be greater than zero", _lazy("must be greater than zero")),
    (r"must not be negative", _lazy("must not be negative")),
    (r"must be a whole number, not (?P<value>.+)", _lazy("must be a whole number, not %(value)s")),
    (r"must be a whole number of at least 1", _lazy("must be a whole number of at least 1")),
    (
        r"must be a whole number from (?P<low>\d+) to (?P<high>\d+)",
        _lazy("must be a whole number from %(low)s to %(high)s"),
    ),
    (r"must be a whole number", _lazy("must be a whole number")),
    (r"must be a positive whole number", _lazy("must be a positive whole number")),
    (r"must be a non-negative whole number", _lazy("must be a non-negative whole number")),
    (
        r"must be at least (?P<low>\S+), not (?P<value>.+)",
        _lazy("must be at least %(low)s, not %(value)s"),
    ),
    (
        r"must lie strictly between (?P<low>\S+) and (?P<high>\S+)",
        _lazy("must lie strictly between %(low)s and %(high)s"),
    ),
    (
        r"must lie between (?P<low>\S+) \(for p = (?P<p>\S+)\) and (?P<high>\S+)",
        _lazy("must lie between %(low)s (for p = %(p)s) and %(high)s"),
    ),
    (
        r"must lie between (?P<low>\S+) and (?P<high>\S+), not (?P<value>.+)",
        _lazy("must lie between %(low)s and %(high)s, not %(value)s"),
    ),
    (
        r"must (?:lie|be) between (?P<low>\S+) and (?P<high>\S+)",
        _lazy("must lie between %(low)s and %(high)s"),
    ),
    (r"r must lie between -1 and 1", _lazy("r must lie between -1 and 1")),
    (r"must be 1 or 2", _lazy("must be 1 or 2")),
    (r"must be true or false, not (?P<value>.+)", _lazy("must be true or false, not %(value)s")),
    (r"(?:the request )?must be a JSON object", _lazy("must be a JSON object")),
    (r"must be a list of numbers", _lazy("must be a list of numbers")),
    (r'must be \{"k": 2\} or \{"p": 0\.95\}', _lazy('must be {"k": 2} or {"p": 0.95}')),
    (
        r'must be (?P<choices>"[^"]+"(?:, "[^"]+")*(?: or "[^"]+"))',
        _lazy("must be one of %(choices)s"),
    ),
    (r"must be an object such as (?P<example>.+)", _lazy("must be an object such as %(example)s")),
    (r"needs a list of at least two readings", _lazy("needs a list of at least two readings")),
    (
        r"unknown distribution (?P<name>.+?); use one of (?P<allowed>.+)",
        _lazy("unknown distribution %(name)s; use one of %(allowed)s"),
    ),
    (r"unknown distribution (?P<name>.+)", _lazy("unknown distribution %(name)s")),
    (
        r"cannot sample the distribution (?P<name>.+)",
        _lazy("cannot sample the distribution %(name)s"),
    ),
    (
        r"give the coverage factor k or the probability p",
        _lazy("give the coverage factor k or the probability p"),
    ),
    (r"give at least one input", _lazy("give at least one input")),
    (r"must be \[input, input, r\]", _lazy("must be “input, input, r”")),
    (r"must be a pair of input names", _lazy("must be a pair of input names")),
    (r"unknown input (?P<name>.+)", _lazy("unknown input %(name)s")),
    (r"an input is not correlated with itself", _lazy("an input is not correlated with itself")),
    (
        r"the correlation coefficients are inconsistent \(the matrix is not positive "
        r"semi-definite\)",
        _lazy(
            "the correlation coefficients are inconsistent (the matrix is not positive "
            "semi-definite)"
        ),
    ),
    (
        r"(?P<a>\S+) and (?P<b>\S+) need simultaneous readings, the same number of each",
        _lazy("%(a)s and %(b)s need simultaneous readings, the same number of each"),
    ),
    (
        r"cannot read the expression (?P<text>.+): (?P<syntax>[^:]+)",
        _lazy("cannot read the expression %(text)s: %(syntax)s"),
    ),
    (
        r"operator (?P<op>\w+) is not allowed in a model",
        _lazy("operator %(op)s is not allowed in a model"),
    ),
    (
        r"unknown function (?P<name>\w+)\(\) with (?P<n>\d+) argument\(s\); known: (?P<known>.+)",
        _lazy("unknown function %(name)s() with %(n)s argument(s); known: %(known)s"),
    ),
    (r"not allowed in a model: (?P<what>.+)", _lazy("not allowed in a model: %(what)s")),
    (r"the model expression is empty", _lazy("the model expression is empty")),
    (
        r"the model expression is too long \((?P<n>\d+) characters at most\)",
        _lazy("the model expression is too long (%(n)s characters at most)"),
    ),
    (
        r"outputs refer to each other in a circle: (?P<cycle>.+)",
        _lazy("outputs refer to each other in a circle: %(cycle)s"),
    ),
    (
        r"give at least one output, e\.g\. (?P<example>.+)",
        _lazy("give at least one output, e.g. %(example)s"),
    ),
    (r"(?P<name>.+) cannot name an output", _lazy("%(name)s cannot name an output")),
    (r"no value for input\(s\): (?P<names>.+)", _lazy("no value for input(s): %(names)s")),
    (
        r"the model cannot be evaluated at these estimates: (?P<why>.+)",
        _lazy("the model cannot be evaluated at these estimates: %(why)s"),
    ),
    (
        r"output (?P<name>\S+) cannot be evaluated at these estimates: (?P<why>.+)",
        _lazy("output %(name)s cannot be evaluated at these estimates: %(why)s"),
    ),
    (
        r"output (?P<name>\S+) is not finite at these estimates",
        _lazy("output %(name)s is not finite at these estimates"),
    ),
    (
        r"the model uses (?P<names>.+) but no such input is given",
        _lazy("the model uses %(names)s but no such input is given"),
    ),
    (
        r"the model uses (?P<names>.+), which is not among the inputs",
        _lazy("the model uses %(names)s but no such input is given"),
    ),
    (
        r"input\(s\) (?P<names>.+) are not used by the model \(it uses (?P<used>.+)\)",
        _lazy("input(s) %(names)s are not used by the model (it uses %(used)s)"),
    ),
    (
        r"must map input names to input quantities",
        _lazy("must map input names to input quantities"),
    ),
    (r"needs a finite value and uncertainty", _lazy("needs a finite value and uncertainty")),
    (
        r"input (?P<name>.+) has a (?P<dist>\w+) distribution; Monte Carlo .*",
        _lazy(
            "input %(name)s has a %(dist)s distribution; Monte Carlo (JCGM 101:2008 §6.4.8) "
            "can correlate only normal and t inputs"
        ),
    ),
    (
        r"(?P<m>\d+) trials are too few for a coverage probability of (?P<p>\S+)",
        _lazy("%(m)s trials are too few for a coverage probability of %(p)s"),
    ),
    (
        r"the model gives no finite value of (?P<name>\S+) in (?P<bad>\d+) of (?P<n>\d+) trials.*",
        _lazy(
            "the model gives no finite value of %(name)s in %(bad)s of %(n)s trials (e.g. a "
            "division by zero or the logarithm of a negative number): check the distributions "
            "of the inputs"
        ),
    ),
    (
        r"give either a fixed number of trials or adaptive_digits, not both",
        _lazy("give either a fixed number of trials or adaptive digits, not both"),
    ),
    (
        r"must allow at least one block of (?P<block>\d+) trials",
        _lazy("must allow at least one block of %(block)s trials"),
    ),
    (r"unknown key (?P<key>.+); use k or p", _lazy("unknown key %(key)s; use k or p")),
    (
        r'give either a coverage factor \{"k": 2\} or a coverage probability \{"p": 0\.95\}',
        _lazy('give either a coverage factor {"k": 2} or a coverage probability {"p": 0.95}'),
    ),
    (
        r'Monte Carlo needs a coverage probability, e\.g\. \{"p": 0\.95\}',
        _lazy('Monte Carlo needs a coverage probability, e.g. {"p": 0.95}'),
    ),
    (
        r"give exactly one of places, sig or interval",
        _lazy("give exactly one of decimal places, significant digits or a rounding interval"),
    ),
    (r"needs at least three points", _lazy("needs at least three points")),
    (r"needs at least two different x values", _lazy("needs at least two different x values")),
    (r"x and y must have the same length", _lazy("x and y must have the same length")),
    (
        r"needs one y per x \((?P<n>\d+)\), got (?P<m>\d+)",
        _lazy("needs one y per x (%(n)s), got %(m)s"),
    ),
    (
        r"the maximum permissible error must be greater than zero",
        _lazy("the maximum permissible error must be greater than zero"),
    ),
    (
        r"give a lower or an upper tolerance limit, or both",
        _lazy("give a lower or an upper tolerance limit, or both"),
    ),
    (
        r"the lower limit must not exceed the upper limit",
        _lazy("the lower limit must not exceed the upper limit"),
    ),
    (
        r'the "(?P<rule>\w+)" rule needs the expanded uncertainty U or a guard band',
        _lazy("the “%(rule)s” rule needs the expanded uncertainty U or a guard band"),
    ),
    (r"JJF 1094-2002 has no guard band", _lazy("JJF 1094-2002 has no guard band")),
    (
        r"JJF 1094-2002 needs the symmetric limits .*",
        _lazy("JJF 1094-2002 needs the symmetric limits −MPEV and +MPEV (e.g. -0.02 and 0.02)"),
    ),
    (r"cannot round at the digit (?P<digit>\S+)", _lazy("cannot round at the digit %(digit)s")),
    (
        r"the rounding interval must be positive, not (?P<value>.+)",
        _lazy("the rounding interval must be positive, not %(value)s"),
    ),
]
_MESSAGES = [(re.compile(f"^{pattern}$", re.DOTALL), msgid) for pattern, msgid in MESSAGES]


def _syntax(text: str) -> str:
    for pattern, msgid in SYNTAX:
        match = pattern.match(text)
        if match:
            return str(msgid) % match.groupdict() if match.groupdict() else str(msgid)
    return _("invalid syntax")


def _why(text: str) -> str:
    return str(EVALUATION.get(text, text))


def translate_message(message: str) -> str:
    """The library's English message in the active language (as it is when not known)."""
    for pattern, msgid in _MESSAGES:
        match = pattern.match(message)
        if not match:
            continue
        params = match.groupdict()
        if "syntax" in params:
            params["syntax"] = _syntax(params["syntax"])
        if "why" in params:
            params["why"] = _why(params["why"])
        if "choices" in params:
            params["choices"] = params["choices"].replace(" or ", ", ")
        return str(msgid) % params if params else str(msgid)
    return message


def describe(exc: CalculationError, spec: Mapping | None = None) -> str:
    """One line for the page or the API's error message: the field as labelled, then why."""
    message = translate_message(exc.message)
    label = field_label(exc.field, spec)
    if not label:
        return message
    return _("%(field)s: %(message)s") % {"field": label, "message": message}
