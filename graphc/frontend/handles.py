"""The Python front end: symbolic handles with operator overloading.

``a, b = inputs("a b")`` gives handles; ``(a + b) * (b + 1)`` builds an expression
DAG of handles (shared handles stay shared); ``graph(e=...)`` turns it into a Graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import GraphcError, InputError
from ..ir.graph import Graph
from ..ops import OPS, SPELLINGS, indexing, pieces, spelled
from ..ops.shapes import Dim, Shape, is_named
from .hints import did_you_mean, pairwise
from .text_expr import dimension_names


class Expr:
    """A symbolic value: an input, a constant, or an op applied to other Exprs.

    ``name`` is an input's name; no other Expr has one."""

    __slots__ = ("op", "args", "params", "name", "shape")
    __array_priority__ = 1000  # numpy scalars on the left defer to Expr's operators

    def __init__(self, op: str, args: tuple[Expr, ...] = (), params: dict | None = None,
                 name: str | None = None, shape: Shape | None = None):
        self.op, self.args, self.params = op, args, params or {}
        self.name, self.shape = name, shape

    def __add__(self, other: Operand) -> Expr:
        return apply("add", self, other)

    def __radd__(self, other: Operand) -> Expr:
        return apply("add", other, self)

    def __sub__(self, other: Operand) -> Expr:
        return apply("sub", self, other)

    def __rsub__(self, other: Operand) -> Expr:
        return apply("sub", other, self)

    def __mul__(self, other: Operand) -> Expr:
        return apply("mul", self, other)

    def __rmul__(self, other: Operand) -> Expr:
        return apply("mul", other, self)

    def __truediv__(self, other: Operand) -> Expr:
        return apply("div", self, other)

    def __rtruediv__(self, other: Operand) -> Expr:
        return apply("div", other, self)

    def __pow__(self, other: Operand) -> Expr:
        return apply("pow", self, other)

    def __rpow__(self, other: Operand) -> Expr:
        return apply("pow", other, self)

    def __matmul__(self, other: Operand) -> Expr:
        return apply("matmul", self, other)

    def __rmatmul__(self, other: Operand) -> Expr:
        return apply("matmul", other, self)

    def __mod__(self, other: Operand) -> Expr:
        return apply("mod", self, other)

    def __rmod__(self, other: Operand) -> Expr:
        return apply("mod", other, self)

    def __floordiv__(self, other: Operand) -> Expr:
        return apply("floor_divide", self, other)

    def __rfloordiv__(self, other: Operand) -> Expr:
        return apply("floor_divide", other, self)

    # Comparisons build nodes, as JAX's arrays' do; hashing stays by identity, so
    # handles still key dicts and sets (a lookup compares identities first).
    def __lt__(self, other: Operand) -> Expr:
        return apply("lt", self, other)

    def __le__(self, other: Operand) -> Expr:
        return apply("le", self, other)

    def __gt__(self, other: Operand) -> Expr:
        return apply("gt", self, other)

    def __ge__(self, other: Operand) -> Expr:
        return apply("ge", self, other)

    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        return apply("eq", self, other) if _operand(other) else NotImplemented

    def __ne__(self, other: object) -> Expr:  # type: ignore[override]
        return apply("ne", self, other) if _operand(other) else NotImplemented

    __hash__ = object.__hash__

    def __and__(self, other: Operand) -> Expr:
        return apply("logical_and", self, other)

    def __rand__(self, other: Operand) -> Expr:
        return apply("logical_and", other, self)

    def __or__(self, other: Operand) -> Expr:
        return apply("logical_or", self, other)

    def __ror__(self, other: Operand) -> Expr:
        return apply("logical_or", other, self)

    def __xor__(self, other: Operand) -> Expr:
        return apply("logical_xor", self, other)

    def __rxor__(self, other: Operand) -> Expr:
        return apply("logical_xor", other, self)

    def __invert__(self) -> Expr:
        return apply("logical_not", self)

    def __neg__(self) -> Expr:
        return apply("neg", self)

    def __pos__(self) -> Expr:
        return self

    def __abs__(self) -> Expr:
        return apply("abs", self)

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise GraphcError("a graphc expression is symbolic, not an array: use graphc's "
                          "functions (gc.sum, gc.exp, ...), not NumPy's")

    @property
    def T(self) -> Expr:  # noqa: N802 - NumPy's spelling
        return apply("transpose", self)

    def __getitem__(self, key: Any) -> Expr:
        """NumPy's indexing: ints, slices, None, ..., and integer inputs as indices."""
        items = key if isinstance(key, tuple) else (key,)
        arrays = [k for k in items if isinstance(k, Expr)]
        try:
            op, params = indexing.subscript(tuple(
                indexing.ARRAY if isinstance(k, Expr) else indexing.encode(k) for k in items))
        except GraphcError as exc:
            raise InputError(exc.message) from None
        return Expr(op, (self, *arrays), params)

    def __iter__(self) -> Any:  # else Python would iterate by x[0], x[1], ... for ever
        raise GraphcError("a graphc expression is symbolic: it cannot be iterated")

    @property
    def mT(self) -> Expr:  # noqa: N802 - NumPy's spelling
        """The last two axes swapped: each matrix of a stack transposed."""
        return apply("mT", self)

    def __bool__(self) -> bool:
        raise GraphcError("a symbolic value has no truth value (no if/while on handles)")

    def __repr__(self) -> str:
        return f"<graphc.Expr {self.name or self.op}>"


