"""The commands of ``graphc`` (see ``graphc.cli``), each a function of the parsed
arguments returning the exit status. Each command's output is written at its end,
whole (``files.Outputs``): a failure or Ctrl-C leaves no part of it behind, on
standard output or in a file."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import numpy as np

from .. import derivatives
from ..compiler import compile as compile_graph
from ..errors import GraphcError
from ..files import Outputs, read_text
from ..frontend.text_format import load, parse
from ..ir.graph import Graph
from ..teach.exercise import exercise
from ..teach.export import STEP_FILES, steps_file
from ..teach.render import drawable, drawn, pipe, render
from ..teach.steps import write_steps
from ..teach.style import Style
from ..teach.verify import verify
from ..teach.wrong import picture as wrong_picture
from .values import as_python_reads, format_value, parse_at, plain


def run(args: argparse.Namespace) -> int:
    """The command ``args`` names; names as Python reads them (``as_python_reads``)."""
    for key in ("of", "wrt"):
        if getattr(args, key, None) is not None:
            setattr(args, key, as_python_reads(getattr(args, key)))
    with np.errstate(all="warn"):
        return COMMANDS[args.command](args)


def _load(path: str) -> Graph:
    """The graph in ``path``: a regular file, or ``-`` for standard input."""
    return parse(read_text(path, stdin=True)) if path == "-" else load(path)


def _stdout() -> TextIO:
    """Standard output, or a clear error when the command was started with it closed."""
    if sys.stdout is None:
        raise GraphcError("standard output is closed: nowhere to print (use -o FILE "
                          "where the command has one)")
    return sys.stdout


def _inputs(args: argparse.Namespace) -> list[str]:
    """The file a command reads, never to be overwritten: standard input's too."""
    return ["/dev/stdin" if args.file == "-" else args.file]


def _cmd_compile(args: argparse.Namespace) -> int:
    target = args.output or "-"
    if target == "-":
        _stdout()
    g = _load(args.file)
    if args.derivative is None:
        fn = compile_graph(g, wrt=args.wrt, of=args.of, mode=args.mode or "reverse",
                           backend=args.backend)
    elif args.backend != "numpy":
        raise GraphcError(f"--{args.derivative} is emitted for the numpy backend only")
    else:  # gc.jacobian, gc.hessian...: a module defining a function of that name
        made = getattr(derivatives, args.derivative)
        fn = made(g, wrt=args.wrt, of=args.of, **(
            {"mode": args.mode} if args.derivative == "jacobian" else {}))
    with Outputs(_inputs(args)) as out:
        out.write(target, fn.source)
    if target != "-":
        print(f"wrote {target}", file=sys.stderr)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    stdout = _stdout()
    g = _load(args.file)
    fn = compile_graph(g, wrt=args.wrt, of=args.of, mode=args.mode or "reverse")
    value, grads = fn(**parse_at(args.at, g))
    H = derivatives.hessian(g, wrt=args.wrt, of=args.of)(**parse_at(args.at, g))[2] \
        if args.hessian else {}  # forward over reverse (gc.hessian)
    if args.json:
        said = {"of": fn.of, "value": value, "gradients": grads}
        text = json.dumps(plain(said | ({"hessian": H} if args.hessian else {}))) + "\n"
    else:
        text = "".join([f"{fn.of} = {format_value(value)}\n",
                        *(f"d{fn.of}/d{n} = {format_value(d)}\n" for n, d in grads.items()),
                        *(f"d2{fn.of}/d{a}d{b} = {format_value(block)}\n"
                          for a, row in H.items() for b, block in row.items())])
    stdout.write(text)  # whole, once every number is known
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    if not args.output and not args.steps and not args.exercise:
        raise GraphcError("render: give -o OUT.(svg|png|pdf|dot), --steps DIR and/or "
                          "--exercise OUT.html")
    fmt = args.format or ("dot" if args.output == "-" else None)  # pipe DOT into `dot -T`
    if args.output == "-":
        _stdout()
    with Outputs(_inputs(args)) as out:
        if args.output and args.output != "-":
            out.target(args.output)  # a bad -o is an error before anything is drawn
        if args.exercise:
            out.target(args.exercise)
        g = _load(args.file)
        at = parse_at(args.at, g) if args.at is not None else None
        if (args.steps or args.exercise) and args.show != "reverse":
            raise GraphcError(f"--show {args.show} draws one picture (-o); --steps and "
                              "--exercise walk the reverse sweep: give them without --show")
        if (args.steps or args.exercise) and at is None:
            raise GraphcError(f"--{'steps' if args.steps else 'exercise'} needs input values: "
                              "--at a=2,b=1")
        if args.exercise and at is not None:  # (checked above: exercises need values)
            out.write(args.exercise, exercise(g, at, args.hide, of=args.of,
                                              limit=args.limit).page)
        suffix = Path(args.output or "").suffix.lower().lstrip(".")
        if args.steps or (fmt or suffix) in ("svg", "png", "pdf"):
            drawable(g, args.limit)
        style = _style(args)
        if args.wrong_order and (at is None or args.show != "reverse"):
            raise GraphcError("--wrong-order draws the reverse sweep at input values: give "
                              "--at a=2,b=1 and no --show")
        dot = wrong_picture(g, at, of=args.of, style=style, limit=args.limit) \
            if args.wrong_order and at is not None else render(
                g, at, of=args.of, show=args.show, wrt=args.wrt, limit=args.limit,
                style=style, **({} if args.max_paths is None else {"max_paths": args.max_paths}))
        if args.output:
            out.write(args.output, drawn(dot, args.output, style.dpi) if fmt is None
                      else dot.source if fmt == "dot" else pipe(dot, fmt, style.dpi))
        if args.steps and at is not None and Path(args.steps).suffix.lower() in STEP_FILES:
            out.write(args.steps, steps_file(g, at, Path(args.steps).suffix, of=args.of,
                                             limit=args.limit, style=style))
            written = [Path(args.steps)]
        elif args.steps and at is not None:  # (checked above: steps need values)
            written = write_steps(g, at, args.steps, of=args.of, limit=args.limit,
                                  outputs=out, style=style)
    if args.steps and len(written) == 1:
        print(f"wrote {written[0]}", file=sys.stderr)
    elif args.steps:
        print(f"wrote {len(written) - 1} frames and {written[-1]}", file=sys.stderr)
    if args.output and args.output != "-":
        print(f"wrote {args.output}", file=sys.stderr)
    if args.exercise:
        print(f"wrote {args.exercise}", file=sys.stderr)
    return 0


