"""The rule language of record templates: small formulas over a record's cells, parsed safely
and evaluated in exact decimal arithmetic (R6.2d; T/CMA CC045: calculation and rounding in
electronic records; issue 14).

A rule is one expression in a subset of Python's syntax, checked node by node against a
whitelist (`ast`; nothing ever reaches `eval`, `exec` or `getattr` on the text):

- numbers (``12.5``, ``-3``, ``1.2E-3``); names of the current scope (parameters, tables,
  readings, other computed values, ``nominal``);
- ``+ - * /``, ``**`` or ``^`` (power; the exponent at most ±100), unary minus and plus;
- comparisons ``< <= > >= == !=`` (chained: ``0 <= x < 10``), ``and``, ``or``, ``not``;
- conditional expressions ``a if condition else b``;
- string literals, only as function arguments, table keys, comparison operands and the two
  branches of a conditional (``"pass" if ok else "fail"``);
- subscripting a table with a key: ``mpe_table[accuracy_class]``;
- calls, with positional arguments only, of the functions in `FUNCTIONS` (see `docs/record-
  templates.md` for each formula and its source).

Arithmetic is done on `decimal.Decimal` in `CONTEXT`: 28 significant digits, half-to-even,
exponent within ±999 999, invalid operations, division by zero and overflow trapped (they become
a `RuleError`). Readings arrive as decimal text and stay exact through + − × and the rounding of
GB/T 8170 (`rounding`). Square roots are taken in Decimal too (correctly rounded to 28 digits);
the statistics of repeated readings (stdev, repeatability) come from `statistics`, in binary
floating point with `math.fsum`, and are read back through their shortest decimal text.

Missing values: a name whose value is None (a reading not typed yet) makes every expression
that uses it None — never an error. Anything wrong with the rule itself or with the numbers
(a division by zero, the root of a negative number) raises `RuleError(message, field=...)`.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

from metrolab.metrology import conformity, rounding
from metrolab.metrology import statistics as stats
from metrolab.metrology.corrections import correction_at

__all__ = [
    "CONTEXT",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "Environment",
    "Rule",
    "RuleError",
    "compile_rule",
    "decision_rank",
]

#: The decimal context of every rule: 28 significant digits (Python's default precision, enough
#: for any reading or certificate value), GB/T 8170 half-to-even for intermediate results.
CONTEXT = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
MAX_LENGTH = 2000  # characters of one rule
MAX_DEPTH = 40  # nesting of the syntax tree
MAX_NODES = 500  # syntax nodes of one rule
MAX_EXPONENT = 100  # |exponent| of a power
MAX_LIST = 10_000  # elements of a list a rule handles

# Decision words ranked best first (conformity.DECISIONS with "undecided" between the
# conditional statements): worst(...) combines per-point decisions into the record's.
_RANK = ("pass", "conditional_pass", "undecided", "conditional_fail", "fail")


class RuleError(ValueError):
    """A rule that cannot be compiled or evaluated; `field` names the place at fault."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message if field is None else f"{field}: {message}")
        self.message = message
        self.field = field


def decision_rank(decision: str) -> int:
    """0 for "pass" ... 4 for "fail"."""
    return _RANK.index(decision)


@dataclass(frozen=True)
class Environment:
    """What a rule may read besides its scope: the reference equipment's calibration points by
    role, the authorised CMC, the columns of the record's points (for summaries), and the unit
    `correction()` looks up by default."""

    references: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    cmc: Mapping[str, Any] | None = None
    columns: Callable[[str], list] | None = None
    unit: str = ""


# --- values -----------------------------------------------------------------------------------

_MISSING = None


def _num(value: object, what: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    raise RuleError(f"{what} must be a number, not {_describe(value)}")


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "a yes/no value"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__


def _numbers(value: object, what: str) -> list[Decimal]:
    if not isinstance(value, list):
        raise RuleError(f"{what} must be a list of numbers, not {_describe(value)}")
    return [_num(v, what) for v in value]


def _has_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, list):
        return any(_has_missing(v) for v in value)
    return False


def _flatten(args: Sequence[object], what: str) -> list[Decimal]:
    """The numbers of f(a, b, c), f([a, b, c]) or f([a, b], c): lists are spread out."""
    values = []
    for arg in args:
        if isinstance(arg, list):
            values.extend(_numbers(arg, what))
        else:
            values.append(_num(arg, what))
    if not values:
        raise RuleError(f"{what}() of an empty list")
    return values


