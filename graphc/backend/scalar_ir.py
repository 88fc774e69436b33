"""A scalar graph as LLVM IR, compiled by llvmlite (numba's LLVM binding) at the first
call on Python floats: one native function over a float64 array that holds the inputs,
the outputs and the values one piece of the code hands to a later one.

Why not numba's ``njit`` of the float lines: numba's front end costs milliseconds per
line (type inference and lowering in Python, a pass quadratic in a function's length),
(28 s at the first call for a 1,762-node gradient); LLVM compiles a 16k-node one in
seconds. Each
op here is a few IR instructions (libm calls, ``fcmp`` and ``select`` for choices) that
compute what NumPy's float64 does (NaN, inf, -0.0 and ties as ``loops.SCALAR`` spells
them for numba); a graph with any other op is left to ``scalar_jit``'s other paths."""

from __future__ import annotations

import ctypes
import math
import struct
from collections.abc import Callable, Mapping

from ..ir.graph import Graph
from ..ops import Trait

PIECE = 400
"""Nodes per IR function: LLVM's code generation works one function at a time."""
_LIBM = {"sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh", "sinh": "sinh",
         "cosh": "cosh", "exp": "exp", "exp2": "exp2", "expm1": "expm1", "log": "log",
         "log2": "log2", "log10": "log10", "log1p": "log1p", "sqrt": "sqrt",
         "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
         "arccosh": "acosh", "arctanh": "atanh", "abs": "fabs", "absolute": "fabs",
         "floor": "floor", "ceil": "ceil", "trunc": "trunc", "rint": "rint",
         "arctan2": "atan2", "hypot": "hypot", "cbrt": "cbrt", "copysign": "copysign",
         "fmod": "fmod", "erf": "erf", "erfc": "erfc"}
"""Ops that are one C library call (NumPy's float64 loops call the same functions)."""
_ARITH = {"add": "fadd", "sub": "fsub", "mul": "fmul", "div": "fdiv"}
_COMPARE = {"gt": "ogt", "ge": "oge", "lt": "olt", "le": "ole", "eq": "oeq", "ne": "une"}
_LOGE2 = 0.693147180559945309417232121458176568  # NumPy's logaddexp of equal operands


def literal(value: float) -> str:
    """A double constant as LLVM reads it exactly (NaN and inf too)."""
    return f"0x{struct.unpack('<Q', struct.pack('<d', float(value)))[0]:016X}"


class _Piece:
    """Instructions being written: fresh temporaries, libm functions called."""

    def __init__(self, declared: set[str]):
        self.lines: list[str] = []
        self.count = 0
        self.declared = declared

    def __call__(self, instruction: str) -> str:
        self.count += 1
        self.lines.append(f"  %t{self.count} = {instruction}")
        return f"%t{self.count}"

    def libm(self, name: str, *args: str) -> str:
        self.declared.add(f"declare double @{name}({', '.join(['double'] * len(args))})")
        return self(f"call double @{name}({', '.join('double ' + a for a in args)})")

    def true(self, x: str) -> str:
        """A float as a condition, as NumPy's truth (NaN is true)."""
        return self(f"fcmp une double {x}, 0.0")

    def maximum(self, a: str, b: str, cmp: str = "ogt") -> str:
        """NumPy's maximum (``cmp`` olt: minimum): NaN from either, the second on a tie."""
        first = self(f"or i1 {self(f'fcmp {cmp} double {a}, {b}')}, "
                     f"{self(f'fcmp uno double {a}, 0.0')}")
        return self(f"select i1 {first}, double {a}, double {b}")

    def steps(self, x: str, below: str, at: str, above: str) -> str:
        """``below``, ``at`` or ``above`` as x is below, at or above 0; NaN stays NaN
        (NumPy's heaviside and sign)."""
        out = self(f"select i1 {self(f'fcmp ogt double {x}, 0.0')}, double {above}, double {x}")
        out = self(f"select i1 {self(f'fcmp oeq double {x}, 0.0')}, double {at}, double {out}")
        return self(f"select i1 {self(f'fcmp olt double {x}, 0.0')}, double {below}, "
                    f"double {out}")

    def sigmoid(self, x: str) -> str:
        """1 / (1 + exp(-x)), as graphc's ``_sigmoid`` of a number."""
        e = self.libm("exp", self(f"fneg double {x}"))
        return self(f"fdiv double 1.0, {self(f'fadd double 1.0, {e}')}")

    def logaddexp(self, x: str, y: str) -> str:
        """NumPy's npy_logaddexp: equal operands (infinities) give x + log 2."""
        d = self(f"fsub double {x}, {y}")
        tail = self.libm("log1p", self.libm("exp", self(f"fneg double {self.libm('fabs', d)}")))
        above = self(f"fcmp ogt double {d}, 0.0")
        spread = self(f"fadd double {self(f'select i1 {above}, double {x}, double {y}')}, {tail}")
        ordered = self(f"fcmp ord double {d}, 0.0")
        out = self(f"select i1 {ordered}, double {spread}, double {d}")
        same = self(f"fcmp oeq double {x}, {y}")
        return self(f"select i1 {same}, double {self(f'fadd double {x}, {literal(_LOGE2)}')}, "
                    f"double {out}")


