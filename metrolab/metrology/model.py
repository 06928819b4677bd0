"""Measurement models: expressions over named inputs, parsed safely, evaluated with exact first
derivatives (for the GUM sensitivity coefficients, JCGM 100:2008 §5.1.3) or vectorised over
numpy arrays (for Monte Carlo trials, JCGM 101:2008 §7).

The grammar is a subset of Python's expression syntax, checked node by node (nothing is ever
passed to `eval`): numbers; input names; `pi` and `e`; + − × ÷; `**` or `^` for powers; unary
minus; and the functions sqrt, exp, ln (also log), log10, sin, cos, tan, asin, acos, atan,
atan2, abs. An output may use another output's name; it is expanded in place.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

CONSTANTS = {"pi": math.pi, "e": math.e}
FUNCTIONS_1 = {
    "sqrt",
    "exp",
    "ln",
    "log",
    "log10",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "abs",
}
FUNCTIONS_2 = {"atan2"}
_NAME_OK = str.isidentifier


class ModelError(ValueError):
    """A model that cannot be parsed or evaluated; `field` names the output or input at fault."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# A compiled expression is a tree of tuples: ("num", v) | ("var", name) | (op, child, ...)
Node = tuple


def _compile(node: ast.AST, output: str) -> Node:
    match node:
        case ast.Expression(body=body):
            return _compile(body, output)
        case ast.Constant(value=value) if isinstance(value, int | float) and not isinstance(
            value, bool
        ):
            return ("num", float(value))
        case ast.Name(id=name):
            if name in CONSTANTS:
                return ("num", CONSTANTS[name])
            return ("var", name)
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return ("neg", _compile(operand, output))
        case ast.UnaryOp(op=ast.UAdd(), operand=operand):
            return _compile(operand, output)
        case ast.BinOp(left=left, op=op, right=right):
            ops = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
            kind = ops.get(type(op))
            if kind is None:
                raise ModelError(
                    f"operator {type(op).__name__} is not allowed in a model", field=output
                )
            return (kind, _compile(left, output), _compile(right, output))
        case ast.Call(func=ast.Name(id=fname), args=args, keywords=[]):
            if fname in FUNCTIONS_1 and len(args) == 1:
                return ("ln" if fname == "log" else fname, _compile(args[0], output))
            if fname in FUNCTIONS_2 and len(args) == 2:
                return (fname, _compile(args[0], output), _compile(args[1], output))
            known = ", ".join(sorted(FUNCTIONS_1 | FUNCTIONS_2))
            raise ModelError(
                f"unknown function {fname}() with {len(args)} argument(s); known: {known}",
                field=output,
            )
    raise ModelError(
        f"not allowed in a model: {ast.unparse(node) if isinstance(node, ast.expr) else node}",
        field=output,
    )


def parse_expression(text: str, output: str = "") -> Node:
    """Parse one model expression (JCGM 100:2008 §4.1.1: Y = f(X1, ..., XN))."""
    if not isinstance(text, str) or not text.strip():
        raise ModelError("the model expression is empty", field=output)
    if len(text) > 5000:
        raise ModelError("the model expression is too long (5000 characters at most)", field=output)
    try:
        # "^" means power here; Python would read it as xor, with the wrong precedence.
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise ModelError(f"cannot read the expression {text!r}: {exc.msg}", field=output) from None
    return _compile(tree, output)


def _names(node: Node) -> list[str]:
    if node[0] == "var":
        return [node[1]]
    if node[0] == "num":
        return []
    return [n for child in node[1:] for n in _names(child)]


def _expand(node: Node, defs: dict[str, Node], stack: tuple[str, ...]) -> Node:
    if node[0] == "var" and node[1] in defs:
        name = node[1]
        if name in stack:
            raise ModelError(
                f"outputs refer to each other in a circle: {' → '.join((*stack, name))}", field=name
            )
        return _expand(defs[name], defs, (*stack, name))
    if node[0] in {"var", "num"}:
        return node
    return (node[0], *(_expand(child, defs, stack) for child in node[1:]))


# --- evaluation ------------------------------------------------------------------------------


def _eval(node: Node, env: Mapping[str, object]):
    """Evaluate on floats or numpy arrays alike (Monte Carlo evaluates all trials at once)."""
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "var":
        return env[node[1]]
    args = [_eval(child, env) for child in node[1:]]
    match kind:
        case "neg":
            return -args[0]
        case "add":
            return args[0] + args[1]
        case "sub":
            return args[0] - args[1]
        case "mul":
            return args[0] * args[1]
        case "div":
            return args[0] / args[1]
        case "pow":
            return np.power(args[0], args[1])
        case "ln":
            return np.log(args[0])
        case "abs":
            return np.abs(args[0])
        case "atan2":
            return np.arctan2(args[0], args[1])
        case "asin" | "acos" | "atan":
            return getattr(np, "arc" + kind[1:])(args[0])
        case _:
            return getattr(np, kind)(args[0])