def _int(value: object, what: str, low: int, high: int) -> int:
    number = _num(value, what)
    if number != number.to_integral_value() or not low <= number <= high:
        raise RuleError(f"{what} must be a whole number from {low} to {high}, not {number}")
    return int(number)


def _from_float(x: float) -> Decimal:
    return Decimal(repr(float(x)))


def _sqrt(x: Decimal) -> Decimal:
    if x < 0:
        raise RuleError(f"the square root of a negative number ({x})")
    return x.sqrt(CONTEXT)


# --- the functions ----------------------------------------------------------------------------


def _f_abs(env, x):
    if isinstance(x, list):
        return [abs(_num(v, "abs")) for v in x]
    return abs(_num(x, "abs"))


def _f_min(env, *args):
    return min(_flatten(args, "min"))


def _f_max(env, *args):
    return max(_flatten(args, "max"))


def _f_sum(env, *args):
    total = Decimal(0)
    for v in _flatten(args, "sum"):
        total = CONTEXT.add(total, v)
    return total


def _f_count(env, values):
    if not isinstance(values, list):
        raise RuleError(f"count() needs a list, not {_describe(values)}")
    return Decimal(len(values))


def _f_mean(env, *args):
    values = _flatten(args, "mean")
    return CONTEXT.divide(_f_sum(env, values), Decimal(len(values)))


def _stat(function, name):
    def call(env, values):
        numbers = _numbers(values, name)
        try:
            return _from_float(function(numbers))
        except stats.StatisticsError as exc:
            raise RuleError(f"{name}(): {exc.message}") from None

    return call


def _f_hysteresis(env, rising, falling):
    """|rising − falling| (statistics.hysteresis: the largest difference over a run)."""
    if isinstance(rising, list) or isinstance(falling, list):
        up, down = _numbers(rising, "hysteresis"), _numbers(falling, "hysteresis")
        try:
            result = stats.hysteresis(up, down)
        except stats.StatisticsError as exc:
            raise RuleError(f"hysteresis(): {exc.message}") from None
        i = result.index
        return abs(CONTEXT.subtract(up[i], down[i]))
    return abs(CONTEXT.subtract(_num(rising, "hysteresis"), _num(falling, "hysteresis")))


def _rounding(function):
    def call(env, *args):
        try:
            return function(*args)
        except rounding.RoundingError as exc:
            raise RuleError(f"{exc.message}") from None

    return call


def _f_round_places(x, n):
    return rounding.round_places(_num(x, "round_places"), _int(n, "places", -100, 100))


def _f_round_sig(x, n):
    return rounding.round_significant(_num(x, "round_sig"), _int(n, "digits", 1, 100))


def _f_round_interval(x, step):
    step = step if isinstance(step, str) else _num(step, "step")
    return rounding.round_interval(_num(x, "round_interval"), step)


def _f_round_like(x, u):
    return rounding.report(_num(x, "round_like"), _num(u, "round_like"))[0]


def _f_round_u(u, digits=Decimal(2)):
    return rounding.round_uncertainty(_num(u, "round_u"), digits=_int(digits, "digits", 1, 2))


def _f_interpolate(env, x, x1, y1, x2, y2):
    x, x1, y1, x2, y2 = (_num(v, "interpolate") for v in (x, x1, y1, x2, y2))
    if x1 == x2:
        raise RuleError("interpolate() needs two different x values")
    fraction = CONTEXT.divide(CONTEXT.subtract(x, x1), CONTEXT.subtract(x2, x1))
    return CONTEXT.add(y1, CONTEXT.multiply(CONTEXT.subtract(y2, y1), fraction))


def _reference(env: Environment, role, x, unit):
    if not isinstance(role, str):
        raise RuleError('the reference role must be written as text, e.g. "standard"')
    references = env.references if isinstance(env.references, Mapping) else {}
    reference = references.get(role)
    if not isinstance(reference, Mapping):
        raise RuleError(f"no reference equipment in the role {role!r}")
    unit = env.unit if unit is None else unit
    if not isinstance(unit, str):
        raise RuleError("the unit must be written as text")
    try:
        found = correction_at(reference.get("points") or (), _num(x, "correction"), unit)
    except (rounding.RoundingError, TypeError, AttributeError) as exc:
        raise RuleError(f"the calibration data of {role!r}: {exc}") from None
    if found is None:
        raise RuleError(
            f"the calibration of {role!r} gives no correction at {x} {unit} "
            "(outside its calibrated points, or another unit)"
        )
    return found


