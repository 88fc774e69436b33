"""networkx's DiGraph as the IR keeps it: every edit counted, so that nothing cached
about its structure outlives a change."""

from __future__ import annotations

from typing import Any

import networkx as nx


class IR(nx.DiGraph):
    """networkx's DiGraph that counts its edits in ``version``, so that what is cached
    about its structure (``Graph.order``) is known to be current, whatever edits it:
    its own methods here, networkx functions that call them, or ``Graph``'s methods,
    which write its dicts directly and call ``edited``."""

    version = 0

    def add_node(self, *args: Any, **kwargs: Any) -> None:
        super().add_node(*args, **kwargs)
        edited(self)

    def add_nodes_from(self, *args: Any, **kwargs: Any) -> None:
        super().add_nodes_from(*args, **kwargs)
        edited(self)

    def remove_node(self, *args: Any, **kwargs: Any) -> None:
        super().remove_node(*args, **kwargs)
        edited(self)

    def remove_nodes_from(self, *args: Any, **kwargs: Any) -> None:
        super().remove_nodes_from(*args, **kwargs)
        edited(self)

    def add_edge(self, *args: Any, **kwargs: Any) -> None:
        super().add_edge(*args, **kwargs)
        edited(self)

    def add_edges_from(self, *args: Any, **kwargs: Any) -> None:
        super().add_edges_from(*args, **kwargs)
        edited(self)

    def remove_edge(self, *args: Any, **kwargs: Any) -> None:
        super().remove_edge(*args, **kwargs)
        edited(self)

    def remove_edges_from(self, *args: Any, **kwargs: Any) -> None:
        super().remove_edges_from(*args, **kwargs)
        edited(self)

    def clear(self) -> None:
        super().clear()
        edited(self)

    def clear_edges(self) -> None:
        super().clear_edges()
        edited(self)


def edited(graph: nx.DiGraph) -> None:
    """Count an edit of ``graph``'s structure (a plain DiGraph has no count to keep)."""
    if isinstance(graph, IR):
        graph.version += 1


def copied(old: nx.DiGraph) -> nx.DiGraph:
    """nx.DiGraph.copy() for our graphs, in one pass over the dicts: each edge's data dict
    is shared by its _succ and _pred entries, as networkx keeps it."""
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
