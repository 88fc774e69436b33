"""THE op table: every op graphc knows, one entry each.

An elementwise op is its scalar sympy ``formula``: its derivatives are ``sympy.diff``
of it (``derive.py``), never typed by hand. A structural op (``where``, ``sum_to``)
states ``vjp``/``jvp`` rules that build graph nodes (``expr.py``), so a gradient is a
graph in the same IR. ``fn`` computes what the template ``code`` prints, so that
``Graph.evaluate`` never runs emitted code.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp

from ..errors import GraphcError, ShapeError, UnknownOpError
from . import shapes
from .expr import jvp, vjp

# Precedence of what a template prints, Python's order; ATOM needs no parentheses.
COMPARE, ADD, MUL, UNARY, POW, ATOM = 4, 5, 6, 7, 8, 9


class sigmoid(sp.Function):  # noqa: N801 - prints as the op's name
    """The logistic function; its derivative is stated through its own value."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return 1 / (1 + sp.exp(-x))


class softplus(sp.Function):  # noqa: N801 - prints as the op's name
    """log(1 + exp(x)); its derivative is the sigmoid."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.log(1 + sp.exp(x))


def _elementwise_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    nodes = g.node_data()
    return shapes.broadcast(*[nodes[a]["shape"] for a in args])


def floats_only(g: Any, args: tuple[str, ...]) -> None:
    """ShapeError for an operand taken from an integer input: such inputs are indices only
    (argmax's integers, NumPy's, may be scaled)."""
    for a in args:
        if g.integer(a) and g.op(g.origin(a)).name == "input":
            raise ShapeError(f"{g.shown(a)} holds integers (indices, class labels): "
                             "use it to index (x[labels]), not in arithmetic")


def _arithmetic_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    """A formula op's: its operands are floats (integer inputs are indices only)."""
    floats_only(g, args)
    return _elementwise_shape(g, args, params)


def _minus_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    """x - y, -x: NumPy and JAX refuse them on booleans (a TypeError at run time)."""
    if all(g.op(a).dtype == "bool" for a in args):
        raise ShapeError("- of booleans: NumPy has none (~c is not, a ^ b differs, "
                         "where(c, 1.0, 0.0) gives numbers)")
    return _arithmetic_shape(g, args, params)


class Trait(enum.Flag):
    """What the rest of graphc asks about an op, beyond its rules: each layer reads these
    (``Trait.SHIFTS in op.traits``), never a list of op names of its own."""

    NONE = 0
    INTERNAL = enum.auto()      # not callable in .gc text or as gc.<name>
    NO_DERIVATIVE = enum.auto()  # passes no derivative back (comparisons, np.shape(x)[0])
    COMMUTATIVE = enum.auto()   # f(a, b) == f(b, a): common subexpressions sort operands
    ASSOCIATIVE = enum.auto()   # chains of it regroup into any order (optimize/regroup.py)
    NONNEGATIVE = enum.auto()   # never negative (exp, softmax): the optimizer's sign rule
    POINTWISE = enum.auto()     # element i from element i of each operand: diagonal Jacobian
    IDENTITY = enum.auto()      # its first operand's value up to broadcasting: derivative 1
    UNSTACKED = enum.auto()     # no stretched seed through it; stacked tangents: shapes declared
    STACKING = enum.auto()      # makes forward mode's direction-stacked tangents; no vjp
    AXES_FROM_END = enum.auto()  # its jvp counts axes from the end: any direction axis or none
    SHIFTS = enum.auto()        # reads a vector at other indices (slices): a stencil
    FRESH = enum.auto()         # memory: the result is a new array, never a view
    WRITES_OUT = enum.auto()    # memory: a helper whose call takes out= (may update in place)