Spelled = Callable[[_Piece, list[str], dict], tuple[str, bool]]


def _bool(f: Callable[[_Piece, list[str]], str]) -> Spelled:
    return lambda p, a, params: (f(p, a), True)


def _float(f: Callable[[_Piece, list[str]], str]) -> Spelled:
    return lambda p, a, params: (f(p, a), False)


def _instruction(i: str) -> Spelled:
    return _float(lambda p, a: p(f"{i} double {a[0]}, {a[1]}"))


def _call(f: str) -> Spelled:
    return _float(lambda p, a: p.libm(f, *a))


def _compare(c: str) -> Spelled:
    return _bool(lambda p, a: p(f"fcmp {c} double {a[0]}, {a[1]}"))


SPELLED: dict[str, Spelled] = {
    **{op: _instruction(i) for op, i in _ARITH.items()},
    **{op: _call(f) for op, f in _LIBM.items()},
    **{op: _compare(c) for op, c in _COMPARE.items()},
    "pow": _float(lambda p, a: p(f"fmul double {a[0]}, {a[0]}") if a[1] == literal(2.0)
                  else p.libm("pow", *a)),  # x ** 2: NumPy's square
    "neg": _float(lambda p, a: p(f"fneg double {a[0]}")),
    "square": _float(lambda p, a: p(f"fmul double {a[0]}, {a[0]}")),
    "reciprocal": _float(lambda p, a: p(f"fdiv double 1.0, {a[0]}")),
    "sigmoid": _float(lambda p, a: p.sigmoid(a[0])),
    "softplus": _float(lambda p, a: p.logaddexp("0.0", a[0])),
    "logaddexp": _float(lambda p, a: p.logaddexp(a[0], a[1])),
    "maximum": _float(lambda p, a: p.maximum(a[0], a[1])),
    "minimum": _float(lambda p, a: p.maximum(a[0], a[1], "olt")),
    "relu": _float(lambda p, a: p.maximum(a[0], "0.0")),
    "where": _float(lambda p, a: p(f"select i1 {p.true(a[0])}, double {a[1]}, double {a[2]}")),
    "choose": _float(lambda p, a: p(f"select i1 {p.true(a[0])}, double {a[1]}, double {a[2]}")),
    "gammaln": _float(lambda p, a: p(  # scipy's: -inf at -inf (lgamma's is inf)
        f"select i1 {p(f'fcmp oeq double {a[0]}, {literal(-math.inf)}')}, double {a[0]}, "
        f"double {p.libm('lgamma', a[0])}")),
    "heaviside": _float(lambda p, a: p.steps(a[0], "0.0", a[1], "1.0")),
    "sign": _float(lambda p, a: p.steps(a[0], "-1.0", "0.0", "1.0")),
    "ones_like": _float(lambda p, a: "1.0"),
    "zeros_like": _float(lambda p, a: "0.0"),
    "full_like": _float(lambda p, a: a[1]),
    "logical_not": _bool(lambda p, a: p(f"fcmp oeq double {a[0]}, 0.0")),
    "logical_and": _bool(lambda p, a: p(f"and i1 {p.true(a[0])}, {p.true(a[1])}")),
    "logical_or": _bool(lambda p, a: p(f"or i1 {p.true(a[0])}, {p.true(a[1])}")),
}
"""How each op is written in IR: its value and whether that is an ``i1`` (a bool);
every operand arrives as a double (a bool as 0.0 or 1.0)."""


