"""The sweep case of ``scratchml bench``: the whole sweep against a hand-written JAX script."""

from __future__ import annotations

import pytest

from scratchml.bench import cases as bench_cases
from scratchml.bench.cases import sweep as sweep_case


@pytest.mark.slow
def test_the_sweep_case_is_registered_and_both_sides_run_the_same_grid():
    assert "sweep-mixed" in bench_cases.names(quick=True)
    (case,) = bench_cases.build(["numpy"], quick=True, only=["sweep-mixed"])
    work = sweep_case._workloads(quick=True)[0]
    assert case.unit == "network-epoch" and case.dtype == "float32"
    assert len(work.architectures) > 1  # a mixed grid: several stacks
    expected = work.n_networks * work.epochs
    for implementation in case.implementations:
        assert implementation.per_call == expected
    who = {implementation.impl for implementation in case.implementations}
    assert "scratchml" in who
    if bench_cases.importable("jax"):
        assert "jax-vmap" in who
    for implementation in case.implementations:
        timed = implementation.prepare()
        timed()


@pytest.mark.slow
def test_the_jax_script_trains_and_scores_every_network_like_the_sweep(tmp_path):
    pytest.importorskip("jax")
    import numpy as np

    from scratchml import sweep

    # 200 points of one-turn spirals, 150 epochs: both sides separate them with 2×16 networks.
    work = sweep_case.SweepWorkload("t", (2,), (16,), (0.05,), 2, 200, 150, 1)
    scores = sweep_case._jax(work)()()
    train, validation, test = (np.asarray(s) for s in scores[(2, 16)])
    assert train.shape == validation.shape == test.shape == (2,)
    result = sweep.run(work.grid, tmp_path / "s", epochs=work.epochs, summary=False, progress=False)
    rows = sweep.read_results(result.results)
    ours = np.array([float(r["test_accuracy"]) for r in rows])
    assert result.configs is None and not (tmp_path / "s" / "summary.md").exists()
    assert ours.min() > 0.9 and test.min() > 0.9
