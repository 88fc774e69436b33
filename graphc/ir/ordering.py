"""A graph's topological order, the same on every run (insertion order breaks ties).

It is cached with the DiGraph's edit count (``IR.version``): the Graph's own edits keep
it current, any other edit drops it."""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING

import networkx as nx

from ..errors import CycleError
from .digraph import IR

if TYPE_CHECKING:
    from .graph import Graph


def order(g: Graph) -> list[str]:
    """A topological order of all node names: insertion order when it is one (checked in
    linear time), else networkx's lexicographical sort keyed by it."""
    index, pred = g._index, g.nx._pred
    if (nodes := cached(g)) is not None:
        return list(nodes)
    if index.keys() == g.nx._node.keys():
        nodes = sorted(g.nx, key=index.__getitem__)
        if all(index[p] < index[n] for n in nodes for p in pred[n]):
            remember(g, nodes)
            return list(nodes)
    try:
        return list(nx.lexicographical_topological_sort(  # nodes added to g.nx last
            g.nx, key=lambda n: index.get(n, math.inf)))
    except nx.NetworkXUnfeasible:
        cycle = [u for u, _ in nx.find_cycle(g.nx)]
        raise CycleError("the graph has a cycle: " + " -> ".join(cycle + cycle[:1])) \
            from None


def remember(g: Graph, nodes: list[str] | None) -> None:
    """Cache ``nodes`` as ``g``'s order now: nothing for None or a plain DiGraph in ``g.nx``."""
    g._order = (g.nx, g.nx.version, nodes) if nodes is not None and isinstance(g.nx, IR) else None


def cached(g: Graph) -> list[str] | None:
    """The cached order, if it is one of the graph as it is now."""
    graph, version, nodes = g._order or (None, None, None)
    return nodes if graph is g.nx and version == graph.version else None


def after_add(g: Graph, name: str, nodes: list[str] | None) -> None:
    """Keep the order (``nodes``, cached before) through an add: a node indexed last is last."""
    if nodes and g._index[nodes[-1]] >= g._index[name]:
        nodes = None  # indexes repeat after a removal: let order() sort it out
    if nodes is not None:
        nodes.append(name)
    remember(g, nodes)


def after_remove(g: Graph, removed: set[str], nodes: list[str] | None) -> None:
    """What is left of a topological order is one, and the same order() would sort."""
    remember(g, [n for n in nodes if n not in removed] if nodes is not None else None)


def after_rename(g: Graph, old: str, new: str, nodes: list[str] | None) -> None:
    """Keep the order through a rename, before ``new`` takes ``old``'s index: the node keeps
    its place, unless another has the same index (order() breaks ties by dict order)."""
    index = g._index
    if nodes:
        at = index[old]
        # usually the node just added; else a binary search (nodes are sorted by index)
        k = len(nodes) - 1 if nodes[-1] == old else \
            bisect.bisect_left(nodes, at, key=index.__getitem__)
        near = [nodes[j] for j in (k - 1, k + 1) if 0 <= j < len(nodes)]
        if nodes[k] == old and all(index[n] != at for n in near):
            nodes[k] = new
            remember(g, nodes)
            return
    remember(g, None)