def _style(args: argparse.Namespace) -> Style:
    """--slide's preset (or the plain look) with the flags given on top of it."""
    given = {k: v for k, v in (("font_scale", args.font_scale), ("direction", args.direction),
                               ("theme", args.theme), ("legend", args.legend),
                               ("dpi", args.dpi)) if v is not None}
    if args.hide_constants:
        given["constants"] = False
    if args.gates:
        given["gates"] = True
    return Style.slide(**given) if args.slide else Style(**given)


def _cmd_verify(args: argparse.Namespace) -> int:
    stdout = _stdout()
    g = _load(args.file)
    rep = verify(g, parse_at(args.at, g), of=args.of, wrt=args.wrt, max_paths=args.max_paths)
    stdout.write(json.dumps({"ok": rep.ok, **plain(rep)}) + "\n" if args.json
                 else f"{rep}\n")
    return 0 if rep.ok else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from importlib.resources import files

    stdout = _stdout()
    g = load(str(files("graphc.examples").joinpath("colah.gc")))
    at = {"a": 2.0, "b": 1.0}
    fn = compile_graph(g)
    rep = verify(g, at)
    pictures = {"colah": render(g), "colah_values": render(g, at),
                "colah_paths_b": render(g, at, show="paths", wrt="b"),
                "colah_forward_b": render(g, at, show="forward", wrt="b")}
    out = Path(args.outdir)
    fmt = "svg" if shutil.which("dot") else "dot"
    written = [out / "colah_grad.py", *(out / f"{name}.{fmt}" for name in pictures)]
    with Outputs() as outputs:  # everything staged, then put in place together
        outputs.folder(out)
        outputs.write(written[0], fn.source)
        for path, dot in zip(written[1:], pictures.values()):
            outputs.write(path, dot.source if fmt == "dot" else pipe(dot, fmt))
        if fmt == "svg":
            written.append(write_steps(g, at, out / "steps", outputs=outputs)[-1])
    print("graphc demo: colah's graph e = (a + b) * (b + 1) at a = 2, b = 1\n", g, rep,
          "\nwrote:", *(f"  {p}" for p in written), sep="\n", file=stdout)
    if fmt == "dot":
        print("(Graphviz's `dot` is not installed: pictures written as .dot text)",
              file=stdout)
    return 0 if rep.ok else 1


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "compile": _cmd_compile, "eval": _cmd_eval, "render": _cmd_render, "verify": _cmd_verify,
    "demo": _cmd_demo}