@dataclass(eq=False, frozen=True)
class Op:
    """One op: what it computes, how it prints, how it differentiates, what it is."""

    # ---- what it computes; code: the NumPy template ({0} an operand, {axis} a param)
    name: str
    arity: int
    code: str
    fn: Callable[..., Any]
    # ---- printing: precedence of what ``code`` prints and the least each slot takes
    prec: int = ATOM
    slot_prec: tuple[int, ...] = ()
    symbol: str | None = None  # an operator (+, @, .T), printed as itself in .gc text too
    spell: Callable[[dict], str] | None = None  # the template, when params change it
    helpers: tuple[Callable[..., Any], ...] = ()  # functions the emitted module carries
    # ---- shape and parameters
    shape: Callable[..., shapes.Shape] = _elementwise_shape  # (g, args, params) -> shape
    params: dict[str, Any] = field(default_factory=dict)  # keyword params: defaults
    # params also given by position after the operands, as NumPy's reshape(x, (2, -1))
    positional: tuple[str, ...] = ()
    # how operands past ``arity`` are written (``arity`` is then the least count):
    # "list": all operands are one list, concatenate([a, b]), ``{*}`` in the template
    # stands for them all; "after": they follow the first ones, x[i, j]'s index arrays
    # (index(x, i, j, key=...)); "lists": two lists of one length and then the rest,
    # select([c0, c1], [a0, a1], default), ``{*}`` printing them so; "": there are none
    varargs: str = ""
    # ---- the call that builds it: a public function's name (logsumexp) that several ops
    # are written as, told apart by their keyword operands or their count of operands
    spelled: str | None = None
    keyword_operands: tuple[str, ...] = ()  # its last operands, given by keyword (b=w)
    # the names of the arguments after the operands, in the order a call may also give
    # them by position (torch's): conv2d(x, w, b, 2) is conv2d(x, w, bias=b, stride=2)
    signature: tuple[str, ...] = ()
    leading: tuple[str, ...] = ()  # params given before the operands (einsum's subscripts)
    # (g, params) -> operands: those of an op written without them, which the graph
    # chooses (a constant reads its dimension names and dtype off the inputs)
    reads: Callable[[Any, dict], tuple[str, ...]] | None = None
    # (operands, params) -> .gc text other than a call (x[1:], x.mT, D), or None: a call
    written_as: Callable[[list[str], dict], str | None] | None = None
    defaults: tuple[float, ...] = ()  # the last operands' values when left out (alpha)
    counts: tuple[int, ...] = ()  # slots holding a count: x ** 2, polygamma(1, x) print ints
    scalar_result: Callable[[dict], bool] = lambda params: False  # a true scalar, always
    # the slots whose shape known only at call time makes the result's so (None: all);
    # sum_to(x, like) has like's shape, a constant (arange(3)) reads inputs for dtypes
    elastic_from: tuple[int, ...] | None = None
    # ---- derivatives: a scalar sympy formula (elementwise), or rules that build nodes
    formula: Callable[..., sp.Expr] | None = None
    sympy_head: Any = None  # the sympy function (or a tuple of them) read back as this op
    vjp: Callable[..., tuple[str | None, ...]] | None = None  # (g, node, grad) -> per slot
    jvp: Callable[..., str | None] | None = None  # (g, node, tangent per slot) -> tangent
    grad_slots: tuple[int, ...] | None = None  # slots with a derivative (None: all)
    # each slot's vjp as text, for pictures; a function of (graph, node) where the text
    # depends on the operands (cross_entropy's integer labels)
    rules: tuple[str | Callable[[Any, str], str], ...] = ()
    # (g, args, params, name, temp) -> node: the op in simpler ops, which reverse mode
    # differentiates instead, so that the backward reads their values
    expand: Callable[..., str] | None = None
    # it holds integers (usable as indices): argmax, an int input, arange of ints; an op
    # whose dtype is its "first" operand's holds integers when that operand does
    # (float arithmetic casts them to its float operand's dtype, as JAX: ir/promote.py)
    integral: Callable[[dict], bool] = lambda params: False
    # a param the call's subscript picks: split(x, 2)[1], one of the arrays it gives
    picked: str | None = None
    # ---- memory planning (backend/memory.py): the result's dtype "follows" the
    # operands' promotion, is the "first" operand's (x[idx]: integers stay integers),
    # "weak" (a Python number), "bool", or the op's "own"
    dtype: str = "own"
    # ---- a lambda defined in .gc text: its graph and its line
    body: Any = field(default=None, repr=False)
    source: str | None = None
    traits: Trait = Trait.NONE

    @property
    def elementwise(self) -> bool:
        return self.formula is not None

    @cached_property  # asked per node: read from the flags once
    def pointwise(self) -> bool:
        """Element i from element i of the operands: a formula op, or ``POINTWISE``."""
        return self.formula is not None or Trait.POINTWISE in self.traits

    public = cached_property(lambda self: Trait.INTERNAL not in self.traits)
    differentiable = cached_property(lambda self: Trait.NO_DERIVATIVE not in self.traits)
    commutative = cached_property(lambda self: Trait.COMMUTATIVE in self.traits)
    fresh = cached_property(lambda self: Trait.FRESH in self.traits)
    writes_out = cached_property(lambda self: Trait.WRITES_OUT in self.traits)

    @property
    def can_write_into(self) -> bool:
        """Its call can put its result into a given buffer (``out=``)."""
        return self.writes_out or self.ufunc is not None

    @property
    def ufunc(self) -> str | None:
        """The NumPy ufunc that computes the op, when it can write into ``out=``."""
        if self.symbol is not None:
            return _UFUNC_SYMBOLS.get((self.symbol, self.arity))
        call = _CALL.fullmatch(self.code)
        if call and isinstance(getattr(np, call[1], None), np.ufunc):
            return call[1]
        return None

    def into(self, buffer: str, exponent: float | None = None) -> str:
        """The op's NumPy template writing its result into ``buffer``. NumPy's own
        ``x ** 2`` is a square; ``np.power(x, 2)`` would be the slow general loop."""
        if self.name == "pow" and exponent in _POWERS:
            return f"np.{_POWERS[exponent]}({{0}}, out={buffer})"
        if self.symbol is not None:
            slots = ", ".join("{%d}" % i for i in range(self.arity))
            return f"np.{self.ufunc}({slots}, out={buffer})"
        return f"{self.code[:-1]}, out={buffer})"

    def template(self, params: dict, n: int) -> str:
        """The NumPy template of a node with these params and ``n`` operands."""
        code = self.spell(params) if self.spell else self.code
        slots = ["{%d}" % i for i in range(n)]
        if self.varargs == "lists":
            slots = _two_lists(slots)
        return code.replace("{*}", ", ".join(slots)) if self.varargs in ("list", "lists") \
            else code

    @property
    def written(self) -> str:
        """The function a call of which builds the op (logsumexp_b: logsumexp)."""
        return self.spelled or self.name

    @property
    def given_arity(self) -> int:
        """The operands given by position: all but the keyword operands."""
        return self.arity - len(self.keyword_operands)

    def text(self, operands: list[str], params: dict) -> str:
        """How the op is written in .gc text (operands already printed): as NumPy's call,
        ``einsum('ij->j', x)``, ``logsumexp(x, axis=0, b=w)``."""
        if self.written_as is not None and (text := self.written_as(operands, params)):
            return text
        changed = [k for k, default in self.params.items()
                   if params.get(k, default) != default and k != self.picked]
        # x[i, j]: the key and its index operands are all in the subscript
        if self.symbol is not None and (not changed or self.varargs == "after"):
            return (self.spell(params) if self.spell else self.code).format(*operands)
        last = max((self.positional.index(k) + 1 for k in changed if k in self.positional),
                   default=0)  # positional params up to the last one given
        given = [_written(params[k], bare=not isinstance(self.params[k], str))  # mode='same'
                 for k in self.positional[:last]]
        extra = [f"{k}={_written(params[k])}" for k in changed
                 if k not in self.positional and k not in self.leading]
        cut = len(operands) - len(self.keyword_operands)
        extra += [f"{k}={v}" for k, v in zip(self.keyword_operands, operands[cut:])]
        operands = operands[:cut]
        if self.reads is not None:  # chosen by the graph, not written
            operands = []
        elif self.varargs == "list":
            operands = [f"[{', '.join(operands)}]"]
        elif self.varargs == "lists":
            operands = _two_lists(operands)
        lead = [_written(params[k]) for k in self.leading]
        pick = f"[{params[self.picked]}]" if self.picked else ""
        return f"{self.written}({', '.join(lead + operands + given + extra)}){pick}"


