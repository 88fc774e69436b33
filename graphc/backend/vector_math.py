"""Vectorisable numba loops: glibc's vector math (libmvec), sums that LLVM may reorder.

A loop's ``sin``, ``exp``, ``tanh``... is a call of the C library's function naming its
libmvec variants for LLVM's loop vectoriser (the ``vector-function-abi-variant``
attribute, which LLVM's own ``--vector-library`` option adds; llvmlite 0.50's LLVM 22 no
longer passes that option on), so a loop that vectorises computes 2 to 16 elements per
call, within 4 ulp of NumPy's. The C library's scalar functions where glibc has no
libmvec, off x86-64, or with ``GRAPHC_LIBMVEC=0``; the process's other numba functions
are untouched. A loop's sums add with ``_sum_add`` (``_adder``), so that loops with sums
vectorise too. The helpers ship with the emitted module."""

from __future__ import annotations

import os
import platform
import re

C_NAMES = {"sin": "sin", "cos": "cos", "tan": "tan", "exp": "exp", "log": "log",
           "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "expm1": "expm1",
           "log1p": "log1p", "log2": "log2", "log10": "log10", "exp2": "exp2",
           "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
           "arccosh": "acosh", "arctanh": "atanh", "arctan2": "atan2", "hypot": "hypot",
           "pow": "pow"}
"""graphc's ops that are C library functions with libmvec variants (glibc 2.35; sin, cos,
exp, log and pow since 2.22), by their C names."""
SUM_ADD = "_sum_add"
"""A loop's sums: ``s = _sum_add(s, t)`` (``_adder``)."""
PREFIX = "_libm_"
"""The shipped module's name of the C function ``f`` for the loops: ``_libm_f``."""
_VECTOR_MATH: list[str] = []  # see _vector_math
_NUMPY = re.compile(r"\bnp\.(" + "|".join(C_NAMES) + r")\(")
_ARITY = {"atan2": 2, "hypot": 2, "pow": 2}


def spelled(template: str) -> str:
    """A NumPy template for one float with these functions the loops' own:
    ``np.sin(`` is ``_libm_sin(``."""
    return _NUMPY.sub(lambda m: f"{PREFIX}{C_NAMES[m[1]]}(", template)


def defined(texts: list[str]) -> tuple[str, str]:
    """The shipped module's lines defining the ``_libm_`` functions ``texts`` call, and
    the line defining ``_sum_add`` if they call it."""
    return "".join(f"{PREFIX}{c} = _libm({c!r}, {_ARITY.get(c, 1)})\n"
                   for c in sorted(set(C_NAMES.values()))
                   if any(f"{PREFIX}{c}(" in text for text in texts)), \
        "_sum_add = _adder()\n" * any(f"{SUM_ADD}(" in text for text in texts)


def _libm(name, arity):
    """A numba function of ``arity`` numbers: the C library's ``name`` (``namef`` when
    they are all float32), which LLVM's loop vectoriser may replace by its libmvec
    variants (``_variants``)."""
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    def codegen(context, builder, sig, args):
        kind = sig.return_type
        real = ir.FloatType() if kind == types.float32 else ir.DoubleType()
        c_name = name + "f" * (kind == types.float32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(
            real, [real] * arity), c_name)
        fn.attributes.add("readnone")  # as numba's own calls of the C library: no errno
        fn.attributes.add("nounwind")
        call = builder.call(fn, [context.cast(builder, a, t, kind)
                                 for a, t in zip(args, sig.args, strict=True)])
        variants = _variants(builder.module, c_name, real, arity)
        if variants:  # an attribute llvmlite does not know: allowed for this call only
            call.attributes._known = frozenset([variants])
            call.attributes.add(variants)
        return call

    def typed(*args):
        if not all(isinstance(a, (types.Float, types.Integer, types.Boolean)) for a in args):
            return None
        kind = types.float32 if all(a == types.float32 for a in args) else types.float64
        return kind(*args), codegen

    if arity == 1:
        def one(typingctx, x):
            return typed(x)
        return intrinsic(one)

    def two(typingctx, x, y):
        return typed(x, y)
    return intrinsic(two)