Operand = Expr | float | np.number
"""What an op takes: a handle or a number (ints too; NumPy's scalars are numbers)."""


def _operand(x: object) -> bool:
    """Whether ``x`` can be an operand (``_as_expr``): ``h == "a"`` is then just False."""
    return isinstance(x, (Expr, int, float, np.number)) and not isinstance(x, bool)


def _as_expr(x: Any) -> Expr:
    if isinstance(x, Expr):
        return x
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return Expr("const", params={"value": float(x)})
    if hasattr(x, "dtype") and getattr(x, "ndim", None) == 0:
        return _as_expr(float(x))
    raise InputError(f"cannot use {type(x).__name__} in a graph: use numbers, or "
                     "gc.input(...) for arrays")


def apply(op: str, *args: Any, **params: Any) -> Expr:
    """The Expr for ``op(*args)``."""
    return Expr(op, tuple(_as_expr(a) for a in args), params)


def input(name: str, shape: Shape | list[Dim] | None = None,  # noqa: A001 - SPEC's name
          dtype: Any = float) -> Expr:
    """A named input; ``shape`` declares it (dims are ints or names), else it broadcasts.
    ``dtype=int``: integers (indices, class labels), declared (a scalar without
    ``shape``) and never differentiated."""
    if not isinstance(name, str) or not name:
        raise InputError(f"an input name must be a non-empty string, got {name!r}")
    _writable(name)
    if dtype in (int, "int") or isinstance(dtype, type) and issubclass(dtype, np.integer):
        shaped = input(name, () if shape is None else shape)
        return Expr("input", params={"integer": True}, name=name, shape=shaped.shape)
    if dtype not in (float, "float") and not (isinstance(dtype, type)
                                               and issubclass(dtype, np.floating)):
        raise InputError(f"input {name}: dtype is float or int, got {dtype!r}")
    if shape is not None:
        if not isinstance(shape, (tuple, list)):
            raise InputError(f"input {name}: shape is a tuple of dimensions, e.g. (3,) or "
                             f"('N', 4), got {shape!r}")
        for d in shape:  # as in text: `x: [N, 3]`
            if not (type(d) is int and d >= 0 or is_named(d)):  # N, L-2 as in text
                raise InputError(f"input {name}: a dimension is a non-negative integer or a "
                                 f"name, got {d!r}")
        return Expr("input", name=name, shape=tuple(shape))
    return Expr("input", name=name)


def _writable(name: str) -> None:
    """A name must be text that can be written down: saved, printed, drawn (UTF-8)."""
    try:
        name.encode()
    except UnicodeEncodeError:
        raise InputError(f"the name {name!r} is not valid text (a lone surrogate): it "
                         "cannot be printed, saved or drawn") from None


