"""The identities pass: a node that equals a simpler one (``x + 0``, ``--x``,
``1 - sin(x)**2``), and signs and constants gathered where they cost no pass."""

from __future__ import annotations

from .base import (
    Rewrite,
    RuleView,
    boolean,
    const_value,
    constant_factor,
    constant_product,
    known_array,
    op_of,
    pulled,
    rule,
    scalar_const,
)


@rule("add", "identities", "x + -y -> x - y")
def _add_neg(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    for x, minus in (args, args[::-1]):
        if op_of(g, minus) == "neg":
            return ("sub", (x, g.args(minus)[0]), {})
    return None


@rule("add", "identities", "x + x -> 2 * x")
def _twice(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """The 2 can then meet other constants (d(x @ x) = x_bar x + x_bar x)."""
    if args[0] == args[1] and known_array(g, args[0]):
        return ("mul", (g.const(2.0), args[0]), {})
    return None


@rule("add", "identities", "x + 0 -> x")
@rule("sub", "identities", "x - 0 -> x")
def _zero(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    for k, (x, zero) in enumerate((args, args[::-1])):
        if scalar_const(g, zero, 0.0) and not boolean(g, x):
            return ("neg", (x,), {}) if op == "sub" and k else x  # 0 - x
    return None


@rule("mul", "identities", "x * 1 -> x")
def _mul_one(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    for one, x in (args, args[::-1]):
        if not boolean(g, x) and scalar_const(g, one, 1.0):
            return x
        if not boolean(g, x) and scalar_const(g, one, -1.0):
            return ("neg", (x,), {})
    return None


@rule("mul", "identities", "x * where(c, a, b) -> where(c, x * a, x * b)")
def _into_choice(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """A choice between constants (relu's derivative) times an array: the same numbers
    in x's dtype, where np.where(c, 1.0, 0.0) alone is a float64 array."""
    for choice, x in (args, args[::-1]):
        if op_of(g, choice) in ("where", "choose") and known_array(g, x) \
                and op_of(g, x) != "broadcast_like" and g.shape(x) == g.shape(choice) \
                and not g.elastic(choice):
            c, a, b = g.args(choice)[:3]
            if scalar_const(g, a, 1.0) and scalar_const(g, b, 0.0) and boolean(g, c) \
                    and op_of(g, x) not in ("where", "choose", "as_float"):
                # (not a choice or a cast mask: as_float prints as the booleans it casts,
                # and a printed bool * bool would read back as a logical and)
                # x times the mask in x's dtype: the same bits as np.where(c, x, x * 0.0)
                # (NaN, inf and -0.0 included) at a product's cost, not where's
                return ("mul", (x, g.add("as_float", (c, x))), {})
            if g.is_const(a) and g.is_const(b):
                return ("where", (c, g.add("mul", (x, a)), g.add("mul", (x, b))), {})
    return None


@rule("div", "identities", "x / 1 -> x")
@rule("pow", "identities", "x ** 1 -> x")
def _by_one(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    return args[0] if scalar_const(g, args[1], 1.0) and not boolean(g, args[0]) else None


@rule("neg", "identities", "--x -> x")
def _neg_neg(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    return g.args(args[0])[0] if op_of(g, args[0]) == "neg" else None


# the minus can then meet another (x + -y, --x)
rule("mul", "identities", "(-a) * b -> -(a * b)")(pulled("neg"))
rule("div", "identities", "(-a) / b -> -(a / b)")(pulled("neg"))


@rule("sub", "identities", "x - -y -> x + y")
def _sub_neg(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    if op_of(g, args[1]) == "neg":
        return ("add", (args[0], g.args(args[1])[0]), {})
    return None


@rule("neg", "identities", "-(c * x) -> (-c) * x")
def _neg_into_constant(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """A sign that meets a constant costs no pass over an array (``-(400 * x)``)."""
    inner = args[0]
    if g.uses.get(inner, 1) == 1 and known_array(g, inner) \
            and (found := constant_factor(g, inner)) is not None:
        return ("mul", (g.const(-const_value(g, found[0])), found[1]), {})
    return None


@rule("mul", "identities", "x * (c / y) -> (x / y) * c")
def _by_reciprocal(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """One pass and no array of reciprocals to keep (d log p = 1 / p); the constant moves
    on outward. A scalar x stays: it is gathered with other scalars first."""
    for r, x in (args, args[::-1]):
        if op_of(g, r) == "div" and scalar_const(g, g.args(r)[0]) \
                and known_array(g, g.args(r)[1]) and known_array(g, x):
            return ("mul", (g.add("div", (x, g.args(r)[1])), g.args(r)[0]), {})
    return None


@rule("mul", "identities", "c1 * (c2 * x) -> (c1 c2) * x")
def _constants_together(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    for c, inner in (args, args[::-1]):
        if scalar_const(g, c) and (found := constant_factor(g, inner)) is not None:
            both = constant_product(const_value(g, c), const_value(g, found[0]))
            return None if both is None else ("mul", (g.const(both), found[1]), {})
    return None


# ---- the Pythagorean identity: sin(x)^2 + cos(x)^2 = 1 -------------------------------
_PARTNER = {"sin": "cos", "cos": "sin"}


def _trig_square(g: RuleView, name: str) -> tuple[str, str] | None:
    """``(op, x)`` when node ``name`` is sin(x)**2 or cos(x)**2 (as t * t or t ** 2)."""
    op = op_of(g, name)
    if not (op == "mul" and g.args(name)[0] == g.args(name)[1]
            or op == "pow" and scalar_const(g, g.args(name)[1], 2.0)):
        return None
    t = g.args(name)[0]
    return (op_of(g, t), g.args(t)[0]) if op_of(g, t) in _PARTNER else None


@rule("sub", "identities", "1 - sin(x)**2 -> cos(x)**2")
def _one_minus_trig_square(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """One pass instead of two when cos(x) is at hand (d(sin(x) cos(x))): cos(x)**2 is
    then often made already."""
    found = _trig_square(g, args[1]) if scalar_const(g, args[0], 1.0) else None
    if found is None or not known_array(g, args[1]):
        return None
    partner = g.add(_PARTNER[found[0]], (found[1],))
    return ("mul", (partner, partner), {})


@rule("add", "identities", "(a - sin(x)**2) + 1 -> a + cos(x)**2")
def _regroup_for_trig(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """The 1 meets the square it cancels: cos² - sin² + 1 = cos² + cos² = 2 cos²."""
    for diff, one in (args, args[::-1]):
        if op_of(g, diff) == "sub" and scalar_const(g, one, 1.0) \
                and _trig_square(g, g.args(diff)[1]) is not None and known_array(g, diff):
            a, square = g.args(diff)
            return ("add", (a, g.add("sub", (one, square))), {})
    return None