def _two_lists(items: list[str]) -> list[str]:
    """A "lists" op's operands as written: two lists of one length, then the rest."""
    n = len(items) // 2
    return [f"[{', '.join(items[:n])}]", f"[{', '.join(items[n:2 * n])}]", *items[2 * n:]]


def _written(value: Any, bare: bool = False) -> str:
    """A parameter as .gc text: Python's repr, but a dimension's name bare (N, not 'N')
    where it is one: in a shape, or given by position (arange(N)); a keyword's string
    (ord="fro") is a string."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_written(v, True) for v in value) + "," * (len(value) == 1) + ")"
    return value if bare and shapes.is_named(value) else repr(value)


_UFUNC_SYMBOLS = {("+", 2): "add", ("-", 2): "subtract", ("*", 2): "multiply",
                  ("/", 2): "divide", ("**", 2): "power", ("@", 2): "matmul",
                  ("-", 1): "negative"}
_POWERS = {2.0: "square", 0.5: "sqrt"}
_CALL = re.compile(r"np\.(\w+)\(([^()]*)\)")  # one call, no nested parentheses

OPS: dict[str, Op] = {}
SPELLINGS: dict[str, list[Op]] = {}
"""A function's name -> the ops written as it (one, mostly: its own)."""


def _register(op: Op) -> None:
    OPS[op.name] = op
    SPELLINGS.setdefault(op.written, []).append(op)


