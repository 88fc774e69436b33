"""networkx's DiGraph as the IR keeps it: every edit counted, so that nothing cached
about its structure outlives a change."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import networkx as nx


class IR(nx.DiGraph):
    """networkx's DiGraph counting its edits in ``version``, whoever makes them: its editing
    methods, networkx functions calling them, or ``Graph``'s direct writes (``edited``)."""

    version = 0


def _counted(edit: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(edit)
    def counted(self: IR, *args: Any, **kwargs: Any) -> None:
        edit(self, *args, **kwargs)
        self.version += 1
    return counted


for _name in ("add_node", "add_nodes_from", "remove_node", "remove_nodes_from", "add_edge",
              "add_edges_from", "remove_edge", "remove_edges_from", "clear", "clear_edges"):
    setattr(IR, _name, _counted(getattr(nx.DiGraph, _name)))


def edited(graph: nx.DiGraph) -> None:
    """Count an edit of ``graph``'s structure (a plain DiGraph has no count to keep)."""
    if isinstance(graph, IR):
        graph.version += 1


def copied(old: nx.DiGraph) -> nx.DiGraph:
    """nx.DiGraph.copy() in one pass over the dicts (an edge's data shared by _succ, _pred)."""
    new = IR()
    new.graph.update(old.graph)
    new._node.update((n, dict(d)) for n, d in old._node.items())
    succ, pred = new._succ, new._pred
    for n in old._node:
        succ[n], pred[n] = {}, {}
    for u, nbrs in old._succ.items():
        out = succ[u]
        for v, d in nbrs.items():
            out[v] = pred[v][u] = dict(d)
    return new