def _f_correction(env, role, x, unit=None):
    return _reference(env, role, x, unit).correction


def _f_reference_U(env, role, x, unit=None):
    return _reference(env, role, x, unit).expanded_uncertainty


def _f_reference_k(env, role, x, unit=None):
    return _reference(env, role, x, unit).coverage_factor


def _f_rect(env, a):
    return CONTEXT.divide(_num(a, "rect"), _sqrt(Decimal(3)))


def _f_tri(env, a):
    return CONTEXT.divide(_num(a, "tri"), _sqrt(Decimal(6)))


def _f_normal(env, u, k):
    k = _num(k, "normal")
    if k <= 0:
        raise RuleError("the coverage factor k must be greater than zero")
    return CONTEXT.divide(_num(u, "normal"), k)


def _f_rss(env, *args):
    total = Decimal(0)
    for v in _flatten(args, "rss"):
        total = CONTEXT.add(total, CONTEXT.multiply(v, v))
    return _sqrt(total)


def _f_expanded(env, uc, k):
    return CONTEXT.multiply(_num(uc, "expanded"), _num(k, "expanded"))


def _conformity(function):
    def call(env, *args):
        try:
            return function(*args)
        except conformity.ConformityError as exc:
            raise RuleError(f"{exc.field}: {exc.message}") from None

    return call


def _f_decide_jjf1094(error, mpe, u):
    return conformity.jjf1094(_num(error, "error"), abs(_num(mpe, "mpe")), _num(u, "U"))


def _f_decide(value, lower, upper, rule, u=None):
    if not isinstance(rule, str):
        raise RuleError('the decision rule must be written as text, e.g. "simple"')
    return conformity.decide(
        _num(value, "value"),
        lower,
        upper,
        rule,
        U=None if u is None else _num(u, "U"),
    )


_CMC_FACTOR = {"%": Decimal(100), "ppm": Decimal(1_000_000), "": Decimal(1)}


def cmc_satisfied(cmc: Mapping[str, Any], U: Decimal, value: Decimal | None) -> bool | None:
    """Whether an expanded uncertainty U is no smaller than the authorised CMC
    ({"value", "unit", "relative"}): U ≥ CMC, or U/|value| × (100 for %, 10⁶ for ppm) ≥ CMC
    for a relative CMC. None when a relative CMC cannot be applied at a value of zero."""
    limit = rounding.to_decimal(cmc.get("value"), field="cmc.value")
    if not cmc.get("relative"):
        return limit <= U
    if value is None or value == 0:
        return None
    factor = _CMC_FACTOR.get(str(cmc.get("unit") or ""), Decimal(1))
    relative = CONTEXT.multiply(CONTEXT.divide(U, abs(value)), factor)
    return relative >= limit


def _f_cmc_ok(env, u, value):
    if env.cmc is None:
        return True
    return cmc_satisfied(env.cmc, _num(u, "U"), _num(value, "value"))


def _f_column(env, name):
    if not isinstance(name, str):
        raise RuleError('column() takes the name of a point value as text, e.g. column("error")')
    if env.columns is None:
        raise RuleError("column() is only available in summary rules")
    return env.columns(name)


def _f_all(env, values):
    if not isinstance(values, list):
        return _bool(values, "all")
    return all(_bool(v, "all") for v in values)


def _f_any(env, values):
    if not isinstance(values, list):
        return _bool(values, "any")
    return any(_bool(v, "any") for v in values)


def _f_worst(env, *args):
    items = args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)
    if not items:
        raise RuleError("worst() of an empty list")
    ranks = []
    for item in items:
        if isinstance(item, bool):
            item = "pass" if item else "fail"
        if item not in _RANK:
            raise RuleError(f"worst() takes decisions ({', '.join(_RANK)}), not {item!r}")
        ranks.append(_RANK.index(item))
    return _RANK[max(ranks)]


def _f_sqrt(env, x):
    return _sqrt(_num(x, "sqrt"))