def _infix(name: str, symbol: str, fn: Callable, formula: Callable, prec: int,
           slots: tuple[int, int], traits: Trait = Trait.NONE, **kw: Any) -> None:
    _register(Op(name, 2, "{0} %s {1}" % symbol, fn, prec, slots, symbol=symbol,
                 formula=formula, dtype="follows", traits=traits | Trait.FRESH,
                 **{"shape": _arithmetic_shape, **kw}))


def _function(name: str, code: str, fn: Callable, formula: Callable, arity: int = 1,
              head: Any = None, traits: Trait = Trait.NONE, **kw: Any) -> None:
    kw.setdefault("slot_prec", (0,) * arity)
    kw.setdefault("shape", _arithmetic_shape)
    _register(Op(name, arity, code, fn, formula=formula, sympy_head=head, dtype="follows",
                 traits=traits | Trait.FRESH, **kw))


def _relu(x: sp.Expr) -> sp.Expr:
    # Piecewise, not Max(x, 0): sympy's Max gives Heaviside(0) = 1/2 at the kink,
    # JAX and NumPy-trained intuition say relu'(0) = 0.
    return sp.Piecewise((x, x > 0), (0, True))


# ---- elementwise arithmetic -------------------------------------------------------
_ALGEBRA = Trait.COMMUTATIVE | Trait.ASSOCIATIVE
_infix("add", "+", np.add, lambda x, y: x + y, ADD, (ADD, MUL), _ALGEBRA)
_infix("sub", "-", np.subtract, lambda x, y: x - y, ADD, (ADD, MUL), shape=_minus_shape)
_infix("mul", "*", np.multiply, lambda x, y: x * y, MUL, (MUL, UNARY), _ALGEBRA)
_infix("div", "/", np.true_divide, lambda x, y: x / y, MUL, (MUL, UNARY))
_infix("pow", "**", np.power, lambda x, y: x**y, POW, (ATOM, UNARY), counts=(1,))
_register(Op("neg", 1, "-{0}", np.negative, UNARY, (UNARY,), symbol="-",
             formula=lambda x: -x, shape=_minus_shape, dtype="follows", traits=Trait.FRESH))

# ---- elementwise functions (kinks follow JAX: see docs/ops.md) ---------------------
_PLUS = Trait.NONNEGATIVE
_function("exp", "np.exp({0})", np.exp, sp.exp, head=sp.exp, traits=_PLUS)
_function("log", "np.log({0})", np.log, sp.log, head=sp.log)
_function("sqrt", "np.sqrt({0})", np.sqrt, sp.sqrt, traits=_PLUS)
_function("abs", "np.abs({0})", np.abs,
          lambda x: sp.Piecewise((x, x >= 0), (-x, True)), head=sp.Abs, traits=_PLUS)
_function("sin", "np.sin({0})", np.sin, sp.sin, head=sp.sin)
_function("cos", "np.cos({0})", np.cos, sp.cos, head=sp.cos)
_function("tan", "np.tan({0})", np.tan, sp.tan, head=sp.tan)
_function("tanh", "np.tanh({0})", np.tanh, sp.tanh, head=sp.tanh)


def _sigmoid(x, out=None):
    """1 / (1 + exp(-x)); an array is computed in one buffer (``out=x`` overwrites x)."""
    if out is None and np.ndim(x) == 0:
        return 1 / (1 + np.exp(-x))
    out = np.negative(x, out=out)
    np.exp(out, out=out)
    np.add(out, 1, out=out)
    return np.divide(1, out, out=out)


_function("sigmoid", "_sigmoid({0})", _sigmoid, sigmoid, head=sigmoid, helpers=(_sigmoid,),
          traits=_PLUS | Trait.WRITES_OUT)
