"""The rewrite rules, one registry: each names its op, its pass and itself.

A rule sees the graph being built and a node about to be added (op, operands,
params) whose operands are already rewritten; it returns an existing node to use
instead, a new ``(op, args, params)`` to build instead, or None. ``passes.py`` runs
them; ``g.uses`` tells how many consumers a node of the graph being read has.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..ops import Trait
from .view import Reader, RuleView

Rewrite = str | tuple[str, tuple[str, ...], dict] | None
Rule = Callable[[RuleView, tuple[str, ...], dict], Rewrite]
RULES: dict[str, list[tuple[str, str, Rule]]] = {}
"""op -> [(pass, rewrite name, rule)]: a rule returns an existing node, a new
(op, args, params) to build instead, or None."""


def rule(op: str, kind: str, name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES.setdefault(op, []).append((kind, name, fn))
        return fn
    return register


def const_value(g: Reader, name: str) -> Any:
    """The value of const node ``name``."""
    return g.attrs(name)["params"]["value"]


def _is(g: Reader, name: str, value: float) -> bool:
    return g.is_const(name) and const_value(g, name) == value


def _op(g: Reader, name: str) -> str:
    return g.attrs(name)["op"]


def _swap(args: tuple[str, ...], k: int, new: str) -> tuple[str, ...]:
    """``args`` with its k-th operand replaced."""
    return args[:k] + (new,) + args[k + 1:]


def _scalar_const(g: Reader, name: str, value: float) -> bool:
    return _is(g, name, value) and g.shape(name) == ()


def _boolean(g: Reader, name: str) -> bool:
    """A comparison's array of bools: ``b * 1.0`` is a number, ``b`` is not."""
    return g.op_named(_op(g, name)).dtype == "bool"


# ---- identities -------------------------------------------------------------------
@rule("add", "identities", "x + -y -> x - y")
def _add_neg(g: RuleView, args: tuple, params: dict) -> Rewrite:
    for mine, other in ((1, 0), (0, 1)):
        if _op(g, args[mine]) == "neg":
            return ("sub", (args[other], g.args(args[mine])[0]), {})
    return None