#: name → (least, most arguments, implementation(env, *args)). Arguments that are None (values
#: not entered yet) make the result None before the implementation is called.
FUNCTIONS: dict[str, tuple[int, int, Callable[..., object]]] = {
    "abs": (1, 1, _f_abs),
    "min": (1, MAX_LIST, _f_min),
    "max": (1, MAX_LIST, _f_max),
    "sqrt": (1, 1, _f_sqrt),
    "sum": (1, MAX_LIST, _f_sum),
    "count": (1, 1, _f_count),
    "mean": (1, MAX_LIST, _f_mean),
    "stdev": (1, 1, _stat(stats.stdev, "stdev")),
    "stdev_of_mean": (1, 1, _stat(stats.stdev_of_mean, "stdev_of_mean")),
    "repeatability": (1, 1, _stat(stats.repeatability, "repeatability")),
    "hysteresis": (2, 2, _f_hysteresis),
    "round_places": (2, 2, _rounding(_f_round_places)),
    "round_sig": (2, 2, _rounding(_f_round_sig)),
    "round_interval": (2, 2, _rounding(_f_round_interval)),
    "round_like": (2, 2, _rounding(_f_round_like)),
    "round_u": (1, 2, _rounding(_f_round_u)),
    "interpolate": (5, 5, _f_interpolate),
    "correction": (2, 3, _f_correction),
    "reference_U": (2, 3, _f_reference_U),
    "reference_k": (2, 3, _f_reference_k),
    "rect": (1, 1, _f_rect),
    "tri": (1, 1, _f_tri),
    "normal": (2, 2, _f_normal),
    "rss": (1, MAX_LIST, _f_rss),
    "expanded": (2, 2, _f_expanded),
    "decide_jjf1094": (3, 3, _conformity(_f_decide_jjf1094)),
    "decide": (4, 5, _conformity(_f_decide)),
    "cmc_ok": (2, 2, _f_cmc_ok),
    "column": (1, 1, _f_column),
    "all": (1, 1, _f_all),
    "any": (1, 1, _f_any),
    "worst": (1, MAX_LIST, _f_worst),
}
# Functions whose None arguments do not make the result None: decide() takes None for an
# unlimited side.
_NONE_ALLOWED = {"decide"}


# --- compilation --------------------------------------------------------------------------------

Evaluator = Callable[[Mapping[str, object], Environment], object]


def _bool(value: object, what: str) -> bool:
    if isinstance(value, bool):
        return value
    raise RuleError(f"{what} needs a yes/no value (a comparison), not {_describe(value)}")


def _arith(op: str, a: object, b: object) -> Decimal:
    x, y = _num(a, f"the left side of {op}"), _num(b, f"the right side of {op}")
    if op == "+":
        return CONTEXT.add(x, y)
    if op == "-":
        return CONTEXT.subtract(x, y)
    if op == "*":
        return CONTEXT.multiply(x, y)
    if op == "/":
        if not y:
            raise RuleError("division by zero")
        return CONTEXT.divide(x, y)
    # power
    if abs(y) > MAX_EXPONENT:
        raise RuleError(f"the exponent {y} is too large (at most ±{MAX_EXPONENT})")
    if y != y.to_integral_value() and x < 0:
        raise RuleError("a negative number raised to a fractional power")
    if not x and y < 0:
        raise RuleError("zero raised to a negative power")
    return CONTEXT.power(x, y)


_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_COMPARE = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _compare(op: ast.cmpop, a: object, b: object) -> bool:
    if isinstance(op, _ORDERING):
        if not (isinstance(a, Decimal) and isinstance(b, Decimal)):
            raise RuleError(f"only numbers can be ordered, not {_describe(a)} and {_describe(b)}")
    elif isinstance(a, list | Mapping) or isinstance(b, list | Mapping):
        raise RuleError("lists and tables cannot be compared")
    return _COMPARE[type(op)](a, b)


def _lookup(table: object, key: object) -> object:
    if not isinstance(table, Mapping):
        raise RuleError(f"only a table can be looked up with [key], not {_describe(table)}")
    if isinstance(key, Decimal):
        candidates = [str(key), rounding.format_plain(key.normalize(CONTEXT))]
    elif isinstance(key, str):
        candidates = [key]
    else:
        raise RuleError(f"a table key must be text or a number, not {_describe(key)}")
    for candidate in candidates:
        if candidate in table:
            return table[candidate]
    raise RuleError(f"the table has no entry {candidates[0]!r} (it has {', '.join(table)})")