_function("softplus", "np.logaddexp(0.0, {0})", lambda x: np.logaddexp(0.0, x), softplus,
          head=softplus, traits=_PLUS)
_function("relu", "np.maximum({0}, 0.0)", lambda x: np.maximum(x, 0.0), _relu, traits=_PLUS)
_function("leaky_relu", "np.where({0} >= 0, {0}, {1} * {0})",
          lambda x, a: np.where(x >= 0, x, a * x),
          lambda x, a: sp.Piecewise((x, x >= 0), (a * x, True)), arity=2, defaults=(0.01,))
_function("elu", "np.where({0} > 0, {0}, {1} * np.expm1(np.minimum({0}, 0.0)))",
          lambda x, a: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0.0))),
          lambda x, a: sp.Piecewise((x, x > 0), (a * (sp.exp(x) - 1), True)), arity=2,
          defaults=(1.0,))
_function("maximum", "np.maximum({0}, {1})", np.maximum, sp.Max, arity=2, head=sp.Max,
          traits=Trait.COMMUTATIVE)
_function("minimum", "np.minimum({0}, {1})", np.minimum, sp.Min, arity=2, head=sp.Min,
          traits=Trait.COMMUTATIVE)
_function("sign", "np.sign({0})", np.sign, sp.sign, head=sp.sign)  # derivative 0, as JAX's


# ---- structural ops: derivative rules that build nodes (expr.py) -------------------
_INNER = Trait.INTERNAL | Trait.POINTWISE  # helpers derivatives are made of, elementwise
_CONSTANT = _INNER | Trait.NO_DERIVATIVE | Trait.FRESH


def _choose(c, a, b, like):
    """np.where(c, a, b) for two numbers a and b, in the float dtype of ``like`` (the
    operand a derivative is taken for): np.where(c, 1.0, -1.0) alone is float64, and a
    float32 input's gradient would be float64."""
    dtype = np.result_type(like, 1.0)
    return np.where(c, dtype.type(a), dtype.type(b))


# A derivative that is a choice between constants (abs', relu'): its value has no
# derivative (zero almost everywhere, as JAX's), its dtype is its last operand's.
_register(Op("choose", 4, "_choose({0}, {1}, {2}, {3})", _choose, slot_prec=(0, 0, 0, 0),
             dtype="follows", helpers=(_choose,), traits=_CONSTANT))

def _sum_to(x, like):
    """Sum x over the axes along which `like` was broadcast, to the shape of `like`."""
    if isinstance(x, float) and isinstance(like, float):  # scalars: nothing to do, fast
        return x
    shape = np.shape(like)
    if np.shape(x) == shape:
        return x
    x = np.broadcast_to(x, np.broadcast_shapes(np.shape(x), shape))
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    return np.sum(x, axis=axes).reshape(shape)


def _broadcast_like(x, like):
    """x broadcast against `like`: the shape a tangent or adjoint must have."""
    if like.__class__ is float:  # a Python float stretches nothing: the fast path
        return x
    if isinstance(x, (int, float)) and not isinstance(x, np.generic):
        x = np.result_type(x, like).type(x)  # weak, as in NumPy: like's float32 stays
    have, want = np.shape(x), np.shape(like)
    if have == want:
        return x
    shape = np.broadcast_shapes(have, want)
    if have == shape:
        return x
    return np.broadcast_to(x, shape)


def _stacked(dot: Any, x: Any) -> bool:
    """A forward-mode tangent carries a leading direction axis: one axis more than its
    value (unstacked tangents of pointwise graphs have at most their value's axes)."""
    return dot.ndim > x.ndim


def _sum_to_jvp(out: Any, dots: tuple) -> Any:
    """sum_to on a direction-stacked tangent: the summed axes counted from the end
    (declared shapes: forward mode refuses elastic ones through it)."""
    dot, (x, like) = dots[0], out.args
    if not _stacked(dot, x):
        return dot.call("sum_to", like)
    have, want = x.shape, like.shape
    lead = len(have) - len(want)
    ones = tuple(lead + i - len(have) for i, d in enumerate(want)
                 if d == 1 and have[lead + i] != 1)
    found = dot.call("spread", x) if dot.shape[1:] != have else dot
    if ones:
        found = found.sum(axis=ones, keepdims=True)
    return found.sum(axis=tuple(range(-len(have), lead - len(have)))) if lead > 0 else found


