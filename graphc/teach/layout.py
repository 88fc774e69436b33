"""One layout per graph: Graphviz's ``dot`` places the nodes and routes the edges once,
for the picture with every label at its widest, and every frame and picture of the
graph is drawn at those places (``neato -n2`` keeps them), so nothing jumps or shrinks
from one frame to the next and the paths picture lines up with the values picture."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass
class Layout:
    nodes: dict[str, dict[str, str]]  # DOT id -> pos, width, height, fixedsize
    edges: dict[tuple[str, str, int], dict[str, str]]  # (tail, head, k-th) -> pos, lp
    bb: str = ""  # the canvas: every frame keeps it, though its labels grow step by step
    room: tuple[float, int] = (0.0, 0)  # the legend's above it: width, lines (canvas.py)
    direction: str = "LR"  # the rankdir it was laid out with

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Layout:
        """From ``dot -Tjson`` output, read."""
        objects = data.get("objects", [])
        names = {o["_gvid"]: o["name"] for o in objects}
        nodes = {o["name"]: {"pos": o["pos"] + "!", "width": o["width"],
                             "height": o["height"], "fixedsize": "true"}
                 for o in objects if "pos" in o}
        edges: dict[tuple[str, str, int], dict[str, str]] = {}
        seen: Counter = Counter()
        for e in data.get("edges", []):
            pair = (names[e["tail"]], names[e["head"]])
            edges[(pair[0], pair[1], seen[pair])] = {k: e[k] for k in ("pos", "lp") if k in e}
            seen[pair] += 1
        return cls(nodes, edges, data.get("bb", ""))


class Pins:
    """Hands out each edge's place in the order the edges are drawn."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.seen: Counter = Counter()
        self.overlays: Counter = Counter()

    def node(self, nid: str) -> dict[str, str]:
        return dict(self.layout.nodes.get(nid, {}))

    def edge(self, tail: str, head: str) -> dict[str, str]:
        k = self.seen[(tail, head)]
        self.seen[(tail, head)] += 1
        return dict(self.layout.edges.get((tail, head, k), {}))

    def overlay(self, tail: str, head: str, k: int, gap: float) -> dict[str, str]:
        """A path's curve beside the ``k``-th edge tail -> head (``a + a`` has two), on
        the side away from its label, each further path on the same edge one ``gap``
        further out: no label crossed out."""
        place = self.layout.edges.get((tail, head, k), {})
        if "pos" not in place:
            return {}
        self.overlays[(tail, head, k)] += 1
        return {"pos": offset(place["pos"], place.get("lp"),
                              gap * self.overlays[(tail, head, k)])}


def offset(pos: str, lp: str | None, distance: float) -> str:
    """A spline ``pos`` ("e,x,y x,y x,y ...") moved ``distance`` points sideways, away
    from the label at ``lp``."""
    marks, points = [], []
    for part in pos.split():
        bits = part.split(",")
        marks.append(bits[0] + "," if len(bits) == 3 else "")
        points.append((float(bits[-2]), float(bits[-1])))
    curve = [p for p, m in zip(points, marks) if not m]
    (x0, y0), (x1, y1) = curve[0], curve[-1]
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length  # the normal, to the left
    if lp:
        lx, ly = (float(v) for v in lp.split(","))
        mx, my = curve[len(curve) // 2]
        if (lx - mx) * nx + (ly - my) * ny > 0:  # the label is on the left: go right
            nx, ny = -nx, -ny
    return " ".join(f"{m}{x + nx * distance:.2f},{y + ny * distance:.2f}"
                    for m, (x, y) in zip(marks, points))
