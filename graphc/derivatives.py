"""gc.vjp, gc.jvp, gc.jacobian, gc.hvp, gc.hessian: compiled functions like gc.compile's,
each a graph transform (``autodiff/directional.py``) through compile's own pipeline.

The emitted module defines the derivative under its name (``jacobian``...); where it
takes a dict (``x_dot``, ``v``), a small public function unpacks and checks it and
calls the graph's own function, so the saved module needs NumPy alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .autodiff import directional
from .backend import module
from .backend.base import sources
from .compiler import CompiledFunction, pipeline, signature
from .errors import GraphcError, InputError
from .ir.graph import Graph
from .ops.values import _given, _same_shape

_SOURCES = sources((_given, _same_shape))  # shipped by the modules that call them


class Derivative(CompiledFunction):
    """A compiled derivative: ``fn(*inputs, **arguments)`` runs the module's ``entry``
    function; a dict argument (``x_dot``, ``v``) or cotangent (``y_bar``) is checked
    by the module's own helpers, whose ValueError is an InputError here."""

    def __init__(self, graph: Graph, forward_graph: Graph, grad_graph: Graph, source: str,
                 entry: str, arguments: tuple[str, ...]):
        super().__init__(graph, forward_graph, grad_graph, source)
        self.entry, self.arguments = entry, arguments
        self.__signature__ = signature(self.inputs, arguments)

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        extra = []
        for a in self.arguments:
            if a not in kwargs:
                raise InputError(f"missing argument {a} ({self.entry} takes it by keyword)")
            extra.append(kwargs.pop(a))
        self.graph.bind(args, kwargs)  # InputError for a bad input
        named = dict(zip(self.inputs, args), **kwargs)
        try:  # the values as given, so that fn() runs what the saved module runs
            return getattr(self.module, self.entry)(*[named[n] for n in self.inputs], *extra)
        except (ValueError, TypeError) as exc:  # a dict or cotangent that does not fit
            raise InputError(str(exc)) from None

    def __repr__(self) -> str:
        return (f"<graphc.{self.entry} of {self.of} with respect to ({', '.join(self.wrt)}), "
                f"{len(self.grad_graph.nx)} nodes>")


def _compiled(g: Graph, of: str | None, transform: Callable[[Graph, str], Graph],
              entry: module.Entry, arguments: tuple[str, ...] = ()) -> Derivative:
    """``transform`` of ``g`` through compile's pipeline, its public function named as
    ``entry``'s but for a leading underscore (the wrapper's name, where there is one)."""
    out = g.output(of)
    g.order()  # raises CycleError on a cyclic graph
    fwd, grad, source = pipeline(g, out, lambda fwd: transform(fwd, out), entry=entry)
    return Derivative(g, fwd, grad, source, entry.name.lstrip("_"), arguments)


def _wrapper(name: str, doc: str, inputs: list[str], argument: str,
             wrt: list[str]) -> Callable[[list[str]], str]:
    """The public function around ``_<name>`` that unpacks the dict ``argument``, of
    the emitted parameter names of ``_<name>`` (the inputs' first)."""
    def source(params: list[str]) -> str:
        own = dict(zip(inputs, params))
        values = ", ".join(own[w] for w in wrt) + ("," if len(wrt) == 1 else "")
        given = f"*_given({argument!r}, {argument}, {tuple(wrt)!r}, ({values}))"
        return (f"def {name}({', '.join([*own.values(), argument])}):\n"
                f"    \"\"\"{doc}\"\"\"\n"
                f"    return _{name}({', '.join([*own.values(), given])})\n")
    return source


def _dict(outs: list[str], wrt: list[str]) -> str:
    return "{" + ", ".join(f"{w!r}: {o}" for w, o in zip(wrt, outs)) + "}"


def vjp(g: Graph, wrt: str | list[str] | None = None, of: str | None = None) -> Derivative:
    """``fn(*inputs, y_bar=cotangent) -> (value, {input: y_bar^T J})``: reverse mode
    seeded by a cotangent of the output's shape (its gradient when y_bar is 1)."""
    names = _names(g, wrt, "y_bar")
    out = g.output(of)
    elastic = g.elastic(out)
    wrapped = elastic or g.has("y_bar")  # y_bar checked, or an input named y_bar_1

    def wrapper(params: list[str]) -> str:
        call = ", ".join([*params[:len(g.inputs)], "y_bar"])
        return (f"def vjp({call}):\n"
                '    """The output value and y_bar pulled back to each input (reverse mode)."""\n'
                f"    value, pulled = _vjp({call})\n"
                + ("    _same_shape('y_bar', y_bar, value)\n" if elastic else "")
                + "    return value, pulled\n")
    entry = module.Entry("_vjp" if wrapped else "vjp", "vector-Jacobian product",
                         "The output value and y_bar pulled back to each input (reverse "
                         "mode).", lambda outs: f"{outs[0]}, {_dict(outs[1:], names)}",
                         wrapper if wrapped else None,
                         (_SOURCES[_same_shape],) if elastic else ())
    return _compiled(g, of, lambda fwd, out: directional.vjp(fwd, names, out), entry,
                     ("y_bar",))