def _broadcast_like_jvp(out: Any, dots: tuple) -> Any:
    """broadcast_like on a direction-stacked tangent: padded to out's axes, then spread."""
    dot, x = dots[0], out.args[0]
    if not _stacked(dot, x):
        return dot.call("broadcast_like", out.args[1])
    lifted = dot.call("lift", ndim=out.ndim) if x.ndim < out.ndim else dot
    return lifted.call("spread", out) if lifted.shape[1:] != out.shape else lifted


# sum_to and broadcast_like undo and do NumPy's broadcasting of their first operand
# against their second, ``like``. The emitted module carries these two functions' own
# source (numpy is all they need).
_LIKE = Trait.INTERNAL | Trait.IDENTITY | Trait.UNSTACKED | Trait.AXES_FROM_END
_register(Op("sum_to", 2, "_sum_to({0}, {1})", _sum_to, slot_prec=(0, 0), grad_slots=(0,),
             shape=lambda g, args, params: g.shape(args[1]), elastic_from=(1,),
             vjp=vjp(lambda out, grad: (grad.call("broadcast_like", out.args[0]), None)),
             jvp=jvp(lambda out, dots: dots[0] and _sum_to_jvp(out, dots)),
             helpers=(_sum_to,), dtype="follows", traits=_LIKE))
_register(Op("broadcast_like", 2, "_broadcast_like({0}, {1})", _broadcast_like,
             slot_prec=(0, 0), grad_slots=(0,),
             vjp=vjp(lambda out, grad: (grad.call("sum_to", out.args[0]), None)),
             jvp=jvp(lambda out, dots: dots[0] and _broadcast_like_jvp(out, dots)),
             helpers=(_broadcast_like,), dtype="follows", traits=_LIKE | Trait.POINTWISE))
_register(Op("ones_like", 1, "np.ones_like({0})", np.ones_like, slot_prec=(0,),
             dtype="follows", traits=_CONSTANT & ~Trait.INTERNAL))
_register(Op("zeros_like", 1, "np.zeros_like({0})", np.zeros_like, slot_prec=(0,),
             dtype="follows", traits=_CONSTANT & ~Trait.INTERNAL))
_register(Op("alias", 1, "{0}", lambda x: x, prec=0, slot_prec=(0,), symbol="",
             vjp=vjp(lambda out, grad: (grad,)), jvp=jvp(lambda out, dots: dots[0]),
             dtype="first", traits=_INNER | Trait.IDENTITY))


# Leaves: their values come from the caller (input) or from the node itself (const).
_LEAF = Trait.INTERNAL | Trait.NO_DERIVATIVE | Trait.POINTWISE
_register(Op("input", 0, "", lambda: None, shape=lambda g, args, params: params["shape"],
             integral=lambda params: bool(params.get("integer")), traits=_LEAF))
_register(Op("const", 0, "", lambda: None,
             shape=lambda g, args, params: np.shape(params["value"]),
             dtype="weak", traits=_LEAF))  # printed as a Python float


_COUNTS = ("no", "one", "two", "three", "four")


def spelled(name: str, args: int, keywords: Collection[str]) -> Op:
    """The op that ``name(...)`` builds, given ``args`` arguments by position and these
    keywords: ``logsumexp(x, b=w)`` is logsumexp_b (the op whose keyword operands are
    given), ``einsum('ij->j', x)`` einsum1 (the op of that count of operands)."""
    ops = SPELLINGS.get(name, [])
    if len(ops) <= 1:
        return OPS[name]
    ops = [op for op in ops if set(op.keyword_operands) <= set(keywords)]
    most = max(len(op.keyword_operands) for op in ops)
    ops = [op for op in ops if len(op.keyword_operands) == most]
    if len(ops) == 1:
        return ops[0]
    for op in ops:
        if op.arity == args - len(op.leading):
            return op
    counts = " or ".join(_COUNTS[op.arity] for op in sorted(ops, key=lambda op: op.arity))
    after = f" after its {', '.join(ops[0].leading)}" if ops[0].leading else ""
    raise GraphcError(f"{name} takes {counts} operands{after}, got {args - len(ops[0].leading)}")


def lookup(name: str, local: dict[str, Op] | None = None) -> Op:
    """The op called ``name``: a graph's own ops first, then the table."""
    if local and name in local:
        return local[name]
    try:
        return OPS[name]
    except KeyError:
        raise UnknownOpError(f"unknown op {name!r}") from None