def _derive(node: Node, env: Mapping[str, float], index: Mapping[str, int], n: int):
    """Forward-mode automatic differentiation: (value, gradient over the inputs)."""
    kind = node[0]
    if kind == "num":
        return node[1], np.zeros(n)
    if kind == "var":
        grad = np.zeros(n)
        grad[index[node[1]]] = 1.0
        return float(env[node[1]]), grad
    parts = [_derive(child, env, index, n) for child in node[1:]]
    (a, da) = parts[0]
    if kind == "neg":
        return -a, -da
    if len(parts) == 2:
        (b, db) = parts[1]
    match kind:
        case "add":
            return a + b, da + db
        case "sub":
            return a - b, da - db
        case "mul":
            return a * b, da * b + a * db
        case "div":
            return a / b, (da * b - a * db) / (b * b)
        case "pow":
            if a < 0 and b != math.floor(b):
                # Python would return a complex number here; numpy gives nan in evaluate().
                raise ValueError("a negative number raised to a non-integer power")
            value = a**b
            if not db.any():  # constant exponent: also valid for a <= 0
                return value, b * a ** (b - 1) * da if b != 0 else np.zeros(n)
            return value, value * (db * math.log(a) + b * da / a)
        case "sqrt":
            root = math.sqrt(a)
            return root, da / (2 * root)
        case "exp":
            value = math.exp(a)
            return value, value * da
        case "ln":
            return math.log(a), da / a
        case "log10":
            return math.log10(a), da / (a * math.log(10))
        case "sin":
            return math.sin(a), math.cos(a) * da
        case "cos":
            return math.cos(a), -math.sin(a) * da
        case "tan":
            return math.tan(a), da / math.cos(a) ** 2
        case "asin":
            return math.asin(a), da / math.sqrt(1 - a * a)
        case "acos":
            return math.acos(a), -da / math.sqrt(1 - a * a)
        case "atan":
            return math.atan(a), da / (1 + a * a)
        case "abs":
            return abs(a), math.copysign(1.0, a) * da
        case "atan2":  # atan2(y=a, x=b)
            r2 = a * a + b * b
            return math.atan2(a, b), (b * da - a * db) / r2
    raise ModelError(f"cannot differentiate {kind}")  # unreachable: the parser forbids it


@dataclass(frozen=True)
class Model:
    """A measurement model with one or several outputs over the same named inputs
    (JCGM 100:2008 §4.1; JCGM 102:2011 for several outputs)."""

    expressions: Mapping[str, str]
    trees: Mapping[str, Node]
    inputs: tuple[str, ...]

    @classmethod
    def parse(cls, expressions: Mapping[str, str]) -> Model:
        if not isinstance(expressions, Mapping) or not expressions:
            raise ModelError('give at least one output, e.g. {"Y": "X1 + X2"}', field="model")
        defs = {}
        for name, text in expressions.items():
            if not isinstance(name, str) or not _NAME_OK(name) or name in CONSTANTS:
                raise ModelError(f"{name!r} cannot name an output", field=str(name))
            defs[name] = parse_expression(text, name)
        trees = {name: _expand(tree, defs, (name,)) for name, tree in defs.items()}
        order: dict[str, None] = {}
        for tree in trees.values():
            order.update(dict.fromkeys(_names(tree)))
        return cls(dict(expressions), trees, tuple(order))

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.trees)

    def _check(self, values: Mapping[str, object]) -> None:
        missing = [name for name in self.inputs if name not in values]
        if missing:
            raise ModelError(f"no value for input(s): {', '.join(missing)}", field=missing[0])

    def evaluate(self, values: Mapping[str, float]) -> dict[str, float]:
        """The output estimates at the input estimates."""
        self._check(values)
        with np.errstate(all="raise"):
            try:
                return {name: float(_eval(tree, values)) for name, tree in self.trees.items()}
            except (FloatingPointError, ZeroDivisionError, ValueError, OverflowError) as exc:
                raise ModelError(
                    f"the model cannot be evaluated at these estimates: {exc}"
                ) from None

    def sensitivities(
        self, values: Mapping[str, float]
    ) -> dict[str, tuple[float, dict[str, float]]]:
        """Each output's estimate and its sensitivity coefficients c_i = ∂f/∂x_i at the
        estimates (JCGM 100:2008 §5.1.3), computed exactly by automatic differentiation."""
        self._check(values)
        index = {name: i for i, name in enumerate(self.inputs)}
        result = {}
        for name, tree in self.trees.items():
            try:
                value, grad = _derive(tree, values, index, len(self.inputs))
            except (ZeroDivisionError, ValueError, OverflowError) as exc:
                raise ModelError(
                    f"output {name} cannot be evaluated at these estimates: {exc}", field=name
                ) from None
            if not math.isfinite(value) or not np.all(np.isfinite(grad)):
                raise ModelError(f"output {name} is not finite at these estimates", field=name)
            result[name] = (float(value), {k: float(grad[i]) for k, i in index.items()})
        return result

    def evaluate_arrays(self, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every output for every trial at once (JCGM 101:2008 §7.6)."""
        self._check(arrays)
        size = max((np.size(arrays[name]) for name in self.inputs), default=1)
        with np.errstate(all="ignore"):
            return {
                name: np.broadcast_to(np.asarray(_eval(tree, arrays), dtype=float), (size,))
                for name, tree in self.trees.items()
            }
