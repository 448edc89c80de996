"""Sweeps on the user's data, k-of-n reliability, per-key tables, the progress line, dtype."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

import scratchml as sm
from scratchml import backends, cli, sweep
from scratchml.sweep import userdata

GRID = {"depth": 1, "width": [2, 4], "learning_rate": 0.05, "seeds": 3}


def blobs_csv(path, n=90):
    """Three separable blobs with class names as text, written as CSV with a header."""
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 4.0], [4.0, -2.0], [-4.0, -2.0]])
    labels = np.arange(n) % 3
    X = centres[labels] + rng.normal(scale=0.6, size=(n, 2))
    names = np.array(["setosa", "versicolor", "virginica"])[labels]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["length", "species", "width"])
        for (a, b), name in zip(X, names, strict=True):
            writer.writerow([a, name, b])
    return X, labels


def test_a_csv_sweep_runs_from_the_command_line(tmp_path, capsys):
    X, labels = blobs_csv(tmp_path / "flowers.csv")
    out = tmp_path / "s"
    argv = ["sweep", "--data", str(tmp_path / "flowers.csv"), "--target", "species"]
    argv += ["--depth", "1", "--width", "2", "4", "--learning-rate", "0.05", "--seeds", "3"]
    argv += ["--epochs", "60", "--out", str(out)]
    assert cli.main(argv) == 0
    rows = sweep.read_results(out / "results.csv")
    assert len(rows) == 6
    assert all(r["data"].startswith("flowers.csv#") and r["arms"] == "" for r in rows)
    assert np.mean([float(r["test_accuracy"]) for r in rows]) > 0.9  # the blobs are separable
    summary = (out / "summary.md").read_text()
    assert "data flowers.csv#" in summary and "one held-out split" in summary
    # The held-out split: 18 test and 18 validation rows of 90, none shared.
    train, validation, test = userdata.split(90, 0, 0, 0)
    assert len(test) == len(validation) == 18 and len(train) == 54
    assert len(set(train) | set(validation) | set(test)) == 90
    # A resume finds the data in the sweep's folder; other data are refused.
    assert cli.main(["sweep", "--resume", "--out", str(out)]) == 0
    np.savez(tmp_path / "other.npz", X=X[:60], y=labels[:60])
    argv = ["sweep", "--resume", "--data", str(tmp_path / "other.npz"), "--out", str(out)]
    assert cli.main(argv) == 2
    assert "data=" in capsys.readouterr().err


def test_the_same_sweep_from_python_with_k_folds(tmp_path):
    X, _ = blobs_csv(tmp_path / "flowers.csv")
    X_file, y_file = sweep.read_file(tmp_path / "flowers.csv", target="species")
    np.testing.assert_allclose(X_file, X)
    assert sorted(set(y_file)) == ["setosa", "versicolor", "virginica"]
    result = sweep.run(X_file, y_file, GRID, tmp_path / "s", epochs=60, folds=3, progress=False)
    data = sweep.load(result.out)
    assert sorted(set(data.rows.fold)) == [0, 1, 2] and len(data.rows) == 18
    # Each fold's rows split 0..89 into a training, a validation and a test part.
    for fold in range(3):
        parts = userdata.split(90, 3, fold, 0)
        assert sorted(np.concatenate(parts)) == list(range(90))
    # A row refits to its scores: the fold's data are rebuilt from the saved data.
    row = data.rows.iloc[10]
    refit = data.model_for(row)
    stack = refit.fit()
    assert stack.score(refit.X_test, refit.y_test)[refit.position] == pytest.approx(
        row.test_accuracy, abs=1e-6
    )
    assert len(refit.y_test) == 30
    # A configuration pools its folds: 3 seeds × 3 folds, one section, no "fold 0".
    assert len(data.configs) == 2 and set(data.configs.networks) == {9}
    assert set(data.configs.folds) == {3}
    summary = result.summary.read_text()
    assert "3 folds pooled" in summary and "## fold" not in summary


def test_a_regression_sweep_scores_r2(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.uniform(-2, 2, size=(120, 1))
    y = np.sin(X[:, 0]) + 0.05 * rng.normal(size=120)
    grid = {"depth": 1, "width": 8, "learning_rate": 0.05, "seeds": 2}
    result = sweep.run(X, y, grid, tmp_path / "s", epochs=300, threshold=0.5, progress=False)
    rows = sweep.read_results(result.results)
    assert all(r["data"].startswith("array#") for r in rows)
    data = sweep.load(result.out)
    assert data.settings.task == "regressor"
    # The test score is R² of the network's predictions, computed here independently.
    row = data.rows.iloc[0]
    refit = data.model_for(row)
    network = refit.fit().model(refit.position)
    assert isinstance(network, sm.MLPRegressor)
    predicted = backends.to_numpy(network.predict(refit.X_test)).ravel()
    truth = backends.to_numpy(refit.y_test)
    r2 = 1 - np.sum((truth - predicted) ** 2) / np.sum((truth - truth.mean()) ** 2)
    assert row.test_accuracy == pytest.approx(r2, abs=1e-3)
    assert row.test_accuracy > 0.5
    assert "validation R² ≥ 0.5" in result.summary.read_text()


def test_data_from_another_array_library_gives_the_same_rows(tmp_path):
    xp = backends.get("array_api_strict")
    X, labels = blobs_csv(tmp_path / "flowers.csv", n=60)
    on_numpy = sweep.run(X, labels, GRID, tmp_path / "n", epochs=5, progress=False)
    strict = sweep.run(
        xp.asarray(X), xp.asarray(labels), GRID, tmp_path / "a", epochs=5, progress=False
    )

    def strip(path):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in sweep.read_results(path)]

    assert strip(on_numpy.results) == strip(strict.results)


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros(20), np.zeros(20), "X must be 2-D"),
        (np.zeros((20, 2)), np.zeros(19), "y must be"),
        (np.zeros((5, 2)), np.arange(5), "at least 10"),
        (np.full((20, 2), np.nan), np.arange(20) % 2, "finite"),
        (np.zeros((20, 2)), np.zeros(20, dtype=int), "single class"),
    ],
)
def test_bad_user_data_fail_before_anything_is_written(tmp_path, X, y, message):
    with pytest.raises(ValueError, match=message):
        sweep.run(X, y, GRID, tmp_path / "s", progress=False)
    assert not (tmp_path / "s").exists()


def test_bad_data_files_are_named(tmp_path):
    blobs_csv(tmp_path / "f.csv")
    with pytest.raises(ValueError, match="name the target column"):
        sweep.read_file(tmp_path / "f.csv")
    with pytest.raises(ValueError, match="no column 'kind'; its columns are length, species"):
        sweep.read_file(tmp_path / "f.csv", target="kind")
    np.savez(tmp_path / "f.npz", features=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="must hold arrays 'X' and 'y'; it holds features"):
        sweep.read_file(tmp_path / "f.npz")
    with pytest.raises(ValueError, match="does not exist"):
        sweep.read_file(tmp_path / "none.csv", target="y")
    with pytest.raises(ValueError, match="spirals"):
        sweep.run(np.zeros((20, 2)), np.arange(20) % 2, {"arms": 3}, tmp_path / "s")
    with pytest.raises(ValueError, match="folds must be"):
        sweep.run(np.zeros((20, 2)), np.arange(20) % 2, GRID, tmp_path / "s", folds=2)


# --- reliability and the summary -------------------------------------------------------------


def _rows(accuracies, **keys):
    network = sweep.expand(
        {"n_samples": 60, "depth": 1, "width": 2, "seeds": len(accuracies), **keys}
    )
    return [
        sweep.files.network_row(
            n,
            sweep.check_settings(epochs=4),
            final_loss=0.1,
            train_accuracy=a,
            validation_accuracy=a,
            test_accuracy=a,
            at_chance=False,
            diverged=False,
            stack="0",
            position=i,
            seconds=0.1,
        )
        for i, (n, a) in enumerate(zip(network, accuracies, strict=True))
    ]


def test_k_of_n_seeds_make_a_configuration_reliable():
    rows = _rows([0.99, 0.97, 0.96, 0.5])
    (every,) = sweep.configurations(rows, threshold=0.95)
    (three,) = sweep.configurations(rows, threshold=0.95, min_seeds=3)
    (four,) = sweep.configurations(rows, threshold=0.95, min_seeds=4)
    assert every["successes"] == 3 and not every["reliable"] and every["min_seeds"] == 4
    assert three["reliable"] and not four["reliable"]
    with pytest.raises(ValueError, match="min_seeds"):
        sweep.configurations(rows, min_seeds=0)


def test_summary_has_success_by_key_and_the_smallest_reliable_network_per_activation(tmp_path):
    grid = {
        "n_samples": 60,
        "turns": 0.5,
        "depth": [1, 2],
        "width": [2, 8],
        "activation": ["tanh", "relu"],
        "learning_rate": [0.01, 0.1],
        "seeds": 3,
    }
    result = sweep.run(grid, tmp_path / "s", epochs=60, min_seeds=2, threshold=0.8, progress=False)
    rows = sweep.read_results(result.results)
    summary = result.summary.read_text()
    assert "at least 2 of its 3 seeds succeed" in summary
    # The learning-rate table, recomputed here from the rows (judged on validation).
    for rate in ("0.01", "0.1"):
        picked = [float(r["validation_accuracy"]) for r in rows if r["learning_rate"] == rate]
        share = np.mean(np.array(picked) >= 0.8)
        assert f"| {rate} | {len(picked)} | {share:.2f} |" in summary
    assert "| learning_rate | networks | success rate (validation) |" in summary
    # The smallest reliable network of each activation, as configs.csv says.
    configs = sweep.configurations(rows, 0.8, 2)
    section = summary.split("Smallest reliable network per activation:")[1].split("\n\n")[1]
    for activation in ("tanh", "relu"):
        reliable = [c for c in configs if c["reliable"] and c["activation"] == activation]
        if reliable:
            smallest = min(c["n_parameters"] for c in reliable)
            line = next(x for x in section.splitlines() if f"| {activation} |" in x)
            assert f"| {smallest} |" in line


def test_the_progress_line_names_the_data_setting_and_the_successes(tmp_path):
    stream = io.StringIO()
    grid = {"n_samples": 60, "turns": [0.5, 1.0], "depth": 1, "width": 4, "seeds": 2}
    sweep.run(grid, tmp_path / "s", epochs=40, threshold=0.6, progress=True, stream=stream)
    lines = stream.getvalue().splitlines()
    assert "2 arms, 0.5 turns, noise 0.05, 60 points: starting" in lines[0]
    rows = sweep.read_results(tmp_path / "s" / "results.csv")
    first = sum(float(r["test_accuracy"]) >= 0.6 for r in rows[:2])
    assert f"2 arms, 1 turns, noise 0.05, 60 points  {first}/2 ≥ 0.6" in lines[1]
    assert "ETA" in lines[1] and "network-epochs/s" in lines[1]


def test_dtype_is_a_setting_of_the_rows(tmp_path):
    argv = ["sweep", "--n-samples", "60", "--depth", "1", "--width", "2", "--seeds", "2"]
    argv += ["--epochs", "3", "--dtype", "float64", "--out", str(tmp_path / "s")]
    assert cli.main(argv) == 0
    rows = sweep.read_results(tmp_path / "s" / "results.csv")
    assert {r["dtype"] for r in rows} == {"float64"}
    data = sweep.load(tmp_path / "s")
    assert data.model_for(data.rows.iloc[0]).X.dtype == backends.get("numpy").float64


# --- the optimizer's keys ------------------------------------------------------------------------


def test_optimizer_keys_reach_the_stack(tmp_path):
    grid = {"n_samples": 60, "depth": 1, "width": 2, "seeds": 1, "beta_1": [0.8, 0.95]}
    result = sweep.run(grid, tmp_path / "s", epochs=2, progress=False)
    data = sweep.load(result.out)
    assert sorted(data.rows.beta_1) == [0.8, 0.95]
    refit = data.model_for(data.rows.iloc[1])
    assert refit.estimator.get_params()["beta_1"] == 0.95
    # The grid checks values with the estimator's own table: its range, its words.
    with pytest.raises(ValueError, match=r"'beta_2'.*\[0, 1\).*1\.5"):
        sweep.check_values("beta_2", [1.5])
    assert sweep.check_values("epsilon", [None]) == [None]


@pytest.mark.slow
def test_a_sweep_on_your_data_gives_the_same_rows_on_dask(tmp_path):
    pytest.importorskip("distributed")
    X, labels = blobs_csv(tmp_path / "flowers.csv", n=60)
    here = sweep.run(X, labels, GRID, tmp_path / "here", epochs=5, folds=3, progress=False)
    there = sweep.run(
        X, labels, GRID, tmp_path / "dask", epochs=5, folds=3, dask="local:2", progress=False
    )

    def strip(path):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in sweep.read_results(path)]

    assert len(strip(here.results)) == 18
    assert strip(here.results) == strip(there.results)


def test_a_network_of_the_users_data_has_no_spirals_to_size_or_draw():
    from scratchml.sweep import chunks

    (network,) = sweep.expand({"depth": 1, "width": 2, "seeds": 1}, folds=0)
    with pytest.raises(ValueError, match="no spirals"):
        chunks.layer_sizes(network)  # without its data: no sizes to guess
    (spiral,) = sweep.expand({"arms": 3, "depth": 1, "width": 2, "seeds": 1})
    assert chunks.layer_sizes(spiral) == [2, 2, 3]
    assert chunks.spiral_keys(spiral) == (3, spiral.turns, spiral.noise, spiral.n_samples)
