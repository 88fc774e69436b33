"""The IR: a networkx DiGraph whose nodes carry an op, ordered operands and a shape.

networkx keeps one edge per pair of nodes, so a node's operands live on the node as
an ordered tuple (``x*x`` has ``args == ("x", "x")``); the edge records the slots.
Every walk is iterative and every order deterministic (insertion order breaks ties).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import networkx as nx

from ..errors import ShapeError, UndefinedNameError
from ..ops import Op, lookup, shapes
from . import derive, interpret, ordering, text
from .digraph import IR, copied, edited
from .meta import Meta


class Graph:
    """A computational graph: named nodes, ordered inputs and outputs.

    >>> import graphc as gc
    >>> g = gc.parse("e = (a + b) * (b + 1)")
    >>> g.inputs, g.outputs
    (['a', 'b'], ['e'])
    """

    display: ClassVar[Callable[[Graph, Any, Any], dict | None] | None] = None
    """How Jupyter draws a graph: set by the layer that draws (``teach.render``)."""

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
        # ((the DiGraph, its version), order): see ordering.py
        self._order: tuple[tuple, list[str]] | None = None
        ordering.remember(self, [])

    # ---- building ---------------------------------------------------------------
    def fresh(self, base: str) -> str:
        """A node name not yet used: ``base`` itself, else ``base_1``, ``base_2``..."""
        nodes, reserved = self.nx._node, self.reserved
        return text.suffixed(base, lambda n: n in nodes or n in reserved)[0]

    def _temp_name(self) -> str:
        nodes, reserved = self.nx._node, self.reserved
        while True:
            self._temps += 1
            name = f"t{self._temps}"
            if name not in nodes and name not in reserved:
                return name

    def add(self, op: str, args: Iterable[str] = (), params: dict | None = None,
            name: str | None = None, pos: tuple[int, int] | None = None,
            temp: bool | None = None) -> str:
        """Add a node computing ``op(*args)`` and return its name (fresh when not given).

        ``temp`` marks a generated name (printers may inline such nodes); by default a
        node is a temp exactly when no name was given.
        """
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
        try:
            shape = the_op.shape(self, args, params)
        except ShapeError as exc:
            line, col = pos or (None, None)
            detail = ", ".join(f"{a} {shapes.format_shape(self.shape(a))}" for a in args)
            raise ShapeError(f"{op}({detail}): {exc.message}", line, col) from None
        if temp is None:
            temp = name is None
        if name is None:
            name = self._temp_name()  # never a node's name
        elif name in nodes:
            raise ValueError(f"node {name!r} exists already")
        elastic = op == "input" and not params["declared"]
        for d in operands:  # an op on an elastic operand is elastic, unless always a scalar
            if d["elastic"]:
                elastic = not the_op.scalar_result(params)
                break
        attrs = {"op": op, "args": args, "params": params, "shape": shape, "temp": temp,
                 "elastic": elastic}
        if pos is not None:
            attrs["pos"] = pos
        # A new node with edges from existing ones, written straight into the DiGraph's
        # dicts (_node, _succ, _pred: its documented layout) to skip per-call checks that
        # cannot fail here; one edge per operand node, its slots on the edge.
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
        """Node ``name`` of another graph (its attributes ``attrs``) added to this one
        as it was, reading ``args``."""
        self.add(attrs["op"], args, attrs["params"], name=name, temp=attrs["temp"],
                 pos=attrs.get("pos"))
        if "shown" in attrs:
            self.show_as(name, attrs["shown"])
        return name

    def show_as(self, node: str, name: str) -> None:
        """Print node ``node`` as ``name`` (autodiff's ``x_bar`` for a node it made
        before it knew what it was): the node keeps its identity, so whatever holds
        it holds it still, and no node may take ``name`` later. Printers no longer
        fold it into its reader."""
        d = self.attrs(node)
        d["shown"], d["temp"] = name, False
        self.reserved.add(name)

    def shown(self, node: str) -> str:
        """The name node ``node`` prints as: the one ``show_as`` gave, else its own."""
        return self.attrs(node).get("shown", node)

    def add_input(self, name: str, shape: shapes.Shape = (), declared: bool = False) -> str:
        """Declare an input; undeclared inputs are scalars that broadcast at call time."""
        self.add("input", params={"shape": tuple(shape), "declared": declared}, name=name)
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
        """Give node ``old`` the name ``new`` in place, at the cost of its degree (parsing
        renames nearly every node): the dicts end as remove + add node and edges leave them."""
        nodes, succ, pred = self.nx._node, self.nx._succ, self.nx._pred
        if new in nodes:
            raise ValueError(f"node {new!r} exists already")
        cached = ordering.cached(self)
        nodes[new] = dict(nodes.pop(old), temp=False)
        pred[new], succ[new] = pred.pop(old), succ.pop(old)
        for src, d in pred[new].items():
            del succ[src][old]
            succ[src][new] = d
        for dst, d in succ[new].items():
            del pred[dst][old]
            pred[dst][new] = d
            node = nodes[dst]
            node["args"] = tuple(new if a == old else a for a in node["args"])
        self._index[new] = self._index.pop(old)
        edited(self.nx)
        ordering.after_rename(self, old, new, cached)
        if nodes[new]["op"] == "input":  # only input nodes are in self.inputs, a long list
            self.inputs = [new if n == old else n for n in self.inputs]
        if old in self.outputs:
            self.outputs = [new if n == old else n for n in self.outputs]

    # ---- reading ----------------------------------------------------------------
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
        """Node name -> its attribute dict, for the loops that read millions of them
        (one look-up each, where ``attrs`` is a call)."""
        return self.nx._node

    def readers(self, name: str) -> Mapping[str, dict]:
        """The nodes that read node ``name``, each with its edge's data (the ``slots``
        it is read in)."""
        return self.nx._succ[name]

    def n_readers(self, name: str) -> int:
        """How many nodes read node ``name`` (each counted once)."""
        return len(self.nx._succ[name])

    def position(self, name: str) -> int:
        """When node ``name`` was added, relative to the others: ``order`` keeps
        this order where the edges allow."""
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
        """True when the node's shape is only known at call time: it depends on an
        undeclared input, which may be given an array of any shape."""
        return self.attrs(name)["elastic"]

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
        """The nodes no output depends on, inputs excepted: found from the sinks inwards
        (one scan plus the unused nodes), not by walking up every used node."""
        succ, pred = self.nx._succ, self.nx._pred
        kept = set(self.outputs) | set(self.inputs)
        stack = [n for n, readers in succ.items() if not readers and n not in kept]
        found = set(stack)
        readers_left: dict[str, int] = {}
        while stack:
            for a in pred[stack.pop()]:
                left = readers_left.get(a, len(succ[a])) - 1
                readers_left[a] = left
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
        new.ops = dict(self.ops)
        new._index, new._consts = dict(self._index), dict(self._consts)
        new._temps, new.reserved = self._temps, set(self.reserved)
        new.meta = self.meta.copy()
        cached = ordering.cached(self)
        ordering.remember(new, list(cached) if cached is not None else None)
        return new

    def rebuilt(self, add: Callable[[Graph, str, dict], None]) -> Graph:
        """A new graph with this one's inputs, outputs and ops, whose other nodes
        ``add(new, node, attributes)`` puts in, in this graph's order: as they were
        (``new.add_like``), changed, or not at all."""
        new = Graph()
        new.ops, new.reserved = dict(self.ops), self.reserved | set(self.nx)
        new.nx.graph.update(self.nx.graph)
        new.meta = self.meta.copy()
        for v in self.order():
            d = self.attrs(v)
            if d["op"] == "input":
                new.add_input(v, d["params"]["shape"], d["params"]["declared"])
            else:
                add(new, v, d)
        new.inputs, new.outputs = list(self.inputs), list(self.outputs)
        return new

    # ---- running ----------------------------------------------------------------
    bind = interpret.bind
    evaluate = interpret.evaluate
    run = interpret.run

    def local_derivatives(self) -> dict[tuple[str, str], Any]:
        """Symbolic ``d dst / d src`` for every edge between non-constant nodes.

        >>> parse("c = a + b\nd = b + 1\ne = c * d").local_derivatives()[("c", "e")]
        d
        """
        return derive.local_derivatives(self)

    # ---- printing ---------------------------------------------------------------
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