def _variants(module, c_name, real, arity):
    """The call attribute naming ``c_name``'s libmvec variants for this CPU (SSE: 2
    doubles, AVX2: 4, AVX-512: 8), declared in ``module`` and kept there by
    ``llvm.compiler.used`` (LLVM would drop the unused declarations before the
    vectoriser, which takes only declared ones); ``""`` without libmvec."""
    from llvmlite import ir
    if not _VECTOR_MATH:
        _vector_math()
    if _VECTOR_MATH[0] != "libmvec":
        return ""
    lanes = {"b": 128, "d": 256, "e": 512}
    args = "v" * arity
    mapped = []
    for isa in _VECTOR_MATH[1]:
        n = lanes[isa] // (64 if isinstance(real, ir.DoubleType) else 32)
        vector, variant = ir.VectorType(real, n), f"_ZGV{isa}N{n}{args}_{c_name}"
        if variant not in module.globals:  # declared by the function's first call
            _keep(module, ir.Function(module, ir.FunctionType(vector, [vector] * arity),
                                      variant))
        mapped.append(f"_ZGV_LLVM_N{n}{args}_{c_name}({variant})")
    return f'"vector-function-abi-variant"="{",".join(mapped)}"'


def _keep(module, fn):
    """``fn`` added to ``module``'s ``llvm.compiler.used`` (made at the first one), as
    an ``i8*`` (LLVM 14's typed pointers; ``ptr`` since)."""
    from llvmlite import ir
    byte = ir.IntType(8).as_pointer()
    kept = module.globals.get("llvm.compiler.used")
    if kept is None:
        kept = ir.GlobalVariable(module, ir.ArrayType(byte, 0), "llvm.compiler.used")
        kept.linkage = "appending"
        kept.section = "llvm.metadata"
        kept.initializer = ir.Constant(kept.value_type, [])
    items = [*kept.initializer.constant, fn.bitcast(byte)]
    kept.value_type = ir.ArrayType(byte, len(items))
    kept.initializer = ir.Constant(kept.value_type, items)


def _adder():
    """A numba function ``s + t`` (as float64s) that LLVM may reassociate with the loop's
    other additions to ``s`` (the ``reassoc`` flag, on this addition only): a loop's sum
    vectorises, each lane adding its share of the chunk, the lanes added at its end.
    Equal up to rounding, as the chunks' parts (added by NumPy) already are."""
    from numba.core import types
    from numba.extending import intrinsic

    def codegen(context, builder, sig, args):
        s, t = (context.cast(builder, a, ty, types.float64)
                for a, ty in zip(args, sig.args, strict=True))
        return builder.fadd(s, t, flags=("reassoc",))

    def add(typingctx, s, t):
        return types.float64(s, t), codegen
    return intrinsic(add)


def _vector_math():
    """Once, at the first loop's compilation: whether libmvec is there (glibc on x86-64,
    not switched off by ``GRAPHC_LIBMVEC=0``) and which of its instruction sets this CPU
    runs: ``['libmvec', 'bde']`` (SSE, AVX2, AVX-512), or ``['scalar']``."""
    import llvmlite.binding as llvm
    from numba.core import config
    _VECTOR_MATH.append("scalar")
    if os.environ.get("GRAPHC_LIBMVEC") == "0" or platform.machine() != "x86_64":
        return
    try:
        llvm.load_library_permanently("libmvec.so.1")
    except RuntimeError:  # not glibc, or not Linux
        return
    portable = getattr(config, "CPU_NAME", None)  # NUMBA_CPU_NAME: code for other CPUs
    features = "" if portable else llvm.get_host_cpu_features().flatten()
    _VECTOR_MATH[:] = ["libmvec", "b" + "d" * ("+avx2" in features)
                       + "e" * ("+avx512f" in features)]


LIBM = (_libm, _variants, _keep, _vector_math)
HELPERS = (*LIBM, _adder)
SHIPPED = "_VECTOR_MATH = []  # the loops' libmvec ISAs, or 'scalar' (_vector_math)\n"
"""The module-level name the helpers read (``os`` and ``platform`` imported)."""
NAMES = frozenset(f.__name__ for f in HELPERS) | {"_VECTOR_MATH", "os", "platform", SUM_ADD} \
    | {PREFIX + c for c in C_NAMES.values()}
"""What the shipped helpers define or read: no parameter may shadow them."""
