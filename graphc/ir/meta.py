"""What a graph records about itself beyond its nodes: typed, copied with the graph."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass
class Meta:
    """A graph's record of how it was made. A copy shares the values (as ``dict.copy``
    would): whoever changes one assigns a new value rather than editing it in place."""

    # which rewrites fired and what the passes removed, with counts (and memory reuses)
    report: dict[str, int] = field(default_factory=dict)
    flattened: bool = True  # block kernels: an array may be a vector (sum all = full sum)
    # set by autodiff on the graph it makes; "" and empty on any other graph
    mode: str = ""  # "reverse" or "forward"
    wrt: list[str] = field(default_factory=list)  # the inputs differentiated, in order
    of: str = ""  # the output differentiated
    adjoints: dict[str, str] = field(default_factory=dict)  # reverse: node -> its adjoint
    # reverse: (node, how many nodes the graph had when its adjoint's turn began), in
    # turn order: which lines each step of the stepper's code executes
    turns: list[tuple[str, int]] = field(default_factory=list)
    # reverse: a node holding what flows back along an edge (its operand's adjoint's
    # part from one consumer) -> (operand, consumer): the teaching code names it so
    parts: dict[str, tuple[str, str]] = field(default_factory=dict)
    stretched: bool = False  # reverse: adjoints in the least shape broadcasting to out's
    # forward mode: input -> node -> the node holding its tangent along that input
    tangents: dict[str, dict[str, str]] = field(default_factory=dict)

    def copy(self) -> Meta:
        return replace(self)
