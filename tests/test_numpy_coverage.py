"""docs/ops.md's table of how many of NumPy's everyday differentiable functions (those
jax.numpy has too) graphc covers, checked against graphc itself: a name the table says
graphc has must parse, a name it says graphc lacks must not be a function of graphc's.
``python tests/test_numpy_coverage.py`` prints the table to paste after a change."""

from __future__ import annotations

from pathlib import Path

import pytest

import graphc as gc
from graphc.ops import FUNCTIONS

DOC = Path(__file__).resolve().parent.parent / "docs" / "ops.md"
# NumPy's names graphc writes otherwise: an operator, an attribute, or its other name
SPELLED = {"add": "a + b", "subtract": "a - b", "multiply": "a * b", "divide": "a / b",
           "true_divide": "a / b", "negative": "-a", "positive": "+a", "power": "a ** b",
           "pow": "a ** b", "mod": "a % b", "remainder": "a % b", "floor_divide": "a // b",
           "matmul": "a @ b", "equal": "a == b", "not_equal": "a != b", "greater": "a > b",
           "greater_equal": "a >= b", "less": "a < b", "less_equal": "a <= b",
           "logical_and": "(a > 0) & (b > 0)", "logical_or": "(a > 0) | (b > 0)",
           "logical_xor": "(a > 0) ^ (b > 0)", "matrix_transpose": "a.mT",
           "permute_dims": "transpose(a)", "amax": "max(a)", "amin": "min(a)",
           "around": "round(a)", "concat": "concatenate([a, b])", "asin": "arcsin(a)",
           "acos": "arccos(a)", "atan": "arctan(a)", "atan2": "arctan2(a, b)",
           "asinh": "arcsinh(a)", "acosh": "arccosh(a)", "atanh": "arctanh(a)",
           "cumulative_sum": "cumsum(a, axis=0)",
           "cumulative_prod": "cumprod(a, axis=0)", "fabs": "abs(a)"}
FAMILIES = {
    "arithmetic": "add subtract multiply divide true_divide negative positive power pow "
                  "float_power square sqrt cbrt reciprocal abs absolute fabs sign mod "
                  "remainder fmod floor_divide maximum minimum fmax fmin clip copysign heaviside",
    "exponents and logarithms": "exp exp2 expm1 log log2 log10 log1p logaddexp logaddexp2",
    "trigonometric and hyperbolic": "sin cos tan arcsin arccos arctan arctan2 asin acos atan "
                                    "atan2 sinh cosh tanh arcsinh arccosh arctanh asinh acosh "
                                    "atanh hypot deg2rad rad2deg radians degrees sinc",
    "rounding (derivative 0)": "floor ceil round around rint trunc",
    "comparisons and choices": "where select equal not_equal greater greater_equal less "
                               "less_equal logical_and logical_or logical_not logical_xor",
    "reductions": "sum mean prod max min amax amin argmax argmin var std average median "
                  "quantile percentile ptp cumsum cumprod cumulative_sum cumulative_prod diff "
                  "trapezoid nansum nanmean nanmax nanmin nanprod nanstd nanvar",
    "products": "matmul dot vdot inner outer kron tensordot einsum trace cross matvec vecmat "
                "vecdot convolve correlate",
    "shapes and indexing": "reshape ravel squeeze expand_dims transpose permute_dims "
                           "matrix_transpose swapaxes moveaxis rollaxis broadcast_to "
                           "concatenate concat stack hstack vstack dstack column_stack split "
                           "array_split unstack flip fliplr flipud rot90 roll tile repeat pad "
                           "resize atleast_1d atleast_2d diag diagonal diagflat triu tril take "
                           "take_along_axis sort append insert delete",
    "constants": "zeros ones full eye identity arange linspace zeros_like ones_like "
                 "full_like tri",
}


def has(name: str) -> bool:
    return name in FUNCTIONS or name in SPELLED


def table() -> str:
    """The markdown table docs/ops.md carries."""
    rows = ["| family | graphc has | NumPy's names graphc has (how graphc writes it) | not yet |",
            "|---|---:|---|---|"]
    total = covered = 0
    for family, names in FAMILIES.items():
        listed = names.split()
        yes = [n for n in listed if has(n)]
        no = [f"`{n}`" for n in listed if not has(n)]
        total, covered = total + len(listed), covered + len(yes)
        shown = [f"`{n}`" if n in FUNCTIONS else f"`{n}` (`{SPELLED[n]}`)" for n in yes]
        rows.append(f"| {family} | {len(yes)} / {len(listed)} | {', '.join(shown)} | "
                    f"{', '.join(no) or '—'} |")
    rows.append(f"| **all** | **{covered} / {total}** | | |")
    return "\n".join(rows) + "\n"


def test_the_docs_carry_the_table_graphc_has_now():
    assert table() in DOC.read_text(encoding="utf-8"), \
        "docs/ops.md's coverage table is stale: paste `python tests/test_numpy_coverage.py`"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # arccos(2.0): only the spelling counts
@pytest.mark.parametrize("name", sorted(SPELLED))
def test_each_other_spelling_parses_and_computes(name):
    text = f"a: [2, 2]\nb: [2, 2]\ny = sum({SPELLED[name]})"
    fn = gc.compile(gc.parse(text), wrt=[])
    assert fn(a=[[1.0, 2.0], [3.0, 4.0]], b=[[0.5, 1.5], [2.5, 0.25]])[0] is not None


def test_every_name_counted_is_in_numpy_and_jax_numpy():
    np = pytest.importorskip("numpy")
    jnp = pytest.importorskip("jax.numpy")
    recent = np.lib.NumpyVersion(np.__version__) >= "2.2.0"  # 2.0 lacks matvec, cumulative_sum
    for names in FAMILIES.values():
        for n in names.split():
            assert hasattr(jnp, n) and (hasattr(np, n) or not recent), n


if __name__ == "__main__":
    print(table(), end="")
