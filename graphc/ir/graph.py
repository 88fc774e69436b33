"""The IR: a networkx DiGraph whose nodes carry an op, ordered operands and a shape.

networkx keeps one edge per pair, so operands live on the node as an ordered tuple
(``x*x`` has ``args == ("x", "x")``) and the edge records the slots."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import networkx as nx

from ..errors import ShapeError, UndefinedNameError
from ..ops import Op, lookup, shapes
from . import derive, interpret, ordering, promote, text
from .digraph import IR, copied, edited
from .meta import Meta


class Graph:
    """A computational graph: named nodes, ordered inputs and outputs.

    >>> import graphc as gc
    >>> g = gc.parse("e = (a + b) * (b + 1)")
    >>> g.inputs, g.outputs
    (['a', 'b'], ['e'])
    """

    # how Jupyter draws a graph: set by the layer that draws (``teach.render``)
    display: ClassVar[Callable[[Graph, Any, Any], dict | None] | None] = None

    def __init__(self) -> None:
        self.nx: nx.DiGraph = IR()
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.ops: dict[str, Op] = {}
        self._index: dict[str, int] = {}
        self._consts: dict[Any, str] = {}
        self._temps = 0
        self.reserved: set[str] = set()
        self.meta = Meta()
        self._order: tuple[nx.DiGraph, int, list[str]] | None = None  # see ordering.py
        ordering.remember(self, [])

    def fresh(self, base: str) -> str:
        """A node name not yet used: ``base`` itself, else ``base_1``, ``base_2``..."""
        return text.suffixed(base, lambda n: n in self.nx._node or n in self.reserved)[0]

    def _temp_name(self) -> str:
        while True:
            self._temps += 1
            if (name := f"t{self._temps}") not in self.nx._node and name not in self.reserved:
                return name

    def add(self, op: str, args: Iterable[str] = (), params: dict | None = None,
            name: str | None = None, pos: tuple[int, int] | None = None,
            temp: bool | None = None) -> str:
        """Add a node computing ``op(*args)`` and return its name (fresh when not given).
        ``temp`` (by default: no name given) lets printers fold the node into its reader."""
        args = tuple(args)
        the_op = lookup(op, self.ops)
        params = {**the_op.params, **params} if params else dict(the_op.params)
        if the_op.reads is not None and not args:
            args = the_op.reads(self, params)
        nodes = self.nx._node
        try:
            operands = [nodes[a] for a in args]
        except KeyError as exc:
            raise UndefinedNameError(f"operand {exc.args[0]!r} of {op} is not a node") from None
        cast, untyped = promote.promoted(self, the_op, args, params)  # x * argmax(...)
        if cast is not args:
            args, operands = cast, [nodes[a] for a in cast]
        try:
            shape = the_op.shape(self, args, params)
        except ShapeError as exc:
            detail = ", ".join(f"{a} " + ("(undeclared)" if d["elastic"] else
                                          shapes.format_shape(d["shape"]))
                               for a, d in zip(args, operands))
            message = exc.message
            if _RANKED.search(message) and any(d["elastic"] for d in operands):
                message = _undeclared(self, args)  # not "scalar": its rank is not known yet
            raise ShapeError(f"{the_op.written}({detail}): {message}",  # logsumexp_b: logsumexp
                             *(pos or (None, None))) from None
        temp = name is None if temp is None else temp
        if name is None:
            name = self._temp_name()  # never a node's name
        elif name in nodes:
            raise ValueError(f"node {name!r} exists already")
        elastic = op == "input" and not params["declared"]
        slots = the_op.elastic_from
        if any(d["elastic"] for k, d in enumerate(operands) if slots is None or k in slots):
            elastic = not the_op.scalar_result(params)  # unless always a scalar
        attrs = {"op": op, "args": args, "params": params, "shape": shape, "temp": temp,
                 "elastic": elastic}
        if pos is not None:
            attrs["pos"] = pos
        if untyped:
            attrs["untyped"] = True
        # written straight into the DiGraph's dicts (its documented layout), skipping
        # checks that cannot fail here; one edge per operand node, its slots on the edge
        succ = self.nx._succ
        into: dict[str, dict] = {}
        cached = ordering.cached(self)
        nodes[name], succ[name], self.nx._pred[name] = attrs, {}, into
        edited(self.nx)
        for slot, a in enumerate(args):
            if a in into:
                into[a]["slots"] += (slot,)
            else:
                into[a] = succ[a][name] = {"slots": (slot,)}
        self._index[name] = len(self._index)
        ordering.after_add(self, name, cached)
        return name

    def add_like(self, name: str, attrs: dict, args: tuple[str, ...]) -> str:
        """Node ``name`` of another graph (attributes ``attrs``) added as it was, on ``args``."""
        self.add(attrs["op"], args, attrs["params"], name=name, temp=attrs["temp"],
                 pos=attrs.get("pos"))
        if "shown" in attrs:
            self.show_as(name, attrs["shown"])
        return name

    def show_as(self, node: str, name: str) -> None:
        """Print node ``node`` as ``name`` (autodiff's ``x_bar`` for a node made before it
        knew what it was), keeping its identity; no node may take ``name`` later."""
        d = self.attrs(node)
        d["shown"], d["temp"] = name, False
        self.reserved.add(name)

    def shown(self, node: str) -> str:
        """The name node ``node`` prints as: the one ``show_as`` gave, else its own."""
        return self.attrs(node).get("shown", node)

    def add_input(self, name: str, shape: shapes.Shape = (), declared: bool = False,
                  integer: bool = False) -> str:
        """Declare an input; undeclared inputs are scalars that broadcast at call time.
        An ``integer`` input (indices, class labels) is declared and never differentiated."""
        params = {"shape": tuple(shape), "declared": declared or integer}
        if integer:
            params["integer"] = True
        self.add("input", params=params, name=name)
        self.inputs.append(name)
        return name

    def const(self, value: float) -> str:
        """The node holding ``value``; one node per distinct value."""
        value = float(value)
        key = ("nan",) if math.isnan(value) else (value, math.copysign(1.0, value))
        if key not in self._consts:
            self._consts[key] = self.add("const", params={"value": value})
        return self._consts[key]

    def remove(self, nodes: Iterable[str]) -> None:
        """Delete nodes (nothing may still use them as operands)."""
        nodes = set(nodes)
        cached = ordering.cached(self)
        self.nx.remove_nodes_from(nodes)
        for n in nodes:
            self._index.pop(n, None)
        ordering.after_remove(self, nodes, cached)
        self._consts = {k: v for k, v in self._consts.items() if v not in nodes}
        self.inputs = [n for n in self.inputs if n not in nodes]

    def rename(self, old: str, new: str) -> None:
        """Give node ``old`` the name ``new`` in place, at the cost of its degree."""
        nodes, succ, pred = self.nx._node, self.nx._succ, self.nx._pred
        if new in nodes:
            raise ValueError(f"node {new!r} exists already")
        cached = ordering.cached(self)
        nodes[new] = dict(nodes.pop(old), temp=False)
        pred[new], succ[new] = pred.pop(old), succ.pop(old)
        for src in pred[new]:
            succ[src][new] = succ[src].pop(old)
        for dst in succ[new]:
            pred[dst][new] = pred[dst].pop(old)
            nodes[dst]["args"] = tuple(new if a == old else a for a in nodes[dst]["args"])
        edited(self.nx)
        ordering.after_rename(self, old, new, cached)
        self._index[new] = self._index.pop(old)
        if nodes[new]["op"] == "input":  # only input nodes are in self.inputs, a long list
            self.inputs = [new if n == old else n for n in self.inputs]
        if old in self.outputs:
            self.outputs = [new if n == old else n for n in self.outputs]

    def attrs(self, name: str) -> dict:
        """The attribute dict of node ``name`` (op, args, params, shape, temp)."""
        try:
            return self.nx._node[name]  # the dict behind nx.nodes, without the view
        except KeyError:
            raise UndefinedNameError(f"no node named {name!r}") from None

    def has(self, name: str) -> bool:
        """Whether a node is called ``name``."""
        return name in self.nx._node

    def node_data(self) -> Mapping[str, dict]:
        """Node name -> its attribute dict, for loops that read millions (``attrs`` is a call)."""
        return self.nx._node

    def readers(self, name: str) -> Mapping[str, dict]:
        """The nodes that read node ``name``, each with its edge's data (its ``slots``)."""
        return self.nx._succ[name]

    def n_readers(self, name: str) -> int:
        """How many nodes read node ``name`` (each counted once)."""
        return len(self.nx._succ[name])

    def position(self, name: str) -> int:
        """When node ``name`` was added, relative to others (``order`` keeps it where it can)."""
        return self._index[name]

    def op(self, name: str) -> Op:
        """The op of node ``name``."""
        return lookup(self.attrs(name)["op"], self.ops)

    def op_named(self, op: str) -> Op:
        """The op called ``op``, this graph's own ops included."""
        return lookup(op, self.ops)

    def args(self, name: str) -> tuple[str, ...]:
        return self.attrs(name)["args"]

    def shape(self, name: str) -> shapes.Shape:
        return self.attrs(name)["shape"]

    def elastic(self, name: str) -> bool:
        """True when the node's shape is known at call time only (from an undeclared input)."""
        return self.attrs(name)["elastic"]

    def integer(self, name: str) -> bool:
        """Whether node ``name`` holds integers, as its op declares (``Op.integral``): an
        int input, argmax, arange of ints, or indices taken from one (``labels[1:]``: an
        op whose dtype is its first operand's). Never differentiated."""
        d = self.attrs(self.origin(name))
        return lookup(d["op"], self.ops).integral(d["params"])

    def origin(self, name: str) -> str:
        """The node whose values ``name``'s are taken from (``x[1:]``'s is x's): along
        ops whose dtype is their first operand's."""
        nodes = self.nx._node
        d = self.attrs(name)
        while d["args"] and lookup(d["op"], self.ops).dtype == "first":
            name = d["args"][0]
            d = nodes[name]
        return name

    def is_const(self, name: str) -> bool:
        return self.attrs(name)["op"] == "const"

    order = ordering.order

    def upstream(self, nodes: Iterable[str]) -> set[str]:
        """``nodes`` and everything they depend on: one walk for all of them."""
        return _reach(self.nx._pred, nodes)

    def downstream(self, nodes: Iterable[str]) -> set[str]:
        """``nodes`` and everything that depends on them: one walk for all of them."""
        return _reach(self.nx._succ, nodes)

    def unused(self) -> set[str]:
        """The nodes no output depends on, inputs excepted, found from the sinks inwards."""
        succ, pred = self.nx._succ, self.nx._pred
        kept = set(self.outputs) | set(self.inputs)
        stack = [n for n, readers in succ.items() if not readers and n not in kept]
        found = set(stack)
        readers_left: dict[str, int] = {}
        while stack:
            for a in pred[stack.pop()]:
                readers_left[a] = left = readers_left.get(a, len(succ[a])) - 1
                if not left and a not in kept:
                    found.add(a)
                    stack.append(a)
        return found

    def output(self, of: str | None = None) -> str:
        """The node an output request names; the first output by default."""
        if of is None:
            if not self.outputs:
                raise UndefinedNameError("the graph has no output")
            return self.outputs[0]
        if of not in self.nx and of in self.reserved:  # a name a node is shown as
            of = next((n for n, d in self.nx.nodes(data=True) if d.get("shown") == of), of)
        if of not in self.nx or self.is_const(of):
            named = (d.get("shown", n) for n, d in self.nx._node.items() if not d["temp"])
            raise UndefinedNameError(f"of={of!r}: no such node (nodes: {', '.join(named)})")
        return of

    def copy(self) -> Graph:
        """An independent copy (node and edge attribute dicts copied, as nx.copy does)."""
        new = Graph()
        new.nx = copied(self.nx)
        new.inputs, new.outputs = list(self.inputs), list(self.outputs)
        new.ops, new.meta = dict(self.ops), self.meta.copy()
        new._index, new._consts = dict(self._index), dict(self._consts)
        new._temps, new.reserved = self._temps, set(self.reserved)
        cached = ordering.cached(self)
        ordering.remember(new, None if cached is None else list(cached))
        return new

    def rebuilt(self, add: Callable[[Graph, str, dict], None]) -> Graph:
        """A new graph with this one's inputs, outputs and ops, whose other nodes
        ``add(new, node, attributes)`` puts in, in order: as they were, changed, or not."""
        new = Graph()
        new.ops, new.reserved = dict(self.ops), self.reserved | set(self.nx)
        new.nx.graph.update(self.nx.graph)
        new.meta = self.meta.copy()
        for v in self.order():
            d = self.attrs(v)
            if d["op"] == "input":
                new.add_input(v, **d["params"])
            else:
                add(new, v, d)
        new.inputs, new.outputs = list(self.inputs), list(self.outputs)
        return new

    bind = interpret.bind
    evaluate = interpret.evaluate
    run = interpret.run

    def local_derivatives(self) -> dict[tuple[str, str], Any]:
        """Symbolic ``d dst / d src`` for every edge between non-constant nodes.

        >>> import graphc as gc
        >>> gc.parse("c = a + b\\nd = b + 1\\ne = c * d").local_derivatives()[("c", "e")]
        d
        """
        return derive.local_derivatives(self)

    def __str__(self) -> str:
        return text.to_text(self)

    def __repr__(self) -> str:
        return (f"<graphc.Graph {self.nx.number_of_nodes()} nodes, inputs "
                f"{self.inputs}, outputs {self.outputs}>")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """Jupyter shows the graph as ``Graph.display`` draws it, else as text."""
        shown = Graph.display(self, include, exclude) if Graph.display else None
        return shown or {"text/plain": repr(self)}


