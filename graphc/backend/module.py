"""The whole emitted module: docstring, imports, shipped helpers, user-defined ops,
``forward`` and ``value_and_grad`` (emit.py), and their block kernels (kernels.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..ir.graph import Graph
from ..ops import OPS, values
from . import memory
from .base import sources
from .emit import INPUTS, KEPT, ONE_DTYPE, REAL, RULE, Emission, Function, function_source, wrapped

_SOURCES = sources((*(f for op in OPS.values() for f in op.helpers), memory._one_dtype,
                    memory._kept, *values.HELPERS, values._scalar_value))
"""The source of every helper a module may ship whatever its backend."""


@dataclass(frozen=True)
class Entry:
    """The module's main function: ``value_and_grad``, or a derivative's (``jacobian``,
    ``vjp``...): its name and docstring, how it returns the graph's outputs (None: value
    and gradients), and the source of a public function around it (one that takes
    dicts: ``wrapper`` of the entry's parameter names as emitted), with the source of
    the helpers that function calls."""

    name: str = "value_and_grad"
    title: str = "gradient"  # the module's docstring: "Value and gradient of ..."
    doc: str | None = None
    returns: Callable[[list[str]], str] | None = None
    wrapper: Callable[[list[str]], str] | None = None
    helpers: tuple[str, ...] = ()
    scalar: bool = False  # value_and_grad's value is checked a scalar (``_scalar_value``)


VALUE_AND_GRAD = Entry()


def _used_ops(graphs: list[Graph]):
    seen: dict[str, object] = {}
    for g in graphs:
        for name in dict.fromkeys([g.attrs(n)["op"] for n in g.order()]):  # each op once
            op = g.op_named(name)
            seen.setdefault(op.name, op)
            if op.body is not None:
                for m in _used_ops([op.body]).values():
                    seen.setdefault(m.name, m)
    return seen


def module_source(forward: Graph, grad: Graph, title: str, emission: Emission,
                  entry: Entry = VALUE_AND_GRAD) -> str:
    """The whole module: helpers, user-defined ops, ``forward`` and the ``entry`` function
    (``value_and_grad``), printed as ``emission`` asks (its backend adds its kernels and
    their helpers)."""
    floats = emission.floats
    graphs = [forward, grad] + ([floats] if floats else []) \
        + [split.graph for split in emission.splits if split is not None]
    ops = _used_ops(graphs)
    helper_namer = emission.namer()
    emission.helpers = {name: helper_namer(name) for name, op in ops.items()
                        if getattr(op, "body", None) is not None}
    emission.shown = {n: d["shown"] for g in graphs for n, d in g.node_data().items()
                      if "shown" in d}  # every function and kernel names nodes as shown
    # the input rule's data: names for its messages, declared shapes (None: any)
    declared = tuple(grad.attrs(i)["params"]["shape"] if grad.attrs(i)["params"]["declared"]
                     else None for i in grad.inputs)
    ints = [i for i in grad.inputs if grad.integer(i)]  # integer inputs (indices)
    rule = "".join("\n".join(wrapped(f"{name} = (", [repr(v) for v in items],
                                      ",)" if len(items) == 1 else ")")) + "\n"
                   for name, items in zip(RULE, (grad.inputs, declared, ints)) if items
                   or name != RULE[2])
    functions = [function_source(Function(op.body, emission.helpers[name], "A user-defined op.",
                                          python_floats=floats is not None), emission)
                 for name, op in ops.items() if name in emission.helpers]

    def value_and_grads(outs: list[str]) -> str:
        pairs = ", ".join(f"{w!r}: {o}" for w, o in zip(grad.meta.wrt, outs[1:]))
        value = f"_scalar_value({outs[0]}, {grad.shown(grad.meta.of)!r})" if entry.scalar \
            else outs[0]
        return f"{value}, {{{pairs}}}"

    functions.append(function_source(Function(
        forward, "forward", "The output value.", public=True,
        floats=None if floats is None else forward, split=emission.splits[0]), emission))
    functions.append(function_source(Function(
        grad, entry.name, entry.doc or f"The output value and its gradient ({grad.meta.mode} "
        "mode).", entry.returns or value_and_grads, public=True, floats=floats,
        split=emission.splits[1]), emission))
    if entry.wrapper:  # its parameters named as the entry's own (names.Namer, in order)
        functions.append(entry.wrapper([emission.namer(entry.name)(i) for i in grad.inputs]))
    assembled = emission.backend.assembled(title, functions, ops, entry.scalar)
    if assembled is not None:
        return assembled
    one_dtype = any(f" = {ONE_DTYPE}(" in f for f in functions)
    kept = any(f"{KEPT}(" in f for f in functions)
    shipped = dict.fromkeys([f for op in ops.values() for f in op.helpers]
                            + ([memory._one_dtype] if one_dtype else [])
                            + ([memory._kept] if kept else []))
    extra = emission.backend.shipped(functions, emission)
    needs = " and ".join(("NumPy", *extra.packages)) if extra.packages else "only NumPy"
    doc = (f'"""{title}\n\nGenerated by graphc. Standalone: needs {needs}.\n'
           "Arguments are numbers or float NumPy arrays, checked and converted as graphc's\n"
           f"fn() does ({INPUTS}). Numbers compute as NumPy's float64 does: inf and nan\n"
           "where Python's floats would raise or turn complex.\n"
           + ("Inputs of different dtypes are first brought to NumPy's common one\n"
              f"({ONE_DTYPE}), so that arrays can be reused in place.\n" if one_dtype else "")
           + ("Arrays of temporaries are kept between calls, one set per thread\n"
              f"({KEPT}); returned arrays are always new.\n" if kept else "")
           + extra.doc + '"""\n')
    stdlib = sorted(set(extra.imports) | ({"threading"} if kept else set()))
    imports = "".join(f"import {m}\n" for m in stdlib) + ("\n" if stdlib else "") \
        + "".join(f"import {p}\n" for p in extra.packages) + "import numpy as np\n" \
        + ("\n_KEPT = threading.local()  # the arrays _kept hands out, per thread\n"
           if kept else "") + ("\n" + extra.names if extra.names else "")
    rule_helpers = [f for f in values.HELPERS
                    if (f is not values._real or any(f"{REAL}(" in text for text in functions))
                    and (f is not values._indices or ints)]
    parts = [doc, imports] + [_SOURCES[f] for f in shipped] + list(extra.helpers) \
        + [_SOURCES[f] for f in rule_helpers] + list(entry.helpers) \
        + ([_SOURCES[values._scalar_value]] if entry.scalar else []) + [rule] + functions
    return "\n\n".join(p.rstrip("\n") + "\n" for p in parts)
