"""Safe parsing of potential formulas: a whitelist walk over Python's ``ast``, never ``eval``.

A formula such as ``"(x - 1)**2 * (x**2 + y**2)**4"`` is parsed by :func:`ast.parse` (which only
builds a syntax tree and runs nothing); each node is then checked against a whitelist and the sympy
expression is built from the tree by this module itself. Nothing of the user's text reaches
``eval``, ``exec``, ``sympify`` or ``parse_expr``.

Accepted
    numbers (``2``, ``0.3``, ``1e-3``; decimals become exact rationals, 0.3 -> 3/10), variable
    names, ``+ - * / **``, unary ``-``/``+``, ``^`` as a synonym for ``**`` (the usual
    mathematical meaning; Python's bitwise xor makes no sense in a potential), parentheses, the
    constant ``pi`` and the functions ``exp, log, tanh, sin, cos, sqrt, Abs`` (one argument each)
    and ``Rational(p, q)`` (integer literals).
Refused, with a ``ValueError`` naming the token
    attribute access, subscripts, dunder or underscore names, lambdas, comprehensions, strings,
    keyword arguments, calls of anything not listed, numbers in exponents beyond ``MAX_EXPONENT``
    (so ``2**10**10`` cannot stall the process), and texts longer than ``MAX_LENGTH``.

Variables are real sympy symbols (``real=True``), so that ``Abs``/``sqrt`` differentiate to the
real-variable formulas (d|x|/dx = sign(x)).
"""

from __future__ import annotations

import ast
import cmath
import math
import re
from collections.abc import Sequence
from fractions import Fraction

import sympy

MAX_LENGTH = 20_000
MAX_EXPONENT = 1_000
# expanding K into monomials (exact Hessian, the RLCT methods) is refused or skipped beyond this many terms
MAX_TERMS = 20_000

FUNCTIONS = {
    "exp": sympy.exp,
    "log": sympy.log,
    "tanh": sympy.tanh,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "sqrt": sympy.sqrt,
    "Abs": sympy.Abs,
}
CONSTANTS = {"pi": sympy.pi}
RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS) | {"Rational"}

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def symbol(name: str) -> sympy.Symbol:
    """The sympy symbol the toolkit uses for variable ``name`` (real-valued)."""
    return sympy.Symbol(name, real=True)


def natural_key(name: str) -> tuple:
    """Sort key that compares digit runs as numbers, so ``w2`` comes before ``w10``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


def check_variable_names(names: Sequence[str]) -> tuple[str, ...]:
    """Validate an explicit variable list: identifiers, not reserved, no duplicates."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out = []
    for name in names:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"bad variable name {name!r}: use a letter followed by letters, digits or '_'")
        if name in RESERVED:
            raise ValueError(f"variable name {name!r} is reserved (a function or constant)")
        if name in out:
            raise ValueError(f"variable {name!r} is given twice")
        out.append(name)
    return tuple(out)


