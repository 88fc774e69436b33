"""The bad-input corpus (tests/corpus.py) as tests: one per case, each in its own folder.

A case that fails because of a known bug not fixed yet is an xfail(strict=True)
(``corpus.KNOWN_BUGS``): when its fix lands the case passes, the strict xfail fails,
and its entry must go.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import corpus
import pytest

CASES = corpus.cases()
SAMPLE = 4
"""The fast tier (``-m "not slow"``) runs every 4th case of each family; CI all."""


def _param(i: int, case: corpus.Case, k: int) -> object:
    """Case ``i`` of the corpus, the ``k``-th of its family."""
    marks = [pytest.mark.slow] if case.slow or k % SAMPLE else []
    if case.id in corpus.KNOWN_BUGS:
        marks.append(pytest.mark.xfail(strict=True, reason=corpus.KNOWN_BUGS[case.id]))
    return pytest.param(i, case, id=case.id, marks=marks)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


def _params() -> list:
    seen: Counter[str] = Counter()
    params = []
    for i, case in enumerate(CASES):
        params.append(_param(i, case, seen[case.family]))
        seen[case.family] += 1
    return params


@pytest.mark.parametrize(("index", "case"), _params())
def test_case(index: int, case: corpus.Case, folder: Path) -> None:
    outcome = corpus.run(case, folder / f"c{index}")
    assert corpus.problems(case, outcome) == [], (outcome.out[-2000:], outcome.err[-2000:])


def test_the_corpus_is_big_and_covers_every_family() -> None:
    by_family = Counter(c.family for c in CASES)
    assert sum(by_family.values()) >= 1000
    assert set(by_family) == set(corpus.FAMILIES)
    assert min(by_family.values()) >= 50


def test_the_corpus_is_the_same_on_every_run() -> None:
    again = corpus.cases()
    assert [(c.id, c.argv, c.files) for c in again] == [(c.id, c.argv, c.files) for c in CASES]


def test_known_failures_name_cases_of_the_corpus() -> None:
    ids = {c.id for c in CASES}
    assert set(corpus.KNOWN_BUGS) <= ids


@pytest.mark.slow
def test_the_stored_numbers_are_jaxs(jax) -> None:
    """corpus_jax.json is what JAX computes today for every twin (refresh: python
    tests/corpus.py --jax)."""
    import numpy as np

    for case in CASES:
        if case.twin is None or case.at is None:
            continue
        value, grads = corpus.jax_numbers(case)
        stored_value, stored = corpus.stored_jax_numbers(case)
        np.testing.assert_allclose(stored_value, value, rtol=1e-12, atol=0, err_msg=case.id)
        for name, grad in grads.items():
            np.testing.assert_allclose(stored[name], grad, rtol=1e-12, atol=0,
                                       err_msg=case.id)


def test_printed_numbers_are_read_back() -> None:
    printed = corpus.parse_printed("y = 33\ndy/da = nan\ndy/db = [[1., -inf],\n [3., 4.]]\n")
    assert [n for n, _ in printed] == ["y", "dy/da", "dy/db"]
    assert printed[2][1].shape == (2, 2) and printed[2][1][0, 1] == float("-inf")
