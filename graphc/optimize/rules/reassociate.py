"""The reassociate pass: constants and true scalars move out of products, quotients and
sums of arrays, to meet each other and touch each array once; common factors come out;
a sum of a product of vectors is a dot; a sum of terms that cannot cancel splits."""

from __future__ import annotations

import math

import numpy as np

from .base import (
    Reader,
    Rewrite,
    Rule,
    RuleView,
    boolean,
    combinable,
    const_value,
    constant_factor,
    constant_product,
    known_array,
    op_of,
    rule,
    scalar_const,
    sign_of,
    true_scalar,
)


def scaled(g: Reader, name: str) -> tuple[str, str, str] | None:
    """``(x, s, op)`` when node ``name`` is a known array x times (op "mul") or divided
    by (op "div") a true scalar s."""
    if not known_array(g, name) or op_of(g, name) not in ("mul", "div"):
        return None
    op = op_of(g, name)
    a, b = g.args(name)
    if true_scalar(g, b) and g.shape(a) == g.shape(name):
        return a, b, op
    if op == "mul" and true_scalar(g, a) and g.shape(b) == g.shape(name):
        return b, a, op
    return None


def _together(g: Reader, first: tuple[str, str], second: tuple[str, str]
              ) -> tuple[str, str] | None:
    """Two scalar factors ``(op, s)`` as one (``* s / r -> * (s / r)``, ``/ s / r ->
    / (s * r)``...); None for two constants that would not make one (``combinable``)."""
    (op1, s), (op2, r) = first, second
    if op1 == op2:
        return (op1, g.add("mul", (s, r))) if combinable(g, "mul", s, r) else None
    top, bottom = (s, r) if op1 == "mul" else (r, s)
    return ("mul", g.add("div", (top, bottom))) if combinable(g, "div", top, bottom) else None


def _single(g: RuleView, name: str) -> tuple[str, str, str] | None:
    """``scaled`` of a node nothing else uses: taking its scalar out costs no pass."""
    return scaled(g, name) if g.uses.get(name, 1) == 1 else None


