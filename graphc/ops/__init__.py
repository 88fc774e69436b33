"""The op table: every op graphc knows, its shape rule, derivatives and spelling.

``table`` holds the ``Op`` record and the elementwise ops, ``tensor`` the structural
ones; importing this package registers both. Below it: ``shapes`` (static shapes) and
``values`` (the input rule and constant folding), which need no op.
"""

from . import choices as _choices  # noqa: F401 - registers comparisons, where, %, ...
from . import indexing as _indexing  # noqa: F401 - registers x[key], take_along_axis
from . import products as _products  # noqa: F401 - einsum, dot, tensordot, kron
from . import reductions as _reductions  # noqa: F401 - registers max, min, prod, var, norm...
from . import sorting as _sorting  # noqa: F401 - sort
from . import tensor as _tensor  # noqa: F401 - registers the structural ops in OPS
from .table import ADD, ATOM, COMPARE, MUL, OPS, UNARY, Op, Trait, lookup

FUNCTIONS = sorted(name for name, op in OPS.items() if op.public and op.symbol is None)
"""The names a user may call in .gc text and as ``gc.<name>``."""

__all__ = ["ADD", "ATOM", "COMPARE", "FUNCTIONS", "MUL", "OPS", "UNARY", "Op", "Trait", "lookup"]