def inputs(names: str) -> tuple[Expr, ...]:
    """Several scalar inputs: ``a, b = inputs("a b")`` (commas also separate)."""
    return tuple(input(n) for n in names.replace(",", " ").split())


def dimension(name: str) -> Expr:
    """A declared dimension's size as a value, as ``D`` in .gc text after ``x: [T, D]``:
    a float scalar of the inputs' float dtype, no derivative. An input declaring it must
    come first in the graph (``gc.sum(x) / gc.sqrt(gc.dimension("D"))``)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"a dimension's name is an identifier, got {name!r}")
    return Expr("dimension", params={"name": name})


def function(name: str) -> Callable[..., Any]:
    """The handle ``gc.<name>`` of a public function of the op table (its signature:
    ``functions.py``); of one giving several arrays, a tuple of them."""
    keyed = {k for op in SPELLINGS.get(name, ()) for k in op.keyword_operands}

    def f(*args: Any, **params: Any) -> Expr | tuple[Expr, ...]:
        # axes=([1], [0]); b=None is NumPy's "no b" (logsumexp(x, b=w) is another op)
        args, params = _by_signature(name, args, params)
        params = {k: _tuples(v) for k, v in params.items() if v is not None or k not in keyed}
        op = spelled(name, len(args), params)
        params.update(zip(op.leading, args))  # einsum("ij,jk->ik", a, b)
        args = args[len(op.leading):]
        if op.varargs == "list":  # concatenate([a, b], axis=0): the operands are one list
            if not args or not isinstance(args[0], (list, tuple)) or len(args[0]) < op.arity:
                raise GraphcError(f"{name}() takes a list of at least {op.arity} arrays first")
            operands, given = list(args[0]), args[1:]
        elif op.varargs == "lists":  # select([c0, c1], [a0, a1], default=0.0)
            if len(args) < 2 or not all(isinstance(a, (list, tuple)) for a in args[:2]) \
                    or len(args[0]) != len(args[1]) or not args[0]:
                raise GraphcError(f"{name}() takes two lists of one length first")
            operands, given = [*args[0], *args[1], *(args[2:3] or op.defaults)], args[3:]
        elif op.varargs == "after":  # index(x, i, key=...): x[i]'s index arrays follow x
            operands, given = list(args), ()
        else:
            operands, given = list(args[:op.given_arity]), args[op.given_arity:]
        low = op.given_arity - len(op.defaults)
        if len(operands) < low or len(given) > len(op.positional):
            raise GraphcError(f"{name}() takes {op.arity} argument(s), got {len(args)}")
        for k, value in zip(op.positional, given):  # reshape(x, (2, -1))
            if k in params:
                raise GraphcError(f"{name}() got {k} twice")
            params[k] = value
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        keyword = [params.pop(k) for k in op.keyword_operands]  # logsumexp(x, b=w)
        unknown = set(params) - set(op.params)
        if unknown:
            word = sorted(unknown)[0]
            raise GraphcError(f"{name}() takes no keyword {word}"
                              + did_you_mean(word, op.params))
        if len(operands) < op.given_arity:
            operands += op.defaults[len(operands) - low:]
        if op.picked is not None:  # a, b = gc.split(x, 2): every array it gives
            if op.picked in params:
                raise GraphcError(f"{name}() gives every array: a, b = {name}(...)")
            return _every_piece(apply(op.name, *operands, **params), op.picked)
        # an alias (absolute) builds its op (abs)
        return apply(op.name, *operands, *keyword, **params)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Symbolic {name}: builds a node, computes nothing."
    return f


def _by_signature(name: str, args: tuple, params: dict[str, Any]
                  ) -> tuple[tuple, dict[str, Any]]:
    """torch's ``gc.conv2d(x, w, b, 2)`` as ``gc.conv2d(x, w, bias=b, stride=2)``: the
    arguments past the operands named by the op's signature."""
    op = OPS[name]
    first = len(op.leading) + op.given_arity
    if not op.signature or len(args) <= first:
        return args, params
    if len(args) > first + len(op.signature):
        raise GraphcError(f"{name}() takes at most {first + len(op.signature)} arguments by "
                          f"position, got {len(args)}")
    named = dict(zip(op.signature, args[first:]))
    for k in set(named) & set(params):
        raise GraphcError(f"{name}() got {k} twice")
    if isinstance(named.get("axis"), Expr) and (meant := pairwise(name)):
        raise GraphcError(meant)
    return args[:first], {**named, **params}


