"""Graph -> Graph rewrites, each switchable, run together to a fixed point.

One sweep in topological order, operands rewritten first, reaches the fixed point of
the rules that look at operands (a rewrite only enables rewrites of its consumers);
rules that count readers see the counts from before it, so arrays get a second sweep.
Last, chains of sums and products are regrouped (regroup.py). Passes change a value
by no more than rounding of the original's order (docs/performance.md); the stable
rewrites only move it toward the exact value. ``g.meta.report`` counts each rewrite.
"""

from __future__ import annotations

from collections import Counter

from ..ir.collector import paused_gc
from ..ir.graph import Graph
from ..ops import lookup
from ..ops.values import fold
from .regroup import regrouped
from .rules import RULES, Reader, const_value

PASSES = ("dce", "fold", "identities", "reassociate", "broadcasts", "stable", "cse",
          "memory")
"""Every pass; ``gc.compile(g, passes=...)`` picks a subset. "memory" plans buffer
reuse when the code is emitted (memory.py); the others rewrite the graph here with
the rules of rules/."""


def optimize(g: Graph, passes: tuple[str, ...] | None = PASSES) -> Graph:
    """The graph rewritten by the given passes; the output names stay."""
    enabled = set(PASSES if passes is None else passes)
    report: Counter[str] = Counter(g.meta.report)
    with paused_gc():
        for sweep in range(2):
            before = sum(report.values())
            g = _sweep(g, enabled, report)
            if "dce" in enabled:  # rewrites may have left nodes nothing uses any more
                dead = g.unused()
                report["dead nodes removed"] += len(dead)
                g.remove(dead)
            # once rewrites merged readers a second sweep sees the true counts (x_bar
            # read once, not three times); scalar graphs have no such rule to gain from
            if sweep or sum(report.values()) == before or not _has_arrays(g):
                break
        if "reassociate" in enabled and _has_arrays(g) and (found := regrouped(g)):
            g, fired = found
            report.update(fired)
    g.meta.report = dict(report)
    return g


def for_floats(g: Graph, passes: tuple[str, ...]) -> Graph | None:
    """``g`` for Python floats: undeclared inputs taken as scalars, so the helpers that
    undo broadcasting fold away. None when there are none to fold, an op is not
    elementwise, or the broadcasts pass is off."""
    free = [i for i in g.inputs if not g.attrs(i)["params"]["declared"]]
    ops = {g.op_named(d["op"]) for _, d in g.nx.nodes(data=True)}
    helpers = {op for op in ops if op.name in _FOLDED}
    if not free or "broadcasts" not in passes or not helpers or any(
            not (op in helpers or op.elementwise or op.arity == 0)
            for op in ops):  # a structural op (x.T, x @ y) needs arrays
        return None
    return _declared(g, dict.fromkeys(free, ()), passes)


_FOLDED = {op for op, rules in RULES.items() if not lookup(op).elementwise
           and any(kind == "broadcasts" for kind, _, _ in rules)}
"""The helpers that undo broadcasting (sum_to, broadcast_like, ones_like): the ops the
broadcasts pass folds away once shapes are known."""


def for_blocks(g: Graph) -> Graph:
    """``g`` for one block of same-shaped arrays (blocks.py): inputs not declared scalars
    become vectors of one length, and only the exact broadcasts rewrites run, so a block
    computes what the whole call does to the bit. ``h.meta.flattened``: some input was
    not a declared vector (only sums of every element are full sums)."""
    arrays = {i: g.attrs(i)["params"] for i in g.inputs
              if not (g.attrs(i)["params"]["declared"] and g.shape(i) == ())}
    h = _declared(g, dict.fromkeys(arrays, ("_n",)), ("broadcasts", "dce"))
    h.meta.flattened = any(not p["declared"] or len(p["shape"]) != 1
                           for p in arrays.values())
    return h


def _declared(g: Graph, shapes: dict[str, tuple], passes: tuple[str, ...]) -> Graph:
    """``g`` with these inputs declared of these shapes, rewritten by ``passes``."""
    h = g.copy()
    for i, shape in shapes.items():
        h.attrs(i)["params"] = {**h.attrs(i)["params"], "shape": shape, "declared": True}
    h.meta.report = {}
    return optimize(h, passes)


def _has_arrays(g: Graph) -> bool:
    return any(d["shape"] != () and not d["elastic"] for _, d in g.nx.nodes(data=True))


# ---- the sweep ------------------------------------------------------------------------
def _key(g: Reader, op: str, args: tuple[str, ...], params: dict) -> tuple:
    if g.op_named(op).commutative:
        args = tuple(sorted(args))
    return (op, args, tuple(sorted(params.items(), key=repr)) if params else ())