def _reach(adjacency: dict, start: Iterable[str]) -> set[str]:
    seen = set(start)
    stack = list(seen)
    while stack:
        for m in adjacency[stack.pop()]:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return seen


# what a shape rule says of an undeclared input's value, whose rank (0 when built) is
# not known yet: said of it, it would be wrong ("axis 0 is out of range for 0 dimensions")
_RANKED = re.compile(r"out of range|dimension|at least|flattens|takes a vector|axes")


def _undeclared(g: Graph, args: tuple[str, ...]) -> str:
    """Why an op on undeclared inputs' values fails: their rank is known only at call
    time; the inputs to declare."""
    found: dict[str, None] = {}
    stack = [a for a in args if g.elastic(a)]
    while stack:
        n = stack.pop()
        if g.attrs(n)["op"] == "input":
            found[g.shown(n)] = None
        stack.extend(a for a in g.args(n) if g.elastic(a))
    names = sorted(found)
    first = names[0] if names else "x"
    several = len(names) > 1
    return (f"the shape{'s' * several} of {', '.join(names) or 'its operand'} "
            f"{'are' if several else 'is'} not declared (an undeclared input broadcasts as "
            f"a scalar: its rank is known only at call time); declare "
            f"{'them' if several else 'it'}, as `{first}: [N]` or `{first}: [N, 3]`")
