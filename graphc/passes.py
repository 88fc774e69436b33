"""Graph -> Graph rewrites, each switchable, run together to a fixed point.

One sweep visits the nodes in topological order with operands already rewritten, and
a rewrite only ever enables rewrites of later nodes (its consumers), so one linear
sweep reaches the fixed point; dead-node removal then tidies what it left unused.
Passes never change a value (tests run every graph optimized and unoptimized).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

from .graph import Graph, paused_gc

PASSES = ("dce", "fold", "identities", "cse")


def optimize(g: Graph, passes: tuple[str, ...] | None = PASSES) -> Graph:
    """The graph with dead nodes removed, constants folded, identities and common
    subexpressions merged; ``g.nx.graph['report']`` counts what each pass removed."""
    enabled = set(PASSES if passes is None else passes)
    report: Counter[str] = Counter()
    with paused_gc():
        g = _sweep(g, enabled, report)
        if "dce" in enabled:  # rewrites may have left nodes nothing uses any more
            dead = set(g.nx) - _live(g)
            report["dce"] += len(dead)
            g.remove(dead)
    g.nx.graph["report"] = dict(report)
    return g


def _live(g: Graph) -> set[str]:
    return g.upstream(g.outputs) | set(g.inputs)


def _value(g: Graph, name: str) -> Any:
    return g.attrs(name)["params"]["value"]


def _is(g: Graph, name: str, value: float) -> bool:
    return g.is_const(name) and _value(g, name) == value


def _identity(g: Graph, op: str, args: tuple[str, ...]) -> tuple[str, tuple] | str | None:
    """A simpler form of ``op(*args)``: an existing node, or a new (op, args)."""
    if op == "add":
        for mine, other in ((1, 0), (0, 1)):
            inner = g.attrs(args[mine])
            if inner["op"] == "neg":  # x + -y -> x - y
                return ("sub", (args[other], inner["args"][0]))
        if _is(g, args[1], 0.0) and g.shape(args[0]) == g.shape(args[1]) or \
                _is(g, args[1], 0.0) and g.shape(args[1]) == ():
            return args[0]
        if _is(g, args[0], 0.0) and g.shape(args[0]) == ():
            return args[1]
    elif op == "sub":
        if _is(g, args[1], 0.0) and g.shape(args[1]) == ():
            return args[0]
        if _is(g, args[0], 0.0) and g.shape(args[0]) == ():
            return ("neg", (args[1],))
    elif op == "mul":
        for mine, other in ((0, 1), (1, 0)):
            if _is(g, args[mine], 1.0) and g.shape(args[mine]) == ():
                return args[other]
            if _is(g, args[mine], -1.0) and g.shape(args[mine]) == ():
                return ("neg", (args[other],))
    elif op in ("div", "pow"):
        if _is(g, args[1], 1.0) and g.shape(args[1]) == ():
            return args[0]
    elif op == "neg":
        inner = g.attrs(args[0])
        if inner["op"] == "neg":
            return inner["args"][0]
    return None


def _fold(g: Graph, op: str, args: tuple[str, ...], params: dict) -> float | None:
    if not args or not all(g.is_const(a) for a in args):
        return None
    with np.errstate(all="ignore"):
        value = g.op_named(op).fn(*(_value(g, a) for a in args), **params)
    if np.ndim(value) != 0 or np.iscomplexobj(value):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _key(g: Graph, op: str, args: tuple[str, ...], params: dict) -> tuple:
    if g.op_named(op).commutative:
        args = tuple(sorted(args))
    return (op, args, tuple(sorted(params.items())))


def _simplify(new: Graph, op: str, args: tuple[str, ...], params: dict, enabled: set[str],
              seen: dict, report: Counter) -> tuple[str | None, str, tuple[str, ...]]:
    """An existing node standing for ``op(*args)``, else a simpler (op, args) to add."""
    for _ in range(4):  # a rewrite may enable another: 0 - x -> neg(x) -> x
        if "fold" in enabled:
            value = _fold(new, op, args, params)
            if value is not None:
                report["fold"] += 1
                return new.const(value), op, args
        simpler = _identity(new, op, args) if "identities" in enabled else None
        if simpler is None:
            break
        report["identities"] += 1
        if isinstance(simpler, str):
            return simpler, op, args
        op, args = simpler
    if "cse" in enabled and (target := seen.get(_key(new, op, args, params))) is not None:
        report["cse"] += 1
        return target, op, args
    return None, op, args


def _sweep(g: Graph, enabled: set[str], report: Counter) -> Graph:
    live = _live(g) if "dce" in enabled else set(g.nx)
    report["dce"] += len(g.nx) - len(live)
    new = Graph()
    new.ops = dict(g.ops)
    # Folded constants get generated names: none may take a name a later node keeps.
    new.reserved = g.reserved | set(g.nx)
    new.nx.graph.update(g.nx.graph)
    replaced: dict[str, str] = {}
    seen: dict[tuple, str] = {}
    outputs = set(g.outputs)
    for name in g.order():
        if name not in live:
            continue
        d = g.attrs(name)
        if d["op"] == "input":
            new.add_input(name, d["params"]["shape"], d["params"]["declared"])
            continue
        if d["op"] == "const":
            replaced[name] = new.const(d["params"]["value"])
            continue
        args = tuple(replaced.get(a, a) for a in d["args"])
        target, op, args = _simplify(new, d["op"], args, d["params"], enabled, seen, report)
        if target is None and op == "alias" and "identities" in enabled and name not in outputs:
            report["identities"] += 1
            target = args[0]
        if target is not None and name not in outputs:
            replaced[name] = target
            continue
        if target is not None and new.attrs(target)["temp"] and not new.is_const(target):
            new.rename(target, name)  # an output keeps its name
            seen = {k: (name if v == target else v) for k, v in seen.items()}
            replaced = {k: (name if v == target else v) for k, v in replaced.items()}
            continue
        if target is not None:
            op, args = "alias", (target,)
        new.add(op, args, d["params"], name=name, temp=d["temp"], pos=d.get("pos"))
        if "cse" in enabled:
            seen[_key(new, op, args, d["params"])] = name
    new.outputs = [replaced.get(o, o) for o in g.outputs]
    return new
