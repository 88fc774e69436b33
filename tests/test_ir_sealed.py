"""The IR is sealed: only graphc/ir touches networkx's internals, graph metadata is
typed, and the cached topological order follows every edit of the graph."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import networkx as nx
import pytest

import graphc as gc

PACKAGE = Path(gc.__file__).parent
INTERNALS = {"_node", "_succ", "_pred", "_adj"}


def test_nothing_outside_the_ir_reads_networkx_internals():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent.name == "ir":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and (
                    node.attr in INTERNALS  # the DiGraph's dicts
                    or node.attr == "graph" and isinstance(node.value, ast.Attribute)
                    and node.value.attr == "nx"):  # g.nx.graph: g.meta is typed
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} .{node.attr}")
    assert not found, found


def test_metadata_is_copied_with_the_graph():
    grad = gc.compile(gc.parse("y = log(sigmoid(x))")).grad_graph
    assert grad.meta.mode == "reverse" and grad.meta.wrt == ["x"] and grad.meta.of == "y"
    assert grad.meta.report["log(sigmoid(x)) -> -softplus(-x)"] == 1
    for copied in (grad.copy(), grad.rebuilt(lambda new, v, d: new.add_like(v, d, d["args"]))):
        assert copied.meta == grad.meta and copied.meta is not grad.meta


def _graph() -> gc.Graph:
    """colah's graph with an edge d -> c, so that its order is not the order its nodes
    were added in; that order cached."""
    g = gc.parse("c = a + b\nd = b + 1\ne = c * d")
    g.nx.add_edge("d", "c")
    assert g.order() == ["a", "b", g.const(1.0), "d", "c", "e"]
    return g


def _reference(g: gc.Graph) -> list[str]:
    """What order() computes from nothing: sorted topologically, ties by when added."""
    index: dict[str, float] = {}
    for n in g.nx:
        try:
            index[n] = g.position(n)
        except KeyError:  # added through networkx, not the Graph: last
            index[n] = math.inf
    return list(nx.lexicographical_topological_sort(g.nx, key=index.__getitem__))


NX_EDITS = {  # one edit per editing method of networkx's DiGraph, each changing the order
    "add_edge": lambda g: g.nx.add_edge("d", "a"),
    "add_edges_from": lambda g: g.nx.add_edges_from([("d", "a")]),
    "add_weighted_edges_from": lambda g: g.nx.add_weighted_edges_from([("d", "a", 1.0)]),
    "update": lambda g: g.nx.update(edges=[("d", "a")]),
    "add_node": lambda g: g.nx.add_node("z"),
    "add_nodes_from": lambda g: g.nx.add_nodes_from(["z"]),
    "remove_edge": lambda g: g.nx.remove_edge("d", "c"),
    "remove_edges_from": lambda g: g.nx.remove_edges_from([("d", "c")]),
    "remove_node": lambda g: g.nx.remove_node("e"),
    "remove_nodes_from": lambda g: g.nx.remove_nodes_from(["e"]),
    "clear": lambda g: g.nx.clear(),
    "clear_edges": lambda g: g.nx.clear_edges(),
}
GRAPH_EDITS = {  # and every editing method of the Graph
    "add": lambda g: g.add("sin", ("e",)),
    "add_like": lambda g: g.add_like("f", g.attrs("e"), ("c", "c")),
    "add_input": lambda g: g.add_input("w"),
    "const": lambda g: g.const(2.5),
    "remove": lambda g: g.remove(["e"]),
    "rename": lambda g: g.rename("c", "c2"),
    "relabel_nodes": lambda g: nx.relabel_nodes(g.nx, {"c": "c2"}, copy=False),
}


def test_every_editing_method_of_networkx_is_covered():
    editing = {m for m in dir(nx.DiGraph) if m.startswith(("add_", "remove_", "clear", "update"))}
    assert editing == set(NX_EDITS)


@pytest.mark.parametrize("edit", [*NX_EDITS, *GRAPH_EDITS])
def test_the_cached_order_follows_every_edit(edit):
    g = _graph()
    before = g.order()
    {**NX_EDITS, **GRAPH_EDITS}[edit](g)
    assert g.order() == _reference(g) != before
    assert g.copy().order() == g.order()


def test_the_cached_order_follows_a_sequence_of_edits():
    """Each edit on top of the others, the order asked for (and so cached) between."""
    g = _graph()
    for edit in ["add", "add_edge", "const", "add_like", "remove_edge", "add_input",
                 "add_node", "rename", "clear_edges", "add", "remove"]:
        {**NX_EDITS, **GRAPH_EDITS}[edit](g)
        assert g.order() == _reference(g), edit
