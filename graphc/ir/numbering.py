"""Temporaries a reader sees numbered t1, t2, t3 ... without gaps: the frontends number
every temporary they make, and folding or rewriting some away leaves the survivors at
t3, t6, t7. Only names a frontend generated move; a user's name (even ``t2``) never
does, and a renumbered temporary never takes one."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .graph import Graph

TEMP = re.compile(r"t[0-9]+")
"""A generated temporary's name (``Graph._temp_name``)."""


def consecutive(temps: Iterable[str], taken: set[str]) -> dict[str, str]:
    """Each of ``temps`` (in the order a reader meets them) -> t1, t2, ..., none of them
    in ``taken``."""
    free = (f"t{k}" for k in itertools.count(1) if f"t{k}" not in taken)
    return dict(zip(temps, free))


def words(text: str, new: dict[str, str]) -> str:
    """``text`` with each whole word that is a key of ``new`` replaced."""
    return re.sub(r"\b[A-Za-z_]\w*\b", lambda m: new.get(m.group(), m.group()), text)


def teaching(g: Graph, of: str | None = None) -> tuple[Graph, str]:
    """``g`` as the teaching views show it (``renumbered``), and its output node there."""
    out = g.output(of)
    h, moves = renumbered(g)
    return h, moves.get(out, out)


def renumbered(g: Graph) -> tuple[Graph, dict[str, str]]:
    """``g`` itself when its temporaries are consecutive already, else a copy whose
    temporaries (generated, not constants: those are drawn and printed by value) are
    t1, t2, ... in topological order, and each moved node's new name. A constant whose
    name a temporary takes moves out of the way. A gradient graph (its records name
    nodes) is left as it is."""
    data = g.node_data()
    temps = [n for n in g.order() if _moves(n, data[n])]
    taken = ({d.get("shown", n) for n, d in data.items() if d["op"] != "const"
              and not _moves(n, d)} | {n for n, d in data.items() if d["op"] != "const"}
             | g.reserved | set(g.ops))
    new = {old: name for old, name in consecutive(temps, taken - set(temps)).items()
           if old != name}
    if not new or g.meta.mode:
        return g, {}
    h = g.copy()
    targets = set(new.values())
    consts = {n: h.fresh(f"c_{n}") for n, d in data.items() if d["op"] == "const"
              and n in targets}
    moves = {**consts, **new}
    parked = {old: h.fresh(f"__renumbered_{k}") for k, old in enumerate(moves)}
    for old, spot in parked.items():  # through unused names: t5 -> t4 while t4 -> t3
        h.rename(old, spot)
    for old, spot in parked.items():
        h.rename(spot, moves[old])
        h.attrs(moves[old])["temp"] = data[old]["temp"]
    h._consts = {k: moves.get(v, v) for k, v in h._consts.items()}
    return h, moves


def _moves(node: str, d: dict) -> bool:
    """A temporary named as a frontend names them, not yet shown under another name."""
    return bool(d["temp"]) and d["op"] != "const" and "shown" not in d \
        and TEMP.fullmatch(node) is not None


def tidy(g: Graph, nodes: list[str], names: dict[str, str]) -> dict[str, str]:
    """Of ``nodes`` (printed in this order, named by ``names``), the generated
    temporaries' names -> t1, t2, ... in that order, skipping every name that stays
    (a folded temporary's or a constant's appears nowhere)."""
    data = g.node_data()
    printed = [names[n] for n in nodes if _moves(n, data[n]) and names[n] == n]
    if not printed:
        return {}
    taken = {names[n] for n, d in data.items() if d["op"] != "const"
             and not (_moves(n, d) and names[n] == n)} | set(g.ops)
    return {old: new for old, new in consecutive(printed, taken).items() if old != new}