def jvp(g: Graph, wrt: str | list[str] | None = None, of: str | None = None) -> Derivative:
    """``fn(*inputs, x_dot={input: tangent}) -> (value, J x_dot)``: forward mode along
    the given tangents, one for each ``wrt`` input."""
    names = _names(g, wrt, "x_dot")
    wrapper = _wrapper("jvp", "The output value and its derivative along x_dot "
                       "(forward mode).", list(g.inputs), "x_dot", names)
    entry = module.Entry("_jvp", "Jacobian-vector product", "The output value and J x_dot.",
                         ", ".join, wrapper, (_SOURCES[_given],))
    return _compiled(g, of, lambda fwd, out: directional.jvp(fwd, names, out), entry,
                     ("x_dot",))


def jacobian(g: Graph, wrt: str | list[str] | None = None, of: str | None = None,
             mode: str | None = None) -> Derivative:
    """``fn(*inputs) -> (value, {input: J})``, ``J.shape == out.shape + input.shape``
    (JAX's layout): forward mode when the inputs have fewer elements than the output,
    reverse otherwise, or as ``mode`` says."""
    names = _names(g, wrt)
    if mode not in (None, "forward", "reverse"):
        raise GraphcError(f"mode={mode!r}: expected 'forward', 'reverse' or None (chosen "
                          "by the sizes)")
    chosen = mode or directional.jacobian_mode(g, names, g.output(of))
    entry = module.Entry("jacobian", "Jacobian", f"The output value and its Jacobian with "
                         f"respect to each input ({chosen} mode).",
                         lambda outs: f"{outs[0]}, {_dict(outs[1:], names)}")
    return _compiled(g, of, lambda fwd, out: directional.jacobian(fwd, names, out, chosen),
                     entry)


def hvp(g: Graph, wrt: str | list[str] | None = None, of: str | None = None) -> Derivative:
    """``fn(*inputs, v={input: direction}) -> (value, grads, {input: (H v) there})``:
    forward mode along v over the reverse-mode gradient, never forming H."""
    names = _names(g, wrt, "v")
    k = len(names)
    wrapper = _wrapper("hvp", "The output value, its gradient and the Hessian times v.",
                       list(g.inputs), "v", names)
    entry = module.Entry("_hvp", "Hessian-vector product", "The value, gradient and H v.",
                         lambda outs: f"{outs[0]}, {_dict(outs[1:1 + k], names)}, "
                         f"{_dict(outs[1 + k:], names)}", wrapper, (_SOURCES[_given],))
    return _compiled(g, of, lambda fwd, out: directional.hvp(fwd, names, out), entry, ("v",))


def hessian(g: Graph, wrt: str | list[str] | None = None, of: str | None = None) -> Derivative:
    """``fn(*inputs) -> (value, grads, H)``, ``H[a][b].shape == a.shape + b.shape``:
    forward mode over the reverse-mode gradient, one sweep per input's elements."""
    names = _names(g, wrt)
    k = len(names)

    def returns(outs: list[str]) -> str:
        rows = [_dict(outs[1 + k + i * k:1 + k + (i + 1) * k], names) for i in range(k)]
        return f"{outs[0]}, {_dict(outs[1:1 + k], names)}, {_dict(rows, names)}"
    entry = module.Entry("hessian", "Hessian", "The output value, its gradient and its "
                         "Hessian (forward over reverse mode).", returns)
    return _compiled(g, of, lambda fwd, out: directional.hessian(fwd, names, out), entry)


def _names(g: Graph, wrt: str | list[str] | None, argument: str | None = None) -> list[str]:
    """The inputs differentiated; GraphcError where an input has the name of the
    derivative's own ``argument`` (``y_bar``, ``x_dot``, ``v``)."""
    if argument in g.inputs:
        raise GraphcError(f"input {argument!r} has the name of the argument that "
                          f"gc.{_ARGUMENTS[argument]} takes: rename the input")
    return directional.resolve_wrt(g, wrt)


_ARGUMENTS = {"y_bar": "vjp", "x_dot": "jvp", "v": "hvp"}