def spelled(g: Graph) -> bool:
    """Whether every node of ``g`` is written here and every output is a float."""
    return all(d["op"] in ("input", "const") or d["op"] in SPELLED
               or Trait.IDENTITY in g.op(n).traits for n, d in g.node_data().items()) \
        and not any(g.op(o).dtype == "bool" for o in g.outputs)


def module_ir(g: Graph) -> tuple[str, int]:
    """``g`` as an LLVM module whose ``void @run(double* %w)`` reads the inputs at
    ``w[0:len(inputs)]`` and writes the outputs after them; and the length of ``w``
    (the values crossing pieces live after the outputs)."""
    attrs = g.node_data()
    nodes = [n for n in g.order() if attrs[n]["op"] not in ("input", "const")]
    piece_of = {n: k // PIECE for k, n in enumerate(nodes)}
    slots = {i: k for k, i in enumerate(g.inputs)}
    outputs = len(slots) + len(g.outputs)
    for n in nodes:
        if n in g.outputs or any(piece_of.get(r, -1) != piece_of[n] for r in g.readers(n)):
            slots[n] = outputs + len(slots) - len(g.inputs)
    declared: set[str] = set()
    functions = []
    for k in range(0, len(nodes), PIECE):
        p = _Piece(declared)
        local: dict[str, str] = {}
        for n in nodes[k:k + PIECE]:
            args = [_operand(p, local, attrs, slots, a) for a in attrs[n]["args"]]
            if attrs[n]["op"] in SPELLED:
                value, is_bool = SPELLED[attrs[n]["op"]](p, args, attrs[n]["params"])
                local[n] = p(f"uitofp i1 {value} to double") if is_bool else value
            else:  # IDENTITY: its first operand's value
                local[n] = args[0]
            if n in slots:
                p(f"getelementptr double, double* %w, i64 {slots[n]}")
                p.lines.append(f"  store double {local[n]}, double* %t{p.count}")
        functions.append(f"define internal void @p{k // PIECE}(double* noalias nocapture %w) "
                         "#0 {\n" + "\n".join(p.lines) + "\n  ret void\n}\n")
    p = _Piece(declared)
    for k in range(len(functions)):
        p.lines.append(f"  call void @p{k}(double* %w)")
    for j, o in enumerate(g.outputs):  # every output stored after the inputs
        value = literal(attrs[o]["params"]["value"]) if attrs[o]["op"] == "const" else \
            p(f"load double, double* {p(f'getelementptr double, double* %w, i64 {slots[o]}')}")
        at = p(f"getelementptr double, double* %w, i64 {len(g.inputs) + j}")
        p.lines.append(f"  store double {value}, double* {at}")
    functions.append("define void @run(double* noalias nocapture %w) {\n"
                     + "\n".join(p.lines) + "\n  ret void\n}\n")
    return "\n".join([*sorted(declared), "", *functions,
                      'attributes #0 = { noinline nounwind }']) + "\n", \
        outputs + len(slots) - len(g.inputs)


def _operand(p: _Piece, local: dict[str, str], attrs: Mapping[str, dict], slots: dict[str, int],
             a: str) -> str:
    """Operand ``a`` in piece ``p``: a literal, a value of the piece (``local``), or a
    load from its slot (an input, or a value of an earlier piece), loaded once."""
    if attrs[a]["op"] == "const":
        return literal(attrs[a]["params"]["value"])
    if a not in local:
        at = p(f"getelementptr double, double* %w, i64 {slots[a]}")
        local[a] = p(f"load double, double* {at}")
    return local[a]


class _Native:
    """A module's ``run`` compiled at its first call: called with the inputs, it returns
    the outputs (a list)."""

    def __init__(self, ir, inputs, outputs, size):
        self.ir, self.inputs, self.stop = ir, inputs, inputs + outputs
        self.array = ctypes.c_double * size
        self.compiled = None

    def __call__(self, *args):
        if self.compiled is None:
            self.compiled = _compiled(self.ir)
        w = self.array(*args)
        self.compiled[0](w)
        return w[self.inputs:self.stop]


def _compiled(ir):
    """LLVM's native code of ``ir``'s ``run``, and the engine that holds it."""
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    module = llvm.parse_assembly(ir)
    engine = llvm.create_mcjit_compiler(
        module, llvm.Target.from_default_triple().create_target_machine(opt=2))
    engine.finalize_object()
    f = ctypes.CFUNCTYPE(None, ctypes.POINTER(ctypes.c_double))(engine.get_function_address("run"))
    return f, engine


HELPERS = (_Native, _compiled)