def _every_piece(first: Expr, picked: str) -> tuple[Expr, ...]:
    """Each array of a call giving several (``a, b = gc.split(x, 2)``), ``first`` the
    first: how many, the operand's shape says."""
    out = f"{first.op}_arrays"
    g = graph(**{out: first})
    n = pieces.count(g, g.op(out), g.args(out)[0], g.attrs(out)["params"])
    return (first, *(Expr(first.op, first.args, {**first.params, picked: k})
                     for k in range(1, n)))


def _tuples(value: Any) -> Any:
    """Lists in a keyword argument as tuples, as .gc text reads them (hashable)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def graph(**outputs: Operand) -> Graph:
    """A Graph whose outputs are the given named expressions.

    >>> a, b = inputs("a b")
    >>> graph(e=(a + b) * (b + 1)).outputs
    ['e']
    """
    if not outputs:
        raise GraphcError("graph() needs at least one named output, e.g. graph(e=expr)")
    exprs = {out_name: _as_expr(e) for out_name, e in outputs.items()}
    for out_name in exprs:
        _writable(out_name)
    seen: set[int] = set()
    orders = {out_name: _postorder(e, seen) for out_name, e in exprs.items()}
    input_names = {e.name for order in orders.values() for e in order if e.name is not None}
    for out_name, e in exprs.items():
        if out_name in input_names and not (e.op == "input" and e.name == out_name):
            raise GraphcError(f"output {out_name!r} has the name of an input; "
                              "choose another name")
    g = Graph()
    # Generated names (t1, t2, ...) must not take a name an input arrives with later.
    g.reserved = set(outputs) | input_names
    named = {id(e): out_name for out_name, e in reversed(exprs.items())}  # the first name
    done: dict[int, str] = {}
    declared: dict[str, Expr] = {}
    for out_name, e in exprs.items():
        for sub in orders[out_name]:
            done[id(sub)] = _node(g, sub, done, named, declared)
        if done[id(e)] != out_name:
            g.add("alias", (done[id(e)],), name=out_name)
        g.outputs.append(out_name)
    for i in g.inputs:  # D is x's size in text: an input D would read back as that size
        clash = set(dimension_names(g.shape(i))) & input_names
        if clash:
            raise InputError(f"{min(clash)} is both an input and a dimension of {i}: in "
                             "text a dimension's name is its size; rename one of them")
    return g


def _postorder(root: Expr, seen: set[int]) -> list[Expr]:
    """The Exprs ``root`` uses that are not in ``seen``, operands first (iterative: deep
    DAGs are fine)."""
    order: list[Expr] = []
    stack: list[tuple[Expr, bool]] = [(root, False)]
    while stack:
        e, ready = stack.pop()
        if ready:
            order.append(e)
        elif id(e) not in seen:
            seen.add(id(e))
            stack.append((e, True))
            stack.extend((a, False) for a in reversed(e.args))
    return order


def _node(g: Graph, e: Expr, done: dict[int, str], named: dict[int, str],
          declared: dict[str, Expr]) -> str:
    """The node of ``e``, its operands' nodes in ``done``."""
    if e.name is not None:  # an input
        first = declared.setdefault(e.name, e)
        if first.shape != e.shape or first.params != e.params:
            raise InputError(f"input {e.name!r} is used with two different shapes or dtypes")
        if e.name not in g.nx:
            g.add_input(e.name, e.shape or (), declared=e.shape is not None,
                        integer=bool(e.params.get("integer")))
        return e.name
    if e.op == "const":
        return g.const(e.params["value"])
    name = named.get(id(e))
    return g.add(e.op, [done[id(a)] for a in e.args], e.params,
                 name=None if name in g.nx else name)
