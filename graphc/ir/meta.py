"""What a graph records about itself beyond its nodes: typed, copied with the graph."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass
class Meta:
    """A graph's record of how it was made. A copy shares the values (as ``dict.copy``
    would): whoever changes one assigns a new value rather than editing it in place."""

    report: dict[str, int] = field(default_factory=dict)
    """Which rewrites fired and what passes removed, with counts (and the memory plan's reuses)."""
    flattened: bool = True
    """Block kernels: some array may be flattened to a vector (only full sums are sums)."""

    # set by autodiff on the graph it makes; "" and empty on any other graph
    mode: str = ""
    """"reverse" or "forward"."""
    wrt: list[str] = field(default_factory=list)
    """The inputs differentiated with respect to, in order."""
    of: str = ""
    """The output differentiated."""
    adjoints: dict[str, str] = field(default_factory=dict)
    """Reverse mode: node -> the node holding its adjoint."""
    stretched: bool = False
    """Reverse mode: adjoints kept in the smallest shape that broadcasts to the output's."""
    tangents: dict[str, dict[str, str]] = field(default_factory=dict)
    """Forward mode: input -> node -> the node holding its tangent along that input."""

    def copy(self) -> Meta:
        return replace(self)