@rule("add", "identities", "x + x -> 2 * x")
def _twice(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """An array added to itself is doubled: the 2 can then meet other constants
    (d(x @ x) = x_bar x + x_bar x = 2 x_bar x)."""
    if args[0] == args[1] and _known_array(g, args[0]):
        return ("mul", (g.const(2.0), args[0]), {})
    return None


@rule("add", "identities", "x + 0 -> x")
def _add_zero(g: RuleView, args: tuple, params: dict) -> Rewrite:
    for mine, other in ((1, 0), (0, 1)):
        if _scalar_const(g, args[mine], 0.0) and not _boolean(g, args[other]):
            return args[other]
    return None


@rule("sub", "identities", "x - 0 -> x")
def _sub_zero(g: RuleView, args: tuple, params: dict) -> Rewrite:
    if _scalar_const(g, args[1], 0.0) and not _boolean(g, args[0]):
        return args[0]
    if _scalar_const(g, args[0], 0.0) and not _boolean(g, args[1]):
        return ("neg", (args[1],), {})
    return None


@rule("mul", "identities", "x * 1 -> x")
def _mul_one(g: RuleView, args: tuple, params: dict) -> Rewrite:
    for mine, other in ((0, 1), (1, 0)):
        if _boolean(g, args[other]):
            continue
        if _scalar_const(g, args[mine], 1.0):
            return args[other]
        if _scalar_const(g, args[mine], -1.0):
            return ("neg", (args[other],), {})
    return None


@rule("mul", "identities", "x * where(c, a, b) -> where(c, x * a, x * b)")
def _into_choice(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """A choice between constants (relu's, abs's derivative), times an array: the array
    chosen, scaled. The same numbers (x * 0 stays x * 0), and the dtype is x's, where
    np.where(c, 1.0, 0.0) alone is a float64 array."""
    for mine, other in ((0, 1), (1, 0)):
        choice, x = args[mine], args[other]
        if _op(g, choice) in ("where", "choose") and _known_array(g, x) \
                and _op(g, x) != "broadcast_like" and g.shape(x) == g.shape(choice) \
                and not g.elastic(choice):
            c, a, b = g.args(choice)[:3]
            if g.is_const(a) and g.is_const(b):
                return ("where", (c, g.add("mul", (x, a)), g.add("mul", (x, b))), {})
    return None


@rule("div", "identities", "x / 1 -> x")
@rule("pow", "identities", "x ** 1 -> x")
def _by_one(g: RuleView, args: tuple, params: dict) -> Rewrite:
    return args[0] if _scalar_const(g, args[1], 1.0) and not _boolean(g, args[0]) else None


@rule("neg", "identities", "--x -> x")
def _neg_neg(g: RuleView, args: tuple, params: dict) -> Rewrite:
    return g.args(args[0])[0] if _op(g, args[0]) == "neg" else None


def _pull_sign(op: str) -> Rule:
    """(-a) op b -> -(a op b): the minus can then meet another (x + -y, --x)."""
    def pull(g: RuleView, args: tuple, params: dict) -> Rewrite:
        for k in (0, 1):
            if _op(g, args[k]) == "neg":
                return ("neg", (g.add(op, _swap(args, k, g.args(args[k])[0])),), {})
        return None
    return pull


rule("mul", "identities", "(-a) * b -> -(a * b)")(_pull_sign("mul"))
rule("div", "identities", "(-a) / b -> -(a / b)")(_pull_sign("div"))


@rule("sub", "identities", "x - -y -> x + y")
def _sub_neg(g: RuleView, args: tuple, params: dict) -> Rewrite:
    if _op(g, args[1]) == "neg":
        return ("add", (args[0], g.args(args[1])[0]), {})
    return None


@rule("neg", "identities", "-(c * x) -> (-c) * x")
def _neg_into_constant(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """A sign that meets a constant costs no pass over an array (``-(400 * x)``)."""
    inner = args[0]
    if _op(g, inner) == "mul" and g.uses.get(inner, 1) == 1 and _known_array(g, inner):
        for k in (0, 1):
            c = g.args(inner)[k]
            if g.is_const(c) and g.shape(c) == ():
                return ("mul", (g.const(-const_value(g, c)), g.args(inner)[1 - k]), {})
    return None


@rule("mul", "identities", "x * (c / y) -> (x / y) * c")
def _by_reciprocal(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """An array times a constant over an array is a quotient: one pass, and no array
    of reciprocals to keep when every product does it (d log p = 1 / p); the constant
    moves on outward. A scalar x stays: it is gathered with other scalars first."""
    for mine, other in ((0, 1), (1, 0)):
        r = args[mine]
        if _op(g, r) == "div" and g.is_const(g.args(r)[0]) and g.shape(g.args(r)[0]) == () \
                and _known_array(g, g.args(r)[1]) and _known_array(g, args[other]):
            return ("mul", (g.add("div", (args[other], g.args(r)[1])), g.args(r)[0]), {})
    return None


@rule("mul", "identities", "c1 * (c2 * x) -> (c1 c2) * x")
def _constants_together(g: RuleView, args: tuple, params: dict) -> Rewrite:
    for mine, other in ((0, 1), (1, 0)):
        c, inner = args[mine], args[other]
        if g.is_const(c) and g.shape(c) == () and _op(g, inner) == "mul":
            for k in (0, 1):
                c2 = g.args(inner)[k]
                if g.is_const(c2) and g.shape(c2) == ():
                    both = _product(const_value(g, c), const_value(g, c2))
                    if both is None:
                        return None
                    return ("mul", (g.const(both), g.args(inner)[1 - k]), {})
    return None


_FLOAT32 = np.finfo(np.float32)
_TINY, _MAX = float(_FLOAT32.tiny), float(_FLOAT32.max)


def _product(c1: float, c2: float) -> float | None:
    """c1 * c2 when multiplying by it rounds like multiplying by c2, then by c1: a
    number float32 holds at full precision, or an exact zero. 1e30 * 1e30 would be inf
    where 1e30 * (1e30 * 1e-40) is 1e20; 1e-30 * 1e-30 would lose every digit in
    float32 (where the arrays may be)."""
    both = float(c1) * float(c2)
    if both == 0.0 and (c1 == 0.0 or c2 == 0.0):
        return both
    if math.isfinite(both) and _TINY <= abs(both) <= _MAX:
        return both
    return None


# ---- the Pythagorean identity: sin(x)^2 + cos(x)^2 = 1 -------------------------------
_PARTNER = {"sin": "cos", "cos": "sin"}


def _trig_square(g: Reader, name: str) -> tuple[str, str] | None:
    """``(op, x)`` when node ``name`` is sin(x)**2 or cos(x)**2 (as t * t or t ** 2)."""
    op = _op(g, name)
    if not (op == "mul" and g.args(name)[0] == g.args(name)[1]
            or op == "pow" and _scalar_const(g, g.args(name)[1], 2.0)):
        return None
    t = g.args(name)[0]
    return (_op(g, t), g.args(t)[0]) if _op(g, t) in _PARTNER else None


@rule("sub", "identities", "1 - sin(x)**2 -> cos(x)**2")
def _one_minus_trig_square(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """One pass instead of two when cos(x) is at hand (it is, in the derivative of
    sin(x) * cos(x)): cos(x)**2 is then often made already (common subexpressions)."""
    found = _trig_square(g, args[1]) if _scalar_const(g, args[0], 1.0) else None
    if found is None or not _known_array(g, args[1]):
        return None
    partner = g.add(_PARTNER[found[0]], (found[1],))
    return ("mul", (partner, partner), {})


@rule("add", "identities", "(a - sin(x)**2) + 1 -> a + cos(x)**2")
def _regroup_for_trig(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """The 1 meets the square it cancels: cos² - sin² + 1 = cos² + cos² = 2 cos²."""
    for k in (0, 1):
        diff, one = args[k], args[1 - k]
        if _op(g, diff) == "sub" and _scalar_const(g, one, 1.0) \
                and _trig_square(g, g.args(diff)[1]) is not None and _known_array(g, diff):
            a, square = g.args(diff)
            return ("add", (a, g.add("sub", (one, square))), {})
    return None


# ---- reassociate: constants and scalars move out, so they meet and arrays do less ----
def _true_scalar(g: Reader, name: str) -> bool:
    return g.shape(name) == () and not g.elastic(name)


def _known_array(g: Reader, name: str) -> bool:
    """An array now, whatever the call: a static shape with axes, none decided later."""
    return g.shape(name) != () and not g.elastic(name)


def _scaled(g: Reader, name: str) -> tuple[str, str, str] | None:
    """``(x, s, op)`` when node ``name`` is a known array x times (op "mul") or divided
    by (op "div") a true scalar s."""
    if not _known_array(g, name) or _op(g, name) not in ("mul", "div"):
        return None
    op = _op(g, name)
    a, b = g.args(name)
    if _true_scalar(g, b) and g.shape(a) == g.shape(name):
        return a, b, op
    if op == "mul" and _true_scalar(g, a) and g.shape(b) == g.shape(name):
        return b, a, op
    return None


def _combinable(g: Reader, op: str, s: str, r: str) -> bool:
    """Whether scalars ``s op r`` may be made one factor: not two constants whose product
    or quotient float32 cannot hold (see ``_product``)."""
    if not (g.is_const(s) and g.is_const(r)):
        return True
    a, b = float(const_value(g, s)), float(const_value(g, r))
    if op == "div":
        if b == 0.0 or not math.isfinite(b):
            return False
        b = 1.0 / b if abs(1.0 / b) <= _MAX else math.inf
    return _product(a, b) is not None


def _together(g: Reader, first: tuple[str, str], second: tuple[str, str]
              ) -> tuple[str, str] | None:
    """Two scalar factors ``(op, s)`` as one: ``* s * r -> * (s * r)``, ``* s / r -> * (s / r)``,
    ``/ s * r -> * (r / s)``, ``/ s / r -> / (s * r)``; None for two constants that
    would not make one (``_combinable``)."""
    (op1, s), (op2, r) = first, second
    if op1 == op2 and not _combinable(g, "mul", s, r) or op1 != op2 \
            and not _combinable(g, "div", *((s, r) if op1 == "mul" else (r, s))):
        return None
    if op1 == op2:
        return op1, g.add("mul", (s, r))
    return "mul", g.add("div", (s, r) if op1 == "mul" else (r, s))


def _single(g: RuleView, name: str) -> tuple[str, str, str] | None:
    """``_scaled`` of a node nothing else uses: taking its scalar out costs no pass."""
    return _scaled(g, name) if g.uses.get(name, 1) == 1 else None


@rule("mul", "reassociate", "(x * s) * y -> (x * y) * s")
def _scalars_first(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """True scalars meet each other before they meet an array, and move out of products
    of arrays: ``(x * s) * t -> x * (s * t)``, ``(x * s) * (y / r) -> (x * y) * (s / r)``.
    Each array is then touched once, and a sum can take the scalar out (P6's gradient).
    An operand used elsewhere is split only to merge scalars (which costs no pass);
    splitting it between two arrays would compute x * y besides x * s."""
    for k in (0, 1):
        found, other = _scaled(g, args[k]), args[1 - k]
        if found is not None and _true_scalar(g, other):
            both = _together(g, (found[2], found[1]), ("mul", other))
            return None if both is None else (both[0], (found[0], both[1]), {})
    if not (_known_array(g, args[0]) and _known_array(g, args[1])):
        return None
    parts = [_single(g, a) for a in args]
    if parts == [None, None]:
        return None
    factors = [(p[2], p[1]) for p in parts if p is not None]
    both = factors[0] if len(factors) == 1 else _together(g, *factors)
    if both is None:
        return None
    op, s = both
    arrays = tuple(a if p is None else p[0] for a, p in zip(args, parts))
    return (op, (g.add("mul", arrays), s), {})


@rule("div", "reassociate", "(x * s) / y -> (x / y) * s")
def _scalars_first_div(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """Division's cases of the rule above: ``(x * s) / t -> x * (s / t)``,
    ``t / (y * r) -> (t / r) / y``, ``(x * s) / (y / r) -> (x / y) * (s * r)``."""
    a, b = args
    top, bottom = _scaled(g, a), _scaled(g, b)
    if top is not None and _true_scalar(g, b):
        both = _together(g, (top[2], top[1]), ("div", b))
        return None if both is None else (both[0], (top[0], both[1]), {})
    if bottom is not None and _true_scalar(g, a) \
            and _combinable(g, "div" if bottom[2] == "mul" else "mul", a, bottom[1]):
        return ("div", (g.add("div" if bottom[2] == "mul" else "mul", (a, bottom[1])),
                        bottom[0]), {})
    if not (_known_array(g, a) and _known_array(g, b)):
        return None
    top, bottom = _single(g, a), _single(g, b)
    if top is None and bottom is None:
        return None
    flipped = {"mul": "div", "div": "mul"}  # dividing by (y * r) divides by r
    factors = ([] if top is None else [(top[2], top[1])]) + \
        ([] if bottom is None else [(flipped[bottom[2]], bottom[1])])
    both = factors[0] if len(factors) == 1 else _together(g, *factors)
    if both is None:
        return None
    op, s = both
    arrays = (a if top is None else top[0], b if bottom is None else bottom[0])
    return (op, (g.add("div", arrays), s), {})


@rule("pow", "reassociate", "(x * s) ** k -> x ** k * s ** k")
def _scalar_out_of_power(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """A true scalar leaves an integer power of an array: ``(x / s) ** 2`` is
    ``x ** 2 / s ** 2``, and the division by ``s ** 2`` can then meet other scalars
    (P6's ``-0.5 * ((x - m) / s) ** 2`` scales ``(x - m) ** 2`` once, a pass fewer).
    Integer powers only: ``(x * s) ** 0.5`` is real where ``x ** 0.5`` may not be."""
    base, k = args
    found = _single(g, base)
    if found is None or not (g.is_const(k) and g.shape(k) == ()):
        return None
    value = const_value(g, k)
    if not (isinstance(value, (int, float)) and float(value).is_integer()):
        return None
    x, s, op = found
    if g.is_const(s):
        with np.errstate(all="ignore"):
            power = float(np.float64(const_value(g, s)) ** float(value))
        if _product(power, 1.0) is None:
            return None  # (x * 1e-20) ** 2: 1e-40 is no float32 number
    return (op, (g.add("pow", (x, k)), g.add("pow", (s, k))), {})


@rule("mul", "reassociate", "x * (c * y) -> (x * y) * c")
def _constant_outward(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """The constant moves out to meet other constants. An array ``c * y`` used
    elsewhere stays: it is made anyway, and splitting it would make ``x * y`` too."""
    for k in (0, 1):
        inner, other = args[k], args[1 - k]
        if _op(g, inner) == "mul" and not g.is_const(other):
            if _true_scalar(g, inner) and _known_array(g, other):
                continue  # x * (c * s): the scalars stay together, x is touched once
            if _known_array(g, inner) and g.uses.get(inner, 1) != 1:
                continue
            for j in (0, 1):
                c = g.args(inner)[j]
                if g.is_const(c) and g.shape(c) == ():
                    return ("mul", (g.add("mul", (other, g.args(inner)[1 - j])), c), {})
    return None


def _factor(op: str) -> Rule:
    """s*a + s*b -> s*(a + b) for a true scalar s (or constants of opposite sign:
    c*a + (-c)*b -> c*(a - b)): one pass fewer over the arrays. Products used
    elsewhere stay, since they are made anyway."""
    flip = {"add": "sub", "sub": "add"}

    def factor(g: RuleView, args: tuple, params: dict) -> Rewrite:
        if not _known_array(g, args[0]):
            return None
        parts = [_single(g, a) for a in args]
        if None in parts or parts[0][2] != "mul" or parts[1][2] != "mul":
            return None
        (a, s, _), (b, r, _) = parts
        if g.shape(a) != g.shape(b):
            return None
        if s == r:
            return ("mul", (g.add(op, (a, b)), s), {})
        if g.is_const(s) and g.is_const(r) and const_value(g, s) == -const_value(g, r):
            return ("mul", (g.add(flip[op], (a, b)), s), {})
        return None
    return factor


rule("add", "reassociate", "s*a + s*b -> s*(a + b)")(_factor("add"))
rule("sub", "reassociate", "s*a - s*b -> s*(a - b)")(_factor("sub"))


def _alike_arrays(g: Reader, names: tuple[str, ...] | list[str]) -> bool:
    """Known arrays of one shape, none a seed of ones or a broadcast (the broadcasts
    pass removes those): regrouping them changes no broadcast."""
    shape = g.shape(names[0])
    return all(_known_array(g, n) and g.shape(n) == shape
               and _op(g, n) not in ("ones_like", "broadcast_like") for n in names)


@rule("mul", "reassociate", "(a * b) * c -> a * (b * c), earlier factors first")
def _earlier_first(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """Of three array factors, the two made earlier meet first: in a gradient,
    ``(x_bar * c) * c -> x_bar * (c * c)``, a product of forward values that can be
    made while they are fresh (and then freed), and a common factor ``x_bar`` for
    the sum it goes into."""
    if not _known_array(g, args[0]):
        return None
    for k in (0, 1):
        inner, c = args[k], args[1 - k]
        if _op(g, inner) != "mul" or g.uses.get(inner, 1) != 1:
            continue
        a, b = g.args(inner)
        latest, other = (a, b) if g.position(a) >= g.position(b) else (b, a)
        if g.position(latest) > g.position(c) and _alike_arrays(g, (a, b, c)):
            return ("mul", (latest, g.add("mul", (other, c))), {})
    return None


def _array_factor(op: str) -> Rule:
    """a*x + a*y -> a*(x + y) for arrays of one shape (also a*x + a -> a*(x + 1)):
    one pass fewer, and in a gradient the part that is only forward values can be
    made during the forward sweep. Products used elsewhere stay."""
    def factor(g: RuleView, args: tuple, params: dict) -> Rewrite:
        if not (_known_array(g, args[0]) and _alike_arrays(g, args)):
            return None
        terms = []
        for t in args:  # (the factors of each term, whether it is a product used once)
            single = _op(g, t) == "mul" and g.uses.get(t, 1) == 1
            terms.append((g.args(t) if single else (t,), single))
        if not (terms[0][1] or terms[1][1]):
            return None
        for a in dict.fromkeys(terms[0][0]):
            if a in terms[1][0] and _alike_arrays(g, terms[0][0] + terms[1][0]):
                rest = [_other(g, t, a) if single else g.const(1.0) for t, single in
                        zip(args, (terms[0][1], terms[1][1]))]
                return ("mul", (a, g.add(op, tuple(rest))), {})
        return None
    return factor


def _other(g: Reader, product: str, factor: str) -> str:
    x, y = g.args(product)
    return y if x == factor else x


rule("add", "reassociate", "a*x + a*y -> a*(x + y) for arrays")(_array_factor("add"))
rule("sub", "reassociate", "a*x - a*y -> a*(x - y) for arrays")(_array_factor("sub"))


def _scalar_out_of(reduction: str, op: str) -> Rule:
    """sum(x * s) -> sum(x) * s for a true scalar s: one multiplication, not one per
    element (division alike)."""
    def pull(g: RuleView, args: tuple, params: dict) -> Rewrite:
        inner = args[0]
        if _op(g, inner) == op and g.uses.get(inner, 1) == 1:  # else the product stays
            for k in ((0, 1) if op == "mul" else (1,)):
                s, x = g.args(inner)[k], g.args(inner)[1 - k]
                if _true_scalar(g, s) and g.shape(x) == g.shape(inner):
                    return (op, (g.add(reduction, (x,), params), s), {})
        if op == "mul" and _op(g, inner) == "neg":
            return ("neg", (g.add(reduction, g.args(inner), params),), {})
        return None
    return pull


def _scaled_factor_out_of(reduction: str) -> Rule:
    """sum((x * s) * y) -> sum(x * y) * s even when x * s is used elsewhere: the
    product inside the sum is made anyway (or becomes a dot), now without the scalar."""
    def pull(g: RuleView, args: tuple, params: dict) -> Rewrite:
        inner = args[0]
        if _op(g, inner) != "mul" or g.uses.get(inner, 1) != 1 \
                or not all(_known_array(g, a) for a in g.args(inner)):
            return None
        for k in (0, 1):
            found, other = _scaled(g, g.args(inner)[k]), g.args(inner)[1 - k]
            if found is not None:
                x, s, op = found
                return (op, (g.add(reduction, (g.add("mul", (x, other)),), params), s), {})
        return None
    return pull


for _r in ("sum", "mean"):
    rule(_r, "reassociate", f"{_r}(x * scalar) -> {_r}(x) * scalar")(_scalar_out_of(_r, "mul"))
    rule(_r, "reassociate", f"{_r}(x / scalar) -> {_r}(x) / scalar")(_scalar_out_of(_r, "div"))
    rule(_r, "reassociate", f"{_r}((x * s) * y) -> {_r}(x * y) * s")(_scaled_factor_out_of(_r))


@rule("sum", "reassociate", "sum(x * y) -> x @ y")  # and sum(x ** 2) -> x @ x
def _dot(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """A sum over every element of a product of two vectors of one known shape is their
    dot product: one BLAS call, no product array."""
    inner = args[0]
    if _op(g, inner) not in ("mul", "pow") or g.uses.get(inner, 1) != 1 \
            or params["keepdims"] or params["axis"] not in (None, 0, -1, (0,), (-1,)):
        return None
    x, y = g.args(inner)
    if _boolean(g, x) or _boolean(g, y):
        return None  # a bool @ x: its adjoint would be bools times a Python float
    if _op(g, inner) == "pow":  # sum(x ** 2) = x @ x
        if not _scalar_const(g, y, 2.0):
            return None
        y = x
    if len(g.shape(x)) == 1 and g.shape(x) == g.shape(y) \
            and not g.elastic(x) and not g.elastic(y):
        return ("matmul", (x, y), {})
    return None


def _sign_operands(g: Reader, name: str) -> tuple[str, ...]:
    """The operands whose signs decide node ``name``'s."""
    op = _op(g, name)
    if op in ("mul", "div", "add", "sub", "neg", "maximum") and not _even_power(g, name):
        return g.args(name)
    if (op in ("pow", "sum", "mean") or Trait.IDENTITY in g.op_named(op).traits) \
            and g.args(name):
        return g.args(name)[:1]
    return ()


def _even_power(g: Reader, name: str) -> bool:
    """x ** k for an even integer constant k, or x * x."""
    op, args = _op(g, name), g.args(name)
    if op == "mul":
        return args[0] == args[1]
    if op != "pow" or not g.is_const(args[1]) or g.shape(args[1]) != ():
        return False
    return float(const_value(g, args[1])) % 2 == 0


def _sign_rule(g: Reader, name: str, signs: dict[str, int]) -> int:
    op = _op(g, name)
    if op == "const":
        value = np.asarray(const_value(g, name))
        return 1 if np.all(value >= 0) else -1 if np.all(value <= 0) else 0
    if Trait.NONNEGATIVE in g.op_named(op).traits or _even_power(g, name):
        return 1
    s = [signs[a] for a in _sign_operands(g, name)]
    if op in ("mul", "div"):
        return s[0] * s[1]
    if op == "neg":
        return -s[0]
    if op in ("add", "sub"):
        b = s[1] if op == "add" else -s[1]
        return s[0] if s[0] == b else 0
    if op == "maximum":
        return 1 if 1 in s else 0
    if op == "pow":
        return 1 if s[0] == 1 else 0
    return s[0] if s else 0  # sum, mean and the identities keep the sign


def sign_of(g: Reader, name: str, signs: dict[str, int] | None = None) -> int:
    """1 when node ``name`` is never negative, -1 when never positive, 0 when not known
    (NaN aside); ``signs`` (by default the graph's own ``signs``, if it has one)
    remembers the nodes already seen. A sum of terms of one sign cannot cancel:
    ``sum(a + b)`` and ``sum(a) + sum(b)`` then round by the same order
    (docs/performance.md)."""
    if signs is None:
        signs = getattr(g, "signs", None)
        if signs is None:
            signs = {}
    stack = [name]
    while stack:  # a loop, not recursion: a chain of 100,000 adds is fine
        n = stack[-1]
        if n in signs:
            stack.pop()
            continue
        pending = [a for a in _sign_operands(g, n) if a not in signs]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        signs[n] = _sign_rule(g, n, signs)
    return signs[name]


_SPLIT_DEPTH = [0]
"""How many splits are under way: each splits its parts in turn, a Python call deeper
(one count for all threads: a compile running beside another may split less)."""


def _split_sum(reduction: str, op: str) -> Rule:
    """sum(a + b) -> sum(a) + sum(b) for a and b of one shape: each is read once and
    no sum array is made; the parts can then become dots or lose their scalars. Only
    for terms that cannot cancel (a and b of one sign, as Rosenbrock's squares): else
    sum(x - y) with y = x + 2e-4 and x near 1e4 is 0.0 in float32, the difference of
    two sums of 1e4s. Not deeper than 100 terms into a chain (a sum of 500 would
    exhaust Python's stack)."""
    def split(g: RuleView, args: tuple, params: dict) -> Rewrite:
        inner = args[0]
        if _op(g, inner) != op or g.uses.get(inner, 1) != 1 or not _known_array(g, inner) \
                or _SPLIT_DEPTH[0] >= 100:
            return None
        a, b = g.args(inner)
        if g.shape(a) != g.shape(inner) or g.shape(b) != g.shape(inner) \
                or g.elastic(a) or g.elastic(b):
            return None
        sa = sign_of(g, a)
        if sa == 0 or sign_of(g, b) != (sa if op == "add" else -sa):
            return None
        _SPLIT_DEPTH[0] += 1
        try:
            return (op, (g.add(reduction, (a,), params), g.add(reduction, (b,), params)), {})
        finally:
            _SPLIT_DEPTH[0] -= 1
    return split


for _r in ("sum", "mean"):
    rule(_r, "reassociate", f"{_r}(a + b) -> {_r}(a) + {_r}(b)")(_split_sum(_r, "add"))
    rule(_r, "reassociate", f"{_r}(a - b) -> {_r}(a) - {_r}(b)")(_split_sum(_r, "sub"))


# ---- broadcasts: the ones seed and broadcast views move out of the way -------------
@rule("mul", "broadcasts", "ones * x -> broadcast x")
def _times_ones(g: RuleView, args: tuple, params: dict) -> Rewrite:
    for mine, other in ((0, 1), (1, 0)):
        if _op(g, args[mine]) == "ones_like":
            return ("broadcast_like", (args[other], args[mine]), {})
    return None


def _pull_broadcast(op: str) -> Rule:
    """broadcast(a) op b -> broadcast(a op b): the broadcast view waits until the end."""
    def pull(g: RuleView, args: tuple, params: dict) -> Rewrite:
        for k in ((0, 1) if op == "mul" else (0,)):
            if _op(g, args[k]) == "broadcast_like":
                inner, like = g.args(args[k])
                return ("broadcast_like", (g.add(op, _swap(args, k, inner)), like), {})
        return None
    return pull


rule("mul", "broadcasts", "broadcast(a) * b -> broadcast(a * b)")(_pull_broadcast("mul"))
rule("div", "broadcasts", "broadcast(a) / b -> broadcast(a / b)")(_pull_broadcast("div"))


def _join_broadcasts(op: str) -> Rule:
    """broadcast(a, y) op broadcast(b, y) -> broadcast(a op b, y)."""
    def join(g: RuleView, args: tuple, params: dict) -> Rewrite:
        if all(_op(g, a) == "broadcast_like" for a in args):
            (a, y), (b, z) = (g.args(x) for x in args)
            if y == z:
                return ("broadcast_like", (g.add(op, (a, b)), y), {})
        return None
    return join


rule("add", "broadcasts", "broadcast(a) + broadcast(b) -> broadcast(a + b)")(
    _join_broadcasts("add"))
rule("sub", "broadcasts", "broadcast(a) - broadcast(b) -> broadcast(a - b)")(
    _join_broadcasts("sub"))


@rule("broadcast_like", "broadcasts", "broadcast to ones_like(y) -> broadcast to y")
def _like_ones(g: RuleView, args: tuple, params: dict) -> Rewrite:
    if _op(g, args[1]) == "ones_like":
        return ("broadcast_like", (args[0], g.args(args[1])[0]), {})
    return None


def _ones_to_one(op: str) -> Rule:
    """x + ones_like(y) -> broadcast(x + 1.0, y): a scalar instead of an array of ones."""
    def swap(g: RuleView, args: tuple, params: dict) -> Rewrite:
        for k in (0, 1):
            if _op(g, args[k]) == "ones_like":
                return ("broadcast_like", (g.add(op, _swap(args, k, g.const(1.0))),
                                           g.args(args[k])[0]), {})
        return None
    return swap


rule("add", "broadcasts", "x + ones -> broadcast(x + 1)")(_ones_to_one("add"))
rule("sub", "broadcasts", "x - ones -> broadcast(x - 1)")(_ones_to_one("sub"))


@rule("neg", "broadcasts", "-broadcast(a) -> broadcast(-a)")
def _neg_broadcast(g: RuleView, args: tuple, params: dict) -> Rewrite:
    if _op(g, args[0]) == "broadcast_like":
        inner, like = g.args(args[0])
        return ("broadcast_like", (g.add("neg", (inner,)), like), {})
    return None


@rule("broadcast_like", "broadcasts", "broadcast to its own shape -> x")
@rule("sum_to", "broadcasts", "sum to its own shape -> x")
def _same_shape(g: RuleView, args: tuple, params: dict) -> Rewrite:
    x, like = args
    if g.elastic(x) or g.elastic(like):
        return None  # shapes known only at call time
    if g.shape(x) == g.shape(like) or g.shape(x) == () and _op(g, like) == "ones_like" \
            and g.shape(like) == ():
        return x
    return None


@rule("ones_like", "broadcasts", "ones_like(scalar) -> 1.0")
def _scalar_ones(g: RuleView, args: tuple, params: dict) -> Rewrite:
    x = args[0]
    if g.shape(x) == () and not g.elastic(x):
        return g.const(1.0)  # a Python float: NumPy keeps the output's float32
    return None


@rule("add", "broadcasts", "x + unslice(g) -> add_slice(x, g)")
def _add_unslice(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """Add a slice's adjoint into x where it belongs, instead of padding it with zeros."""
    for mine, other in ((1, 0), (0, 1)):
        x = args[mine]
        if _op(g, x) == "unslice" and not g.elastic(x) and not g.elastic(args[other]) \
                and g.shape(args[other]) == g.shape(x):
            return ("add_slice", (args[other], g.args(x)[0]), dict(g.attrs(x)["params"]))
    return None


# ---- numerically stable forms --------------------------------------------------------
@rule("div", "stable", "1 / (1 + exp(-z)) -> sigmoid(z)")
def _sigmoid(g: RuleView, args: tuple, params: dict) -> Rewrite:
    """The hand-written logistic becomes the op, so its derivative is f * (1 - f): two
    passes over f instead of 1 / t**2 * exp(-z), and no inf * 0 for very negative z.
    The value is computed exactly as written. Not when the exp or the sum is needed
    elsewhere: the sigmoid would compute the exp a second time."""
    one, denominator = args
    if not _scalar_const(g, one, 1.0) or _op(g, denominator) != "add" \
            or g.uses.get(denominator, 1) != 1:
        return None
    for k in (0, 1):
        e, c = g.args(denominator)[k], g.args(denominator)[1 - k]
        if _scalar_const(g, c, 1.0) and _op(g, e) == "exp" and g.uses.get(e, 1) == 1:
            return ("sigmoid", (g.add("neg", g.args(e)),), {})  # 1 / (1 + exp(z)) too
    return None


@rule("log", "stable", "log(sigmoid(x)) -> -softplus(-x)")
def _log_sigmoid(g: RuleView, args: tuple, params: dict) -> Rewrite:
    x = args[0]
    if _op(g, x) == "sigmoid":
        return ("neg", (g.add("softplus", (g.add("neg", g.args(x)),)),), {})
    if _op(g, x) == "sub" and _scalar_const(g, g.args(x)[0], 1.0) \
            and _op(g, g.args(x)[1]) == "sigmoid":
        return ("neg", (g.add("softplus", g.args(g.args(x)[1])),), {})  # log(1 - sigmoid)
    return None


@rule("log", "stable", "log(sum(exp(x))) -> logsumexp(x)")
def _log_sum_exp(g: RuleView, args: tuple, params: dict) -> Rewrite:
    s = args[0]
    if _op(g, s) == "sum" and _op(g, g.args(s)[0]) == "exp":
        p = g.attrs(s)["params"]
        return ("logsumexp", g.args(g.args(s)[0]), {"axis": p["axis"],
                                                    "keepdims": p["keepdims"]})
    return None


@rule("log", "stable", "log(softmax(x)) -> log_softmax(x)")
def _log_softmax(g: RuleView, args: tuple, params: dict) -> Rewrite:
    if _op(g, args[0]) == "softmax":
        return ("log_softmax", g.args(args[0]), dict(g.attrs(args[0])["params"]))
    return None


@rule("log", "stable", "log(exp(x)) -> x")
def _log_exp(g: RuleView, args: tuple, params: dict) -> Rewrite:
    return g.args(args[0])[0] if _op(g, args[0]) == "exp" else None


@rule("neg", "stable", "-mean(sum(y * log_softmax(x))) -> cross_entropy(x, y)")
def _cross_entropy(g: RuleView, args: tuple, params: dict) -> Rewrite:
    m = args[0]
    if _op(g, m) != "mean" or g.attrs(m)["params"]["axis"] not in (None, 0, -1):
        return None
    s = g.args(m)[0]
    if _op(g, s) != "sum" or g.attrs(s)["params"]["axis"] not in (-1, 1) \
            or g.attrs(s)["params"]["keepdims"] or len(g.shape(g.args(s)[0])) != 2:
        return None
    prod = g.args(s)[0]
    if _op(g, prod) != "mul":
        return None
    for k in (0, 1):
        ls = g.args(prod)[k]
        if _op(g, ls) == "log_softmax" and g.attrs(ls)["params"]["axis"] in (-1, 1):
            labels, logits = g.args(prod)[1 - k], g.args(ls)[0]
            if g.shape(labels) == g.shape(logits):
                return ("cross_entropy", (logits, labels), {})
    return None
