"""Blocks: an elementwise function (or full sums of one) hands big same-shaped float
arrays to a block kernel run on all cores in cache-sized blocks (blocks.py,
kernels.py). Other functions, and small arrays, run the NumPy lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..ir.graph import Graph
from . import blocks, kernels, memory
from .base import RESERVED, Backend, Shipped, sources

if TYPE_CHECKING:
    from .emit import Emission, Function

_SOURCES = tuple(sources(blocks.HELPERS).values())


class Blocks(Backend):
    name = "blocks"
    help = "elementwise functions of big arrays in cache-sized blocks on all cores"
    reserved = RESERVED | blocks.NAMES | {memory._kept.__name__, "_KEPT", "threading"}

    def too_big(self) -> tuple[int, str]:
        return blocks.LIMIT, ("planning its block kernels would take about four times as "
                              "long as compiling the NumPy code")

    def split(self, g: Graph, flattened: Callable[[Graph], Graph]) -> blocks.Split | None:
        return kernels.flat_split(g, flattened)

    def branch(self, split: blocks.Split, fn: Function, emission: Emission, one_dtype: bool
               ) -> tuple[list[str], str]:
        return (kernels.branch_source(split, fn.name, emission, fn.returns),
                kernels.kernel_source(split, fn.name, emission, one_dtype))

    def shipped(self, functions: list[str], emission: Emission) -> Shipped:
        splits = [s for s in emission.splits if s is not None]
        if not splits:
            return Shipped()
        doc = ("Big same-shaped float arrays are evaluated in blocks on all cores\n"
               "(_in_blocks): arrays by the same operations on the same elements.\n")
        if any(s.sums for s in splits):
            doc += "Sums are added block by block: equal up to rounding.\n"
        return Shipped(_SOURCES, doc, blocks.IMPORTS, names=blocks.SHIPPED)

    def report(self, emission: Emission) -> dict[str, int]:
        return {**super().report(emission),
                "functions run in blocks": sum(s is not None for s in emission.splits)}


BLOCKS = Blocks()