class _Compiler:
    def __init__(self, source: str):
        self.source = source
        self.names: set[str] = set()
        self.columns: set[str] = set()
        self.roles: set[str] = set()
        self.functions: set[str] = set()
        self.nodes = 0

    def refuse(self, node: ast.AST, what: str | None = None) -> RuleError:
        text = what
        if text is None:
            try:
                text = ast.unparse(node)
            except Exception:
                text = type(node).__name__
            text = f"not allowed in a rule: {text[:80]}"
        return RuleError(text)

    def compile(self, node: ast.AST, depth: int = 0, text_ok: bool = False) -> Evaluator:
        self.nodes += 1
        if depth > MAX_DEPTH:
            raise RuleError(f"the rule is nested too deeply (at most {MAX_DEPTH} levels)")
        if self.nodes > MAX_NODES:
            raise RuleError(f"the rule is too long (at most {MAX_NODES} parts)")
        d = depth + 1
        match node:
            case ast.Constant(value=bool() as flag):
                return lambda scope, env, _f=flag: _f
            case ast.Constant(value=int() | float()):
                return self.number(node)
            case ast.Constant(value=str() as text):
                if not text_ok:
                    raise self.refuse(
                        node,
                        "text in quotes is allowed only as a function argument, a table "
                        "key, a comparison operand or a branch of a conditional",
                    )
                if len(text) > 200:
                    raise self.refuse(node, "text in quotes is too long (200 characters at most)")
                return lambda scope, env, _t=text: _t
            case ast.Name(id=name):
                if name.startswith("_"):
                    raise self.refuse(node, f"names cannot start with an underscore: {name}")
                self.names.add(name)
                return lambda scope, env, _n=name: _get(scope, _n)
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                inner = self.compile(operand, d)
                return lambda scope, env: _neg(inner(scope, env))
            case ast.UnaryOp(op=ast.UAdd(), operand=operand):
                inner = self.compile(operand, d)
                return lambda scope, env: _pos(inner(scope, env))
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                inner = self.compile(operand, d)
                return lambda scope, env: _not(inner(scope, env))
            case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
                a, b, symbol = self.compile(left, d), self.compile(right, d), _BINARY[type(op)]

                def binary(scope, env):
                    x = a(scope, env)
                    y = b(scope, env)
                    if x is None or y is None:
                        return None
                    return _arith(symbol, x, y)

                return binary
            case ast.BoolOp(op=op, values=values) if type(op) in (ast.And, ast.Or):
                parts = [self.compile(v, d) for v in values]
                return _boolop(isinstance(op, ast.And), parts)
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                if not all(type(op) in _COMPARE for op in ops):
                    raise self.refuse(node, "only < <= > >= == != compare values (not in, is)")
                parts = [self.compile(left, d, True)] + [
                    self.compile(c, d, True) for c in comparators
                ]
                return _chain(list(ops), parts)
            case ast.IfExp(test=test, body=body, orelse=orelse):
                t, yes, no = (
                    self.compile(test, d),
                    self.compile(body, d, True),
                    self.compile(orelse, d, True),
                )

                def conditional(scope, env):
                    condition = t(scope, env)
                    if condition is None:
                        return None
                    return yes(scope, env) if _bool(condition, "if") else no(scope, env)

                return conditional
            case ast.Subscript(value=value, slice=key) if not isinstance(key, ast.Slice):
                table, k = self.compile(value, d), self.compile(key, d, True)

                def subscript(scope, env):
                    t = table(scope, env)
                    key_value = k(scope, env)
                    if t is None or key_value is None:
                        return None
                    return _lookup(t, key_value)

                return subscript
            case ast.Call(func=ast.Name(id=fname), args=args, keywords=[]):
                return self.call(node, fname, args, d)
        raise self.refuse(node)

    def number(self, node: ast.Constant) -> Evaluator:
        text = ast.get_source_segment(self.source, node) or repr(node.value)
        try:
            number = Decimal(text.replace("_", ""))
        except InvalidOperation:
            raise self.refuse(node, f"not a decimal number: {text[:40]}") from None
        if not number.is_finite() or abs(number.adjusted()) > 999:
            raise self.refuse(node, f"the number {text[:40]} is out of range")
        return lambda scope, env, _v=number: _v

    def call(self, node: ast.Call, fname: str, args: list[ast.expr], d: int) -> Evaluator:
        if fname not in FUNCTIONS:
            raise self.refuse(node, f"unknown function {fname}(); known: {', '.join(FUNCTIONS)}")
        least, most, implementation = FUNCTIONS[fname]
        if not least <= len(args) <= most:
            count = str(least) if least == most else f"{least} to {most}"
            raise self.refuse(node, f"{fname}() takes {count} argument(s), not {len(args)}")
        if any(isinstance(a, ast.Starred) for a in args):
            raise self.refuse(node, "starred arguments are not allowed")
        parts = [self.compile(a, d, True) for a in args]
        self.functions.add(fname)
        first = args[0] if args else None
        literal = first.value if isinstance(first, ast.Constant) else None
        if fname == "column":
            if not isinstance(literal, str):
                raise self.refuse(node, 'column() takes a name in quotes, e.g. column("error")')
            self.columns.add(literal)
        if fname in ("correction", "reference_U", "reference_k"):
            if not isinstance(literal, str):
                raise self.refuse(node, f'{fname}() takes the role in quotes, e.g. "standard"')
            self.roles.add(literal)
        none_allowed = fname in _NONE_ALLOWED

        def function(scope, env):
            values = [p(scope, env) for p in parts]
            if none_allowed:
                # decide(value, lower, upper, rule, U): None for an unlimited side
                if _has_missing(values[0]) or (len(values) > 4 and values[4] is None):
                    return None
            elif any(_has_missing(v) for v in values):
                return None
            try:
                return implementation(env, *values)
            except RuleError as exc:
                if exc.message.startswith(f"{fname}()"):
                    raise
                raise RuleError(f"{fname}(): {exc.message}") from None
            except (ArithmeticError, ValueError) as exc:
                raise RuleError(f"{fname}(): {exc}") from None

        return function


