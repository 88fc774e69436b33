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
from . import assembling as _assembling  # noqa: F401 - hstack & co., rot90, diagonal, take
from . import attention as _attention  # noqa: F401 - scaled dot-product attention
from . import choices as _choices  # noqa: F401 - registers comparisons, where, %, ...
from . import constants as _constants  # noqa: F401 - registers zeros, ones, full, eye, arange
from . import convolution as _convolution  # noqa: F401 - conv1d, conv2d, conv_transpose2d
from . import dimensions as _dimensions  # noqa: F401 - a dimension's name as a value
from . import directions as _directions  # noqa: F401 - forward mode's basis, lift, ...
from . import editing as _editing  # noqa: F401 - resize, delete
from . import elementwise as _elementwise  # noqa: F401 - registers NumPy's functions in OPS
from . import indexing as _indexing  # noqa: F401 - registers x[key], take_along_axis
from . import joining as _joining  # noqa: F401 - registers concatenate, stack
from . import linalg as _linalg  # noqa: F401 - solve, inv, det, slogdet, cholesky, ...
from . import losses as _losses  # noqa: F401 - registers binary_cross_entropy, huber
from . import nanreductions as _nanreductions  # noqa: F401 - nansum, nanmean, nanmax...
from . import normalization as _normalization  # noqa: F401 - layer_norm, rms_norm, ...
from . import numpy_more as _numpy_more  # noqa: F401 - cbrt, fmod, ..., linspace, tri
from . import pieces as _pieces  # noqa: F401 - ravel, split, array_split, unstack
from . import pooling as _pooling  # noqa: F401 - max_pool2d, avg_pool2d, global_avg_pool
from . import products as _products  # noqa: F401 - einsum, dot, tensordot, kron
from . import quantiles as _quantiles  # noqa: F401 - quantile, percentile, median
from . import reductions as _reductions  # noqa: F401 - registers max, min, prod, var, norm...
from . import sequence as _sequence  # noqa: F401 - embedding, dropout
from . import shaping as _shaping  # noqa: F401 - registers reshape, squeeze, ... in OPS
from . import sorting as _sorting  # noqa: F401 - sort
from . import summaries as _summaries  # noqa: F401 - diff, ptp, average, trapezoid
from . import tensor as _tensor  # noqa: F401 - registers the structural ops in OPS
from . import vectors as _vectors  # noqa: F401 - vdot, vecdot, cross, convolve, ...
from .table import ADD, ATOM, COMPARE, MUL, OPS, SPELLINGS, UNARY, Op, Trait, lookup, spelled

FUNCTIONS = sorted(name for name, op in OPS.items()
                   if op.public and (op.symbol is None or op.positional))
"""The names a user may call in .gc text and as ``gc.<name>`` (an operator with
parameters too: ``x.T`` is ``transpose(x, axes=None)``)."""

__all__ = ["ADD", "ATOM", "COMPARE", "FUNCTIONS", "MUL", "OPS", "SPELLINGS", "UNARY", "Op", "Trait",
           "lookup", "spelled"]