def parse_expression(text: str, variables: Sequence[str] | None = None) -> sympy.Expr:
    """Parse ``text`` into a sympy expression through a whitelist (see the module docstring).

    Parameters
    ----------
    text : the formula, e.g. ``"(x*y)**2"``.
    variables : the allowed variable names; ``None`` allows any valid name. A name used in
        ``text`` that is not in ``variables`` is an error.

    Returns
    -------
    sympy.Expr in real symbols (see :func:`symbol`).

    Examples
    --------
    >>> parse_expression("x^2 + 0.5*y")
    x**2 + y/2
    """
    if not isinstance(text, str):
        raise ValueError(f"a formula must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"formula is {len(text)} characters long; at most {MAX_LENGTH} are accepted")
    if not text.strip():
        raise ValueError("empty formula")
    allowed = None if variables is None else set(check_variable_names(variables))
    # '^' is read as '**' on the text itself, before parsing, so it gets the precedence of '**'
    # (Python's '^' binds more loosely than '+': x^2 + y would otherwise mean x^(2 + y)).
    source = text.strip().replace("^", "**")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ValueError(f"syntax error in formula {_short(repr(text), 80)}{where}: {exc.msg}") from None
    except (ValueError, MemoryError, RecursionError) as exc:
        reason = str(exc) or "the formula is nested too deeply"
        raise ValueError(f"cannot parse formula {_short(repr(text), 80)}: {reason}") from None
    try:
        return _Builder(source, allowed).build(tree.body)
    except RecursionError:
        raise ValueError("formula is nested too deeply") from None


def parse_number(text: str | int | float | Fraction, what: str = "value") -> sympy.Expr:
    """An exact sympy number from user input: ``"3/10"``, ``"0.3"``, ``"sqrt(2)/2"``, ``-1``, ``0.25``.

    Floats are converted through their shortest decimal representation (0.1 -> 1/10).
    """
    if isinstance(text, bool):
        raise ValueError(f"{what} must be a number, got {text!r}")
    if isinstance(text, int | Fraction):
        return sympy.Rational(text.numerator, text.denominator)
    if isinstance(text, float):
        if text != text or text in (float("inf"), float("-inf")):
            raise ValueError(f"{what} must be finite, got {text!r}")
        frac = Fraction(repr(float(text)))
        return sympy.Rational(frac.numerator, frac.denominator)
    if isinstance(text, sympy.Expr):
        value = text
    elif isinstance(text, str):
        try:
            value = parse_expression(text, variables=())
        except ValueError:
            raise ValueError(
                f"{what} must be a number such as 1, 0.3, 3/10 or sqrt(2): {_short(repr(text), 80)}"
            ) from None
    else:
        try:
            return parse_number(float(text), what)
        except (TypeError, ValueError):
            raise ValueError(f"{what} must be a number, got {text!r}") from None
    if value.free_symbols:
        raise ValueError(f"{what} must be a real number, got {text!r}")
    check_magnitude(value, {}, what)  # before any exact evaluation: exp(exp(exp(100))) would never finish
    if not value.is_real:
        raise ValueError(f"{what} must be a real number, got {text!r}")
    return value


def expansion_size_bound(expr: sympy.Expr) -> int:
    """An upper bound on the number of monomials of ``sympy.expand(expr)``, capped at ``MAX_TERMS + 1``.

    Computed on the unexpanded tree (sums add, products multiply, ``b**n`` with a positive integer n
    has at most C(t + n − 1, n) terms when b has t), so it costs nothing even for ``(x+y+z+w)**1000``.
    Function calls and other powers count as one term.
    """
    cap = MAX_TERMS + 1

    def bound(e) -> int:
        if e.is_Add:
            return min(cap, sum(bound(a) for a in e.args))
        if e.is_Mul:
            out = 1
            for a in e.args:
                out = min(cap, out * bound(a))
            return out
        if e.is_Pow and e.exp.is_Integer and e.exp > 0:
            t, n = bound(e.base), int(e.exp)
            if t == 1:
                return 1
            return min(cap, math.comb(t + n - 1, n) if n < cap else cap)
        return 1

    return bound(sympy.sympify(expr))


class _Unknown(Exception):
    """An expression node the float estimate does not know: no magnitude check is made."""


_APPROX_FUNCTIONS = {
    sympy.exp: cmath.exp,
    sympy.log: cmath.log,
    sympy.sin: cmath.sin,
    sympy.cos: cmath.cos,
    sympy.tanh: cmath.tanh,
    sympy.Abs: abs,
}


def check_magnitude(expr: sympy.Expr, values: dict, what: str = "value") -> None:
    """Raise ``ValueError`` if evaluating ``expr`` at ``values`` (symbol -> sympy number) overflows a double.

    Exact evaluation of e.g. ``exp(exp(exp(100)))``, ``2**x`` at x = 10**1000 or ``sin(x)`` at
    x = exp(exp(100)) never finishes (the exact result needs a number with 10**43 digits); a cheap
    double-precision estimate of every subexpression finds the overflow first. Poles and domain
    errors are left to the exact evaluation, which reports them.
    """
    floats: dict = {}

    def approx(e) -> complex:
        if e.is_Symbol:
            if e not in floats:
                if e not in values:
                    raise _Unknown
                floats[e] = approx(sympy.sympify(values[e]))
            return floats[e]
        if e.is_Number or e in (sympy.pi, sympy.E):
            out = complex(float(e))
        elif e.is_Add:
            out = sum((approx(a) for a in e.args), 0j)
        elif e.is_Mul:
            out = 1 + 0j
            for a in e.args:
                out *= approx(a)
        elif e.is_Pow:
            base, exponent = approx(e.base), approx(e.exp)
            if exponent.imag == 0 and exponent.real == int(exponent.real) and base.imag == 0:
                out = complex(base.real ** int(exponent.real))
            else:
                out = base**exponent
        elif e.func in _APPROX_FUNCTIONS and len(e.args) == 1:
            out = complex(_APPROX_FUNCTIONS[e.func](approx(e.args[0])))
        else:
            raise _Unknown
        if not cmath.isfinite(out):
            raise OverflowError
        return out

    try:
        approx(sympy.sympify(expr))
    except OverflowError:
        where = " at this point" if values else ""
        raise ValueError(f"{what} is too large to evaluate{where} (beyond 1e308, the double range)") from None
    except (_Unknown, ZeroDivisionError, ValueError, TypeError, RecursionError):
        return


class _Builder:
    """Builds a sympy expression from a checked AST node; raises ValueError on anything not whitelisted."""

    def __init__(self, text: str, allowed: set[str] | None):
        self.text = text
        self.allowed = allowed

    def build(self, node: ast.AST) -> sympy.Expr:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise ValueError(f"{_describe(node, self.text)} is not allowed in a formula")
        return method(node)

    def _Constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"constant {value!r} is not allowed in a formula (only real numbers)")
        if isinstance(value, int):
            return sympy.Integer(value)
        literal = ast.get_source_segment(self.text, node) or repr(value)
        try:
            frac = Fraction(literal.replace("_", ""))
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"number {literal!r} is not a finite real number") from None
        return sympy.Rational(frac.numerator, frac.denominator)

    def _Name(self, node: ast.Name) -> sympy.Expr:
        name = node.id
        if name.startswith("_"):
            raise ValueError(f"name {name!r} is not allowed (names starting with '_' are refused)")
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS or name == "Rational":
            raise ValueError(f"function {name!r} must be called, e.g. {name}(x)")
        if not _NAME.match(name):
            raise ValueError(f"name {name!r} is not allowed (use ASCII letters, digits and '_')")
        if self.allowed is not None and name not in self.allowed:
            known = ", ".join(sorted(self.allowed, key=natural_key)) or "none"
            raise ValueError(f"unknown name {name!r} (the variables are: {known})")
        return symbol(name)

    def _UnaryOp(self, node: ast.UnaryOp) -> sympy.Expr:
        operand = self.build(node.operand)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise ValueError(
            f"operator {_OPERATOR_NAMES.get(type(node.op), type(node.op).__name__)!r} is not allowed"
        )

    def _BinOp(self, node: ast.BinOp) -> sympy.Expr:
        op = type(node.op)
        if op not in _BINARY:
            raise ValueError(f"operator {_OPERATOR_NAMES.get(op, op.__name__)!r} is not allowed in a formula")
        left, right = self.build(node.left), self.build(node.right)
        if op is ast.Pow:
            if right.is_number and (not right.is_finite or abs(right) > MAX_EXPONENT):
                raise ValueError(
                    f"exponent {_short(right)} is too large (at most {MAX_EXPONENT} in absolute value)"
                )
            if left.is_number and right.is_number and left == 0 and right.is_negative:
                raise ValueError("division by zero in formula (0 to a negative power)")
            if left.is_Rational and right.is_Integer and left != 0:
                digits = max(len(str(abs(left.p))), len(str(left.q))) * abs(int(right))
                if digits > 100_000:
                    raise ValueError(f"the number {_short(left)}**{_short(right)} is too large to represent")
        if op is ast.Div and right == 0:
            raise ValueError("division by zero in formula")
        return _BINARY[op](left, right)

    def _Call(self, node: ast.Call) -> sympy.Expr:
        if not isinstance(node.func, ast.Name):
            return self.build(node.func)  # refuses attribute access, subscripts, ... with their own message
        name = node.func.id
        if name not in FUNCTIONS and name != "Rational":
            raise ValueError(
                f"unknown function {name!r} (allowed: {', '.join(sorted(RESERVED - set(CONSTANTS)))})"
            )
        if node.keywords:
            raise ValueError(f"keyword arguments are not allowed (in the call of {name!r})")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ValueError(f"starred arguments are not allowed (in the call of {name!r})")
        if name == "Rational":
            return self._rational(node)
        if len(node.args) != 1:
            raise ValueError(f"function {name!r} takes exactly one argument, got {len(node.args)}")
        return FUNCTIONS[name](self.build(node.args[0]))

    def _rational(self, node: ast.Call) -> sympy.Expr:
        if len(node.args) != 2:
            raise ValueError(f"Rational takes two integer arguments, got {len(node.args)}")
        p, q = (self.build(a) for a in node.args)
        if not (p.is_Integer and q.is_Integer):
            raise ValueError("Rational(p, q) needs integer literals p and q")
        if q == 0:
            raise ValueError("Rational(p, 0): division by zero")
        return sympy.Rational(p, q)


_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}

_OPERATOR_NAMES = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Invert: "~",
    ast.Not: "not",
}


def _short(value: sympy.Expr, width: int = 30) -> str:
    text = str(value)
    return text if len(text) <= width else f"{text[:width]}... ({len(text)} characters)"


def _describe(node: ast.AST, text: str) -> str:
    """A short human description of a refused node, naming the token where possible."""
    if isinstance(node, ast.Attribute):
        return f"attribute access '.{node.attr}'"
    if isinstance(node, ast.Subscript):
        return f"subscript '{ast.get_source_segment(text, node) or '[...]'}'"
    if isinstance(node, ast.Lambda):
        return "lambda"
    if isinstance(node, ast.Compare):
        return f"comparison '{ast.get_source_segment(text, node) or '...'}'"
    if isinstance(node, ast.BoolOp):
        return "boolean operator 'and'/'or'"
    if isinstance(node, ast.NamedExpr):
        return "assignment ':='"
    segment = ast.get_source_segment(text, node)
    kind = type(node).__name__
    return f"{kind} '{segment}'" if segment else kind