def _get(scope: Mapping[str, object], name: str) -> object:
    try:
        return scope[name]
    except KeyError:
        raise RuleError(f"unknown name {name!r}") from None


def _neg(x: object) -> object:
    if x is None:
        return None
    return CONTEXT.minus(_num(x, "the operand of -"))


def _pos(x: object) -> object:
    if x is None:
        return None
    return CONTEXT.plus(_num(x, "the operand of +"))


def _not(x: object) -> object:
    if x is None:
        return None
    return not _bool(x, "not")


def _boolop(is_and: bool, parts: list[Evaluator]) -> Evaluator:
    def evaluate(scope, env):
        missing = False
        for part in parts:
            value = part(scope, env)
            if value is None:
                missing = True
                continue
            if _bool(value, "and" if is_and else "or") is not is_and:
                return not is_and  # a decisive operand settles it, even with others missing
        return None if missing else is_and

    return evaluate


def _chain(ops: list[ast.cmpop], parts: list[Evaluator]) -> Evaluator:
    def evaluate(scope, env):
        values = [p(scope, env) for p in parts]
        if any(v is None for v in values):
            return None
        return all(_compare(op, values[i], values[i + 1]) for i, op in enumerate(ops))

    return evaluate


@dataclass(frozen=True)
class Rule:
    """A compiled rule. `names` are the scope names it reads, `columns` the point values it
    aggregates with column(), `roles` the reference equipment it reads corrections from."""

    text: str
    names: frozenset[str]
    columns: frozenset[str]
    roles: frozenset[str]
    functions: frozenset[str]
    _evaluate: Evaluator = field(repr=False, compare=False)

    def evaluate(
        self, scope: Mapping[str, object], env: Environment | None = None
    ) -> Decimal | bool | str | list | None:
        """The rule's value in `scope` (name → Decimal, bool, text, list, table or None)."""
        try:
            return self._evaluate(scope, env or _DEFAULT_ENV)
        except RuleError:
            raise
        except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
            raise RuleError(f"cannot evaluate {self.text[:60]!r}: {exc}") from None


_DEFAULT_ENV = Environment()


def compile_rule(text: object, *, field: str | None = None) -> Rule:
    """Parse and check one rule; `RuleError(message, field=field)` if it is not allowed."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("the rule is empty", field=field)
    if len(text) > MAX_LENGTH:
        raise RuleError(f"the rule is too long ({MAX_LENGTH} characters at most)", field=field)
    # "^" means power here; Python would read it as exclusive or, with another precedence.
    source = text.strip().replace("^", "**")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning on a bad escape in quotes
            tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
        message = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
        raise RuleError(f"cannot read the rule: {message}", field=field) from None
    compiler = _Compiler(source)
    try:
        evaluate = compiler.compile(tree.body)
    except RuleError as exc:
        raise RuleError(exc.message, field=field) from None
    except RecursionError:
        raise RuleError("the rule is nested too deeply", field=field) from None
    return Rule(
        text=text,
        names=frozenset(compiler.names),
        columns=frozenset(compiler.columns),
        roles=frozenset(compiler.roles),
        functions=frozenset(compiler.functions),
        _evaluate=evaluate,
    )
