"""Names in emitted source: each node's, safe and distinct (``Namer``), and the
temporaries numbered t1, t2, ... as printed (``numbered``), never while graphs are built."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

from ..ir.graph import Graph


class Namer:
    """Node names -> distinct, safe identifiers, deterministically, none in ``taken``;
    a node in ``shown`` is named like the name it is shown as."""

    def __init__(self, taken: Iterable[str], shown: dict[str, str] | None = None):
        self.taken = set(taken)
        self.shown = shown or {}
        self.names: dict[str, str] = {}

    def __call__(self, node: str) -> str:
        if node not in self.names:
            self.names[node] = self.fresh(self.base(node))
        return self.names[node]

    def base(self, node: str) -> str:
        """The name node ``node`` is shown as, that names made for it start from."""
        return self.shown.get(node, node)

    def fresh(self, text: str) -> str:
        """A new identifier like ``text`` for a value that is no node (``like``)."""
        if text.isascii() and text.isidentifier() and not text.startswith("__"):
            base = text  # the common case, without the regular expression
        else:
            base = re.sub(r"[^0-9A-Za-z_]", "_", text) or "v"
            if base[0].isdigit() or base.startswith("__"):
                base = "v" + base
        name, k = base, 0
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name


_TEMP_WORD = re.compile(r"\b(t[0-9]+)(_\w+)?\b")  # a temporary's name, or one made from it


def numbered(source: str, graphs: list[Graph], namer: Namer) -> str:
    """``source`` with its temporaries renamed t1, t2, ... in the order they first
    appear, skipping numbers other names take (the graph's counter leaves gaps where
    nodes were rewritten away). A temporary: a temp node of ``graphs`` under its
    generated name, given by ``namer`` or by a kernel's; names made from one
    (``t6_bar``) follow it."""
    nodes = [h.node_data() for h in graphs]

    def temp(word: str) -> bool:  # a temp node's generated name, which names it here
        named = namer.names.get(word)
        return (named == word or named is None and word not in namer.taken) and \
            any(word in d and d[word]["temp"] for d in nodes)
    parts = _TEMP_WORD.split(source)  # text, name, what follows it (or None), text, ...
    words = parts[1::3]
    found = [w for w in dict.fromkeys(words) if temp(w)]
    if not found:
        return source
    taken = set(words).difference(found)  # names, and names others are made from, that stay
    new = dict(zip(found, (f"t{k}" for k in itertools.count(1) if f"t{k}" not in taken)))
    parts[1::3] = [new.get(w, w) for w in words]
    parts[2::3] = [s or "" for s in parts[2::3]]
    return "".join(parts)
