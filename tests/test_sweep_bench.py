"""The sweep cases of ``scratchml bench``: the whole sweep against a hand-written JAX script
and (on scikit-learn's digits) scikit-learn's GridSearchCV."""

from __future__ import annotations

import warnings

import numpy as np
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


def test_the_digits_case_is_registered_and_left_out_of_a_quick_run_unless_named():
    pytest.importorskip("sklearn")
    assert "sweep-digits" in bench_cases.names(quick=True)
    assert "sweep-digits" not in [case.name for case in bench_cases.build(["numpy"], quick=True)]
    (case,) = bench_cases.build(["numpy"], quick=False, only=["sweep-digits"])
    (work,) = sweep_case._digits_workloads(quick=False)
    assert case.unit == "network-epoch" and case.dtype == "float32"
    assert work.n_networks == 2 * 2 * 2 * 3 and len(work.architectures) == 4
    assert {i.impl for i in case.implementations} >= {"scratchml", "sklearn"}
    assert {i.per_call for i in case.implementations} == {work.n_networks * work.epochs}


def test_the_digits_case_trains_the_same_networks_for_the_same_epochs_on_every_side():
    pytest.importorskip("sklearn")
    from sklearn.base import clone

    from scratchml import sweep

    # Two architectures × two seeds, 20 epochs: every network well above chance (0.1).
    work = sweep_case.DigitsWorkload("t", (1, 2), (16,), (0.01,), 2, 20, 1)
    case = sweep_case.digits_case(work, ["numpy"])
    assert case.unit == "network-epoch" and case.dtype == "float32"
    assert {i.per_call for i in case.implementations} == {4 * 20}
    done = {i.impl: i.prepare()() for i in case.implementations}

    (X, y), (X_val, _), (X_test, _) = sweep_case.digits_parts()
    assert X.dtype == np.float32 and X.shape == (work.n_train, 64)
    assert len(X) + len(X_val) + len(X_test) == sweep_case.DIGITS_ROWS
    rows = sweep.read_results(done["scratchml"].results)
    assert len(rows) == work.n_networks
    assert {int(r["epochs"]) for r in rows} == {work.epochs}
    assert {r["dtype"] for r in rows} == {"float32"}
    assert min(float(r["validation_accuracy"]) for r in rows) > 0.5

    search = done["sklearn"]
    scores = search.cv_results_["mean_test_score"]  # the validation rows
    assert len(scores) == work.n_networks and scores.min() > 0.5
    # Each of the search's networks runs every epoch: the same estimator fitted alone.
    alone = clone(search.estimator).set_params(hidden_layer_sizes=(16, 16), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone.fit(X, y)
    assert alone.n_iter_ == work.epochs and alone.t_ == work.epochs * len(X)
    assert X.dtype == alone.coefs_[0].dtype  # float32 kept

    if "jax-vmap" in done:
        accuracies = [np.asarray(a) for arch in work.architectures for a in done["jax-vmap"][arch]]
        assert len(done["jax-vmap"]) == len(work.architectures)
        assert all(a.shape == (work.seeds,) for a in accuracies)
        assert min(a.min() for a in accuracies) > 0.5