@rule("mul", "reassociate", "(x * s) * y -> (x * y) * s")
@rule("div", "reassociate", "(x * s) / y -> (x / y) * s")
def _scalars_first(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """True scalars meet each other before an array, and move out of products and
    quotients of arrays (``t / (y * r) -> (t / r) / y``): each array is touched once.
    An operand used elsewhere is split only to merge scalars, which costs no pass."""
    for k in ((0, 1) if op == "mul" else (0,)):
        found, other = scaled(g, args[k]), args[1 - k]
        if found is not None and true_scalar(g, other):
            both = _together(g, (found[2], found[1]), (op, other))
            return None if both is None else (both[0], (found[0], both[1]), {})
    if op == "div" and (bottom := scaled(g, args[1])) is not None \
            and true_scalar(g, args[0]):
        inverse = _FLIP[bottom[2]]  # t / (y * r) -> (t / r) / y
        if combinable(g, inverse, args[0], bottom[1]):
            return ("div", (g.add(inverse, (args[0], bottom[1])), bottom[0]), {})
    if not (known_array(g, args[0]) and known_array(g, args[1])):
        return None
    parts = [_single(g, a) for a in args]
    if parts == [None, None]:
        return None
    # dividing by (y * r) divides by r
    factors = [(_FLIP[p[2]] if op == "div" and k else p[2], p[1])
               for k, p in enumerate(parts) if p is not None]
    both = factors[0] if len(factors) == 1 else _together(g, *factors)
    if both is None:
        return None
    arrays = tuple(a if p is None else p[0] for a, p in zip(args, parts))
    return (both[0], (g.add(op, arrays), both[1]), {})


_FLIP = {"mul": "div", "div": "mul"}


@rule("pow", "reassociate", "(x * s) ** k -> x ** k * s ** k")
def _scalar_out_of_power(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """The scalar can then meet others (P6's ``-0.5 * ((x - m) / s) ** 2``). Integer
    powers only: ``(x * s) ** 0.5`` is real where ``x ** 0.5`` may not be."""
    base, k = args
    found = _single(g, base)
    if found is None or not scalar_const(g, k):
        return None
    value = const_value(g, k)
    if not (isinstance(value, (int, float)) and float(value).is_integer()):
        return None
    x, s, how = found
    if g.is_const(s):
        with np.errstate(all="ignore"):
            power = float(np.float64(const_value(g, s)) ** float(value))
        if constant_product(power, 1.0) is None:
            return None  # (x * 1e-20) ** 2: 1e-40 is no float32 number
    return (how, (g.add("pow", (x, k)), g.add("pow", (s, k))), {})


@rule("mul", "reassociate", "x * (c * y) -> (x * y) * c")
def _constant_outward(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """The constant moves out to meet others. An array ``c * y`` used elsewhere stays:
    splitting it would make ``x * y`` too."""
    for inner, other in (args, args[::-1]):
        if g.is_const(other) or true_scalar(g, inner) and known_array(g, other):
            continue  # x * (c * s): the scalars stay together, x is touched once
        if known_array(g, inner) and g.uses.get(inner, 1) != 1:
            continue
        if (found := constant_factor(g, inner)) is not None:
            return ("mul", (g.add("mul", (other, found[1])), found[0]), {})
    return None


@rule("add", "reassociate", "s*a + s*b -> s*(a + b)")
@rule("sub", "reassociate", "s*a - s*b -> s*(a - b)")
def _factor(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """s*a + s*b -> s*(a + b) for a true scalar s (c*a + (-c)*b -> c*(a - b)): one pass
    fewer. Products used elsewhere stay, since they are made anyway."""
    if not known_array(g, args[0]):
        return None
    first, second = _single(g, args[0]), _single(g, args[1])
    if first is None or second is None or first[2] != "mul" or second[2] != "mul":
        return None
    (a, s, _), (b, r, _) = first, second
    if g.shape(a) != g.shape(b):
        return None
    if s == r:
        return ("mul", (g.add(op, (a, b)), s), {})
    if g.is_const(s) and g.is_const(r) and const_value(g, s) == -const_value(g, r):
        return ("mul", (g.add("sub" if op == "add" else "add", (a, b)), s), {})
    return None


def _power_of_two(g: Reader, name: str) -> bool:
    """A constant 2**k, k >= 0 (or its negative): multiplying by it is exact, and
    a sum it is taken out of overflows only where the terms it scaled would."""
    if not scalar_const(g, name):
        return False
    value = abs(float(const_value(g, name)))
    return math.isfinite(value) and value >= 1.0 and math.frexp(value)[0] == 0.5


def _without(g: Reader, scalar: str, c: str) -> str | None:
    """u when true scalar ``scalar`` is ``u * c`` (or ``c * u``) for a constant of
    c's value, else None."""
    if not true_scalar(g, scalar) or op_of(g, scalar) != "mul":
        return None
    for k, u in (g.args(scalar), g.args(scalar)[::-1]):
        if g.is_const(k) and const_value(g, k) == const_value(g, c):
            return u
    return None


@rule("add", "reassociate", "a*c + b*(u*c) -> (a + b*u)*c")
@rule("sub", "reassociate", "a*c - b*(u*c) -> (a - b*u)*c")
def _constant_of_a_scalar(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """A constant 2**k of one term that is also a factor of the other's scalar comes
    out (P6's hvp: ``t * 2.0 - y * (s * 2.0)``), for the sum or scalar it meets next
    to take: one pass fewer there. The same bits: only a power of two moves."""
    if not known_array(g, args[0]):
        return None
    first, second = _single(g, args[0]), _single(g, args[1])
    if first is None or second is None or first[2] != "mul" or second[2] != "mul" \
            or g.shape(first[0]) != g.shape(second[0]):
        return None
    for (a, c, _), (b, r, _), k in ((first, second, 0), (second, first, 1)):
        if _power_of_two(g, c) and (u := _without(g, r, c)) is not None:
            scaled_b = g.add("mul", (b, u))
            terms = (a, scaled_b) if k == 0 else (scaled_b, a)
            return ("mul", (g.add(op, terms), c), {})
    return None


def _alike_arrays(g: Reader, names: tuple[str, ...] | list[str]) -> bool:
    """Known arrays of one shape, none a seed of ones or a broadcast: regrouping them
    changes no broadcast."""
    shape = g.shape(names[0])
    return all(known_array(g, n) and g.shape(n) == shape
               and op_of(g, n) not in ("ones_like", "broadcast_like") for n in names)


@rule("mul", "reassociate", "(a * b) * c -> a * (b * c), earlier factors first")
def _earlier_first(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """In a gradient ``(x_bar * c) * c -> x_bar * (c * c)``: forward values multiplied
    while fresh, and a common factor ``x_bar`` for the sum it goes into."""
    if not known_array(g, args[0]):
        return None
    for inner, c in (args, args[::-1]):
        if op_of(g, inner) != "mul" or g.uses.get(inner, 1) != 1:
            continue
        a, b = g.args(inner)
        latest, other = (a, b) if g.position(a) >= g.position(b) else (b, a)
        if g.position(latest) > g.position(c) and _alike_arrays(g, (a, b, c)):
            return ("mul", (latest, g.add("mul", (other, c))), {})
    return None


@rule("add", "reassociate", "a*x + a*y -> a*(x + y) for arrays")
@rule("sub", "reassociate", "a*x - a*y -> a*(x - y) for arrays")
def _array_factor(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """a*x + a*y -> a*(x + y) for arrays of one shape (a*x + a -> a*(x + 1)): one pass
    fewer, and a gradient's forward-only part is made in the forward sweep."""
    if not (known_array(g, args[0]) and _alike_arrays(g, args)):
        return None
    singles = [op_of(g, t) == "mul" and g.uses.get(t, 1) == 1 for t in args]
    if not any(singles):
        return None
    first, second = (g.args(t) if single else (t,) for t, single in zip(args, singles))
    for a in dict.fromkeys(first):
        if a in second and _alike_arrays(g, first + second):
            rest = [_other(g, t, a) if single else g.const(1.0)
                    for t, single in zip(args, singles)]
            return ("mul", (a, g.add(op, tuple(rest))), {})
    return None


def _other(g: Reader, product: str, factor: str) -> str:
    x, y = g.args(product)
    return y if x == factor else x


def _scalar_out_of(op: str) -> Rule:
    """sum(x * s) -> sum(x) * s for a true scalar s: one multiplication, not one per element."""
    def pull(g: RuleView, reduction: str, args: tuple, params: dict) -> Rewrite:
        inner = args[0]
        if op_of(g, inner) == op and g.uses.get(inner, 1) == 1:  # else the product stays
            for k in ((0, 1) if op == "mul" else (1,)):
                s, x = g.args(inner)[k], g.args(inner)[1 - k]
                if true_scalar(g, s) and g.shape(x) == g.shape(inner):
                    return (op, (g.add(reduction, (x,), params), s), {})
        if op == "mul" and op_of(g, inner) == "neg":
            return ("neg", (g.add(reduction, g.args(inner), params),), {})
        return None
    return pull


for _r in ("sum", "mean"):
    rule(_r, "reassociate", f"{_r}(x * scalar) -> {_r}(x) * scalar")(_scalar_out_of("mul"))
    rule(_r, "reassociate", f"{_r}(x / scalar) -> {_r}(x) / scalar")(_scalar_out_of("div"))


@rule("sum", "reassociate", "sum((x * s) * y) -> sum(x * y) * s")
@rule("mean", "reassociate", "mean((x * s) * y) -> mean(x * y) * s")
def _scaled_factor_out_of(g: RuleView, reduction: str, args: tuple, params: dict) -> Rewrite:
    """Even with x * s used elsewhere: the product in the sum is made anyway."""
    inner = args[0]
    if op_of(g, inner) != "mul" or g.uses.get(inner, 1) != 1 \
            or not all(known_array(g, a) for a in g.args(inner)):
        return None
    for a, other in (g.args(inner), g.args(inner)[::-1]):
        if (found := scaled(g, a)) is not None:
            x, s, how = found
            return (how, (g.add(reduction, (g.add("mul", (x, other)),), params), s), {})
    return None


@rule("sum", "reassociate", "sum(x * y) -> x @ y")  # and sum(x ** 2) -> x @ x
def _dot(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """One BLAS call, no product array."""
    inner = args[0]
    if op_of(g, inner) not in ("mul", "pow") or g.uses.get(inner, 1) != 1 \
            or params["keepdims"] or params["axis"] not in (None, 0, -1, (0,), (-1,)):
        return None
    x, y = g.args(inner)
    if boolean(g, x) or boolean(g, y):
        return None  # a bool @ x: its adjoint would be bools times a Python float
    if op_of(g, inner) == "pow":  # sum(x ** 2) = x @ x
        if not scalar_const(g, y, 2.0):
            return None
        y = x
    if len(g.shape(x)) == 1 and g.shape(x) == g.shape(y) \
            and not g.elastic(x) and not g.elastic(y):
        return ("matmul", (x, y), {})
    return None


_SPLIT_DEPTH = [0]
"""How many splits are under way: each splits its parts in turn, a Python call deeper
(one count for all threads: a compile running beside another may split less)."""


def _split_sum(op: str) -> Rule:
    """sum(a + b) -> sum(a) + sum(b): no sum array, and the parts may become dots. Only
    for terms of one sign (Rosenbrock's squares), else sum(x - y) near 1e4 would be 0.0
    in float32. At most 100 deep: a sum of 500 would exhaust Python's stack."""
    def split(g: RuleView, reduction: str, args: tuple, params: dict) -> Rewrite:
        inner = args[0]
        if op_of(g, inner) != op or g.uses.get(inner, 1) != 1 or not known_array(g, inner) \
                or _SPLIT_DEPTH[0] >= 100:
            return None
        a, b = g.args(inner)
        if g.shape(a) != g.shape(inner) or g.shape(b) != g.shape(inner) \
                or g.elastic(a) or g.elastic(b):
            return None
        sa = sign_of(g, a, g.signs)
        if sa == 0 or sign_of(g, b, g.signs) != (sa if op == "add" else -sa):
            return None
        _SPLIT_DEPTH[0] += 1
        try:
            return (op, (g.add(reduction, (a,), params), g.add(reduction, (b,), params)), {})
        finally:
            _SPLIT_DEPTH[0] -= 1
    return split


for _r in ("sum", "mean"):
    rule(_r, "reassociate", f"{_r}(a + b) -> {_r}(a) + {_r}(b)")(_split_sum("add"))
    rule(_r, "reassociate", f"{_r}(a - b) -> {_r}(a) - {_r}(b)")(_split_sum("sub"))
