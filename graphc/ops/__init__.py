"""The op table: every op graphc knows, its shape rule, derivatives and spelling.

``table`` holds the ``Op`` record and the elementwise ops, ``tensor`` the structural
ones, ``shaping`` and ``arrays`` the shape and array ops; importing this package
registers them all. Below it: ``shapes`` (static shapes) and
``values`` (the input rule and constant folding), which need no op.
"""

from . import arrays as _arrays  # noqa: F401 - registers zeros, roll, pad, ... in OPS
from . import choices as _choices  # noqa: F401 - registers comparisons, where, %, ...
from . import elementwise as _elementwise  # noqa: F401 - registers NumPy's functions in OPS
from . import indexing as _indexing  # noqa: F401 - registers x[key], take_along_axis
from . import losses as _losses  # noqa: F401 - registers binary_cross_entropy, huber
from . import reductions as _reductions  # noqa: F401 - registers max, min, prod, var, norm...
from . import shaping as _shaping  # noqa: F401 - registers reshape, squeeze, ... in OPS
from . import tensor as _tensor  # noqa: F401 - registers the structural ops in OPS
from .table import ADD, ATOM, COMPARE, MUL, OPS, UNARY, Op, Trait, lookup

FUNCTIONS = sorted(name for name, op in OPS.items()
                   if op.public and (op.symbol is None or op.positional))
"""The names a user may call in .gc text and as ``gc.<name>`` (an operator with
parameters too: ``x.T`` is ``transpose(x, axes=None)``)."""

__all__ = ["ADD", "ATOM", "COMPARE", "FUNCTIONS", "MUL", "OPS", "UNARY", "Op", "Trait", "lookup"]
