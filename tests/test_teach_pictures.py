"""Pictures and steps say only what is there (issue 22, item 8): no phantom nodes when
``limit=`` hides part of a paths picture, and a broadcast operand's step sums its part."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import graphc as gc
from graphc.teach.steps import frames

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("show", ["paths", "reverse"])
def test_a_limited_picture_draws_no_node_it_does_not_declare(show):
    g = gc.load(EXAMPLES / "ladder.gc")
    source = gc.render(g, at={"x0": 0.3}, show=show, limit=8,
                       **({"wrt": "x0"} if show == "paths" else {})).source
    declared = set(re.findall(r"^\t(\w+) \[", source, re.M)) - {"graph", "node", "edge"}
    used = {n for edge in re.findall(r"^\t(\w+) -> (\w+)", source, re.M) for n in edge}
    assert len(declared) == 9 and used <= declared, used - declared  # 8 nodes and "... more"


def test_a_broadcast_operand_s_step_is_summed_to_its_shape():
    g = gc.parse("x: [3]\nb: scalar\nf = sum(x * b)")
    at = {"x": np.array([1.0, 2.0, 4.0]), "b": 0.5}
    (push,) = [p for c, _ in frames(g, at) for p in c.split("; ") if p.startswith("∂f/∂b +=")]
    assert push == "∂f/∂b += [1, 1, 1] · x summed to shape [] = 7", push


def test_no_minus_zero_is_printed(tmp_path):
    from graphc.cli.values import format_value
    from graphc.teach.words import format_number
    g = gc.parse("f = -x * y")
    at = {"x": 0.0, "y": 1.0}
    assert format_value(-0.0) == "0" and format_value(np.array([-0.0, 1.5])) == "[0. , 1.5]"
    minus_zero = re.compile(r"(?<![\w.])-0(?![\w.])")  # not -0.5, not 1e-07
    assert not minus_zero.search(gc.render(g, at=at).source)
    assert not minus_zero.search(str(gc.verify(g, at=at)))
    assert minus_zero.search("f = -0") and not minus_zero.search("1e-07 -0.5")
    assert format_number(np.full((3, 3), -0.0)) == "shape [3, 3], values in [0, 0]"


def test_a_tensor_op_s_step_shows_its_rule_once_not_times_the_adjoint():
    g = gc.parse("x: [2, 3]\nW: [3, 4]\nf = sum(tanh(x @ W))")
    at = {"x": np.ones((2, 3)), "W": np.full((3, 4), 0.1)}
    pushes = [p for c, _ in frames(g, at) for p in c.split("; ") if p.startswith("∂f/∂x +=")]
    assert pushes == ["∂f/∂x += ∂f/∂t1 @ W.T"], pushes  # the rule holds t1's adjoint