class _Simplifying:
    """The graph being built, whose ``add`` simplifies first, so nodes a rule makes are
    rewritten like any other; rules get it as a ``RuleView``."""

    def __init__(self, graph: Graph, enabled: set[str], report: Counter,
                 uses: dict[str, int]):
        self.graph, self.report = graph, report
        self.uses = uses  # consumers (and output use) of each node of the graph being read
        self.seen: dict[tuple, str] = {}  # common subexpressions: key -> node
        self.signs: dict[str, int] = {}  # node -> its sign, when asked (rules.sign_of)
        self.fold, self.cse = "fold" in enabled, "cse" in enabled
        self.rules = {op: [(name, fn) for kind, name, fn in rules if kind in enabled]
                      for op, rules in RULES.items()}
        # bound once: rules call them millions of times
        nodes = graph.node_data()
        self.attrs = nodes.__getitem__
        self.args = lambda name: nodes[name]["args"]
        self.shape = lambda name: nodes[name]["shape"]
        self.elastic = lambda name: nodes[name]["elastic"]
        self.is_const = lambda name: nodes[name]["op"] == "const"
        self.const, self.op_named, self.position = graph.const, graph.op_named, graph.position

    def simplify(self, op: str, args: tuple[str, ...], params: dict
                 ) -> tuple[str | None, str, tuple[str, ...], dict, tuple | None]:
        """An existing node standing for ``op(*args)``, else a simpler (op, args, params)
        to add, and its common-subexpression key (None without the cse pass)."""
        report = self.report
        for _ in range(8):  # a rewrite may enable another: 0 - x -> neg(x) -> x
            if self.fold and args and all(map(self.is_const, args)):
                # as NumPy's float64 computes it, inf and nan included (values.fold)
                value = fold(self.op_named(op).fn, [const_value(self, a) for a in args], params)
                if value is not None:
                    report["constants folded"] += 1
                    return self.const(value), op, args, params, None
            for name, fn in self.rules.get(op, ()):
                if (found := fn(self, op, args, params)) is not None:
                    report[name] += 1
                    break
            else:
                break
            if isinstance(found, str):
                return found, op, args, params, None
            op, args, params = found
            params = {**self.op_named(op).params, **params}
        key = _key(self, op, args, params) if self.cse else None
        if key is not None and (target := self.seen.get(key)) is not None:
            report["common subexpressions merged"] += 1
            return target, op, args, params, None
        return None, op, args, params, key

    def add(self, op: str, args: tuple[str, ...], params: dict | None = None) -> str:
        params = {**self.graph.op_named(op).params, **(params or {})}
        target, op, args, params, key = self.simplify(op, tuple(args), params)
        if target is not None:
            return target
        name = self.graph.add(op, args, params)
        if key is not None:
            self.seen[key] = name
        return name


def _sweep(g: Graph, enabled: set[str], report: Counter) -> Graph:
    dead = g.unused() if "dce" in enabled else set()
    report["dead nodes removed"] += len(dead)
    new = Graph()
    new.ops = dict(g.ops)
    # Folded constants get generated names: none may take a name a later node keeps.
    new.reserved = g.reserved | set(g.nx)
    new.meta = g.meta.copy()
    replaced: dict[str, str] = {}
    uses = {n: g.n_readers(n) for n in g.nx}
    for o in g.outputs:
        uses[o] = uses.get(o, 0) + 1
    builder = _Simplifying(new, enabled, report, uses)
    outputs = set(g.outputs)
    for name in g.order():
        if name in dead:
            continue
        d = g.attrs(name)
        if d["op"] == "input":
            new.add_input(name, **d["params"])
            continue
        if d["op"] == "const":
            replaced[name] = new.const(d["params"]["value"])
            continue
        args = tuple([replaced.get(a, a) for a in d["args"]])
        target, op, args, params, key = builder.simplify(d["op"], args, d["params"])
        if target is None and op == "alias" and "identities" in enabled and name not in outputs:
            report["aliases removed"] += 1
            target = args[0]
        if target is not None and name not in outputs:
            replaced[name] = target
            if target in args:  # name was its operand (x * 1 -> x): name's readers are
                uses[target] = uses.get(target, 1) + uses.get(name, 1) - 1  # its readers
            continue
        if target is not None and new.attrs(target)["temp"] and not new.is_const(target) \
                and target not in new.inputs:
            new.rename(target, name)  # an output keeps its name
            if "shown" in d:
                new.show_as(name, d["shown"])
            builder.signs.clear()  # they name nodes by their names
            builder.seen = {k: (name if v == target else v) for k, v in builder.seen.items()}
            replaced = {k: (name if v == target else v) for k, v in replaced.items()}
            replaced[target] = name  # later nodes may name the old node directly
            continue
        if target is not None:
            op, args, params = "alias", (target,), {}
            key = _key(new, op, args, params) if builder.cse else None
        new.add_like(name, {**d, "op": op, "params": params}, args)
        if key is not None:
            builder.seen[key] = name
    new.inputs = list(g.inputs)  # as declared, not in topological order
    new.outputs = [replaced.get(o, o) for o in g.outputs]
    return new
