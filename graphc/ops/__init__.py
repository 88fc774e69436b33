"""The op table: every op graphc knows, its shape rule, derivatives and spelling.

``table`` holds the ``Op`` record and the arithmetic; each other module registers one
family of ops in it (``elementwise``, ``choices``, ``tensor``, ``reductions``,
``indexing``, ``shaping``, ``joining``, ``constants``, ``arrays``, ``products``,
``sorting``, ``losses``, ``directions``), and
importing this package registers them all. Below them: ``shapes`` (static shapes),
``values`` (the input rule and constant folding) and ``special`` (NumPy erf, gammaln,
digamma, shipped with the emitted code), which need no op.
"""

from . import arrays as _arrays  # noqa: F401 - registers roll, pad, diag, ... in OPS
from . import choices as _choices  # noqa: F401 - registers comparisons, where, %, ...
from . import constants as _constants  # noqa: F401 - registers zeros, ones, full, eye, arange
from . import directions as _directions  # noqa: F401 - forward mode's basis, lift, ...
from . import elementwise as _elementwise  # noqa: F401 - registers NumPy's functions in OPS
from . import indexing as _indexing  # noqa: F401 - registers x[key], take_along_axis
from . import joining as _joining  # noqa: F401 - registers concatenate, stack
from . import losses as _losses  # noqa: F401 - registers binary_cross_entropy, huber
from . import numpy_more as _numpy_more  # noqa: F401 - cbrt, fmod, ..., linspace, tri
from . import products as _products  # noqa: F401 - einsum, dot, tensordot, kron
from . import reductions as _reductions  # noqa: F401 - registers max, min, prod, var, norm...
from . import shaping as _shaping  # noqa: F401 - registers reshape, squeeze, ... in OPS
from . import sorting as _sorting  # noqa: F401 - sort
from . import tensor as _tensor  # noqa: F401 - registers the structural ops in OPS
from .table import ADD, ATOM, COMPARE, MUL, OPS, SPELLINGS, UNARY, Op, Trait, lookup, spelled

FUNCTIONS = sorted(name for name, op in OPS.items()
                   if op.public and (op.symbol is None or op.positional))
"""The names a user may call in .gc text and as ``gc.<name>`` (an operator with
parameters too: ``x.T`` is ``transpose(x, axes=None)``)."""

__all__ = ["ADD", "ATOM", "COMPARE", "FUNCTIONS", "MUL", "OPS", "SPELLINGS", "UNARY", "Op", "Trait",
           "lookup", "spelled"]
