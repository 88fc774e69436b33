"""The IR: a networkx DiGraph whose nodes carry an op, ordered operands and a shape.

networkx keeps one edge per pair of nodes, so a node's operands live on the node as
an ordered tuple (``x*x`` has ``args == ("x", "x")``); the edge records the slots.
Every walk is iterative and every order deterministic (insertion order breaks ties).
"""

from __future__ import annotations

import bisect
import gc
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import networkx as nx
import numpy as np

from ..errors import CycleError, InputError, ShapeError, UndefinedNameError
from ..ops import Op, lookup, shapes
from ..ops.values import check_value
from . import derive, text
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
        # ((the DiGraph, its version), order): a topological order, valid while the
        # DiGraph is the same one at the same version; add, rename and remove keep it
        self._order: tuple[tuple, list[str]] | None = (self._stamp(), [])

    # ---- building ---------------------------------------------------------------
    def fresh(self, base: str) -> str:
        """A node name not yet used: ``base`` itself, else ``base_1``, ``base_2``..."""
        name, k = base, 0
        while name in self.nx._node or name in self.reserved:
            k += 1
            name = f"{base}_{k}"
        return name

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
        cached = self._cached()
        nodes[name], succ[name], self.nx._pred[name] = attrs, {}, into
        edited(self.nx)
        for slot, a in enumerate(args):
            if a in into:
                into[a]["slots"] += (slot,)
            else:
                into[a] = succ[a][name] = {"slots": (slot,)}
        self._index[name] = len(self._index)
        self._append_to_order(name, cached)
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

    def _append_to_order(self, name: str, nodes: list[str] | None) -> None:
        """Keep the cached order through an add (``nodes``: the order cached before, if
        valid): a node indexed after all others is last."""
        if nodes is None:
            self._order = None
            return
        if nodes and self._index[nodes[-1]] >= self._index[name]:
            self._order = None  # indexes repeat after a removal: let order() sort it out
            return
        nodes.append(name)
        self._order = (self._stamp(), nodes)

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
        cached = self._cached()
        self.nx.remove_nodes_from(nodes)
        for n in nodes:
            self._index.pop(n, None)
        # what is left of a topological order is one, and the same order() would sort
        self._order = (self._stamp(), [n for n in cached if n not in nodes]) \
            if cached is not None else None
        self._consts = {k: v for k, v in self._consts.items() if v not in nodes}
        self.inputs = [n for n in self.inputs if n not in nodes]

    def rename(self, old: str, new: str) -> None:
        """Give node ``old`` the name ``new`` in place; costs its degree, not the graph.

        Edits the DiGraph's dicts directly (parsing renames nearly every node) and leaves
        them as ``remove_node`` + ``add_node`` + ``add_edge`` would: the node and its
        edges move to the end of their dicts, in their old order.
        """
        nodes, succ, pred = self.nx._node, self.nx._succ, self.nx._pred
        if new in nodes:
            raise ValueError(f"node {new!r} exists already")
        cached = self._cached()
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
        self._rename_in_order(old, new, cached)
        if nodes[new]["op"] == "input":  # only input nodes are in self.inputs, a long list
            self.inputs = [new if n == old else n for n in self.inputs]
        if old in self.outputs:
            self.outputs = [new if n == old else n for n in self.outputs]

    def _rename_in_order(self, old: str, new: str, nodes: list[str] | None) -> None:
        """Keep the cached order through a rename (``nodes``: the order cached before, if
        valid; ``new`` has ``old``'s index now): the node keeps its index, so its place,
        unless another node has the same index (the tie order() would break by dict
        order, which the rename changes)."""
        if nodes is None:
            self._order = None
            return
        index = self._index
        # usually the node just added; else a binary search (nodes are sorted by index)
        key = lambda n: index[new if n == old else n]  # noqa: E731 - old's index is new's
        k = len(nodes) - 1 if nodes and nodes[-1] == old else \
            bisect.bisect_left(nodes, index[new], key=key)
        tie = k + 1 < len(nodes) and key(nodes[k + 1]) == index[new] or \
            k > 0 and key(nodes[k - 1]) == index[new]
        if k < len(nodes) and nodes[k] == old and not tie:
            nodes[k] = new
            self._order = (self._stamp(), nodes)
        else:
            self._order = None

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

    def order(self) -> list[str]:
        """A topological order of all node names, the same on every run.

        Builders add a node only after its operands, so insertion order is usually
        already topological; that is checked in linear time before it is trusted, and
        then kept up to date as the graph's own methods edit it.
        """
        index, pred = self._index, self.nx._pred
        if (cached := self._cached()) is not None:
            return list(cached)
        if index.keys() == self.nx._node.keys():
            nodes = sorted(self.nx, key=index.__getitem__)
            if all(index[p] < index[n] for n in nodes for p in pred[n]):
                self._order = (self._stamp(), nodes)
                return list(nodes)
        try:
            return list(nx.lexicographical_topological_sort(  # nodes added to g.nx last
                self.nx, key=lambda n: self._index.get(n, math.inf)))
        except nx.NetworkXUnfeasible:
            cycle = [u for u, _ in nx.find_cycle(self.nx)]
            raise CycleError("the graph has a cycle: " + " -> ".join(cycle + cycle[:1])) \
                from None

    def _stamp(self) -> tuple[nx.DiGraph, int | None]:
        """Which DiGraph, at which version: any edit through its methods (``IR``) or
        ours changes it, so no cached order outlives one (a plain DiGraph put in
        ``g.nx`` has no version: nothing is cached for it)."""
        return self.nx, getattr(self.nx, "version", None)

    def _cached(self) -> list[str] | None:
        """The cached order, if it is one of the graph as it is now."""
        if self._order is None:
            return None
        (graph, version), nodes = self._order
        valid = graph is self.nx and version is not None and version == self.nx.version
        return nodes if valid else None

    def upstream(self, nodes: Iterable[str]) -> set[str]:
        """``nodes`` and everything they depend on: one walk for all of them."""
        return _reach(self.nx._pred, nodes)

    def downstream(self, nodes: Iterable[str]) -> set[str]:
        """``nodes`` and everything that depends on them: one walk for all of them."""
        return _reach(self.nx._succ, nodes)

    def unused(self) -> set[str]:
        """The nodes no output depends on, inputs excepted.

        Found from the sinks inwards, a node once all its readers are unused: that
        costs one scan of the nodes plus the unused ones, where a walk up from the
        outputs would visit every used node (most of them, after a rewrite sweep).
        """
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
            raise UndefinedNameError(
                f"of={of!r}: no such node (nodes: {', '.join(self.named_nodes())})")
        return of

    def named_nodes(self) -> list[str]:
        """Nodes that carry a user's name rather than a generated one, as shown."""
        return [d.get("shown", n) for n, d in self.nx.nodes(data=True) if not d["temp"]]

    def copy(self) -> Graph:
        """An independent copy (node and edge attribute dicts copied, as nx.copy does)."""
        new = Graph()
        new.nx = copied(self.nx)
        new.inputs, new.outputs = list(self.inputs), list(self.outputs)
        new.ops = dict(self.ops)
        new._index, new._consts = dict(self._index), dict(self._consts)
        new._temps, new.reserved = self._temps, set(self.reserved)
        new.meta = self.meta.copy()
        cached = self._cached()
        new._order = (new._stamp(), list(cached)) if cached is not None else None
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
    def bind(self, args: tuple = (), kwargs: dict | None = None,
             names: list[str] | None = None) -> dict[str, Any]:
        """Match call arguments to inputs and check them; raises ``InputError``."""
        names = self.inputs if names is None else names
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise InputError(f"input values are a mapping name -> value, got "
                             f"{type(kwargs).__name__}")
        kwargs = dict(kwargs or {})
        if len(args) > len(names):
            raise InputError(f"{len(args)} positional values given, the graph has "
                             f"{len(names)} inputs ({', '.join(names)})")
        values = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in names:
                raise InputError(f"unexpected input {k!r} (inputs: {', '.join(names)})")
            if k in values:
                raise InputError(f"input {k!r} given twice")
            values[k] = v
        missing = [n for n in names if n not in values]
        if missing:
            raise InputError("missing input" + ("s " if len(missing) > 1 else " ")
                             + ", ".join(missing))
        dims: dict[str, int] = {}
        checked = {n: check_value(n, values[n], self.attrs(n)["params"], dims) for n in names}
        weak = [n for n in names if isinstance(values[n], (int, float))
                and not isinstance(values[n], np.generic)]
        strong = [checked[n] for n in names if n not in weak]
        if weak and strong:  # Python numbers are weak: in NumPy, float32 arrays stay float32
            like = np.result_type(*strong)
            checked.update((n, like.type(checked[n])) for n in weak)
        return checked  # shapes that meet in no op may differ (a.T * b: a (3, 1), b (4, 1))

    def evaluate(self, /, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Run the graph in the interpreter: node name -> forward value.

        >>> parse("e = (a + b) * (b + 1)").evaluate(a=2.0, b=1.0)["e"]
        6.0
        """
        values = self.bind(args, kwargs)
        try:
            return self.run(dict(values))
        except ValueError as exc:  # an undeclared input that meets a declared one
            declared = {n: self.shape(n) if self.attrs(n)["params"]["declared"] else None
                        for n in self.inputs}
            raise shapes.not_broadcasting(values, declared, exc) from None

    def run(self, env: dict[str, Any]) -> dict[str, Any]:
        """Evaluate every node from already checked input values (``env`` is extended)."""
        for name in self.order():
            d = self.nx.nodes[name]
            if d["op"] == "const":
                env[name] = d["params"]["value"]
            elif d["op"] != "input":
                fn = self.op(name).fn
                env[name] = fn(*(env[a] for a in d["args"]), **d["params"])
        return env

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
        """Jupyter shows the graph as ``Graph.display`` draws it (``graphc.teach.render``
        installs its picture there), as text when nothing draws it."""
        shown = Graph.display(self, include, exclude) if Graph.display else None
        return shown or {"text/plain": repr(self)}


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building big graphs.

    Building allocates many small objects and no cycles that need collecting early;
    the collector's repeated scans of a growing heap would make that superlinear.
    When a big graph was built, what survives the pause is long-lived (a graph, a
    module), so it goes straight to the oldest generation (``gc.freeze`` +
    ``gc.unfreeze``) rather than through the young ones, each of whose collections
    would scan all of it again; not when the program keeps frozen objects of its own.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_count()[0] > _MANY_OBJECTS and gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


_MANY_OBJECTS = 100_000
"""Objects made in a pause past which their collection is worth skipping (paused_gc)."""


def _reach(adjacency: dict, start: Iterable[str]) -> set[str]:
    seen = set(start)
    stack = list(seen)
    while stack:
        for m in adjacency[stack.pop()]:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return seen
