"""What a sweep reports and how: judged on validation, folds pooled, any two keys, stored
report settings, full-precision scores, per-architecture chunks, standardisation, bad input
and Ctrl-C, and pictures that say what they show."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from scratchml import cli, sweep
from scratchml.sweep import chunks, userdata
from scratchml.viz import sweep_curves, sweep_heatmap

SMALL = {"n_samples": 80, "turns": 0.5, "depth": 1, "width": [2, 4], "seeds": 2}


def _row(seed, validation, test, fold=0, **keys):
    (network,) = [
        n
        for n in sweep.expand({"depth": 1, "width": 2, "seeds": [seed], **keys}, folds=3)
        if n.fold == fold
    ]
    settings = sweep.check_settings(epochs=4, data="d#0", folds=3)
    return sweep.files.network_row(
        network, settings, final_loss=0.1, train_accuracy=0.9,
        validation_accuracy=validation, test_accuracy=test, at_chance=False, diverged=False,
        stack="0", position=seed, seconds=0.1,
    )  # fmt: skip


# --- 3 and 4: success judged on validation, folds pooled -------------------------------------


def test_success_is_judged_on_validation_by_default_and_on_test_when_asked():
    rows = [_row(0, 0.96, 0.80), _row(1, 0.97, 0.90), _row(2, 0.80, 0.99)]
    (on_validation,) = sweep.configurations(rows, threshold=0.95)
    (on_test,) = sweep.configurations(rows, threshold=0.95, judge_on="test")
    assert on_validation["judge_on"] == "validation" and on_validation["successes"] == 2
    assert on_validation["test_successes"] == 1  # reported beside, never judged on
    assert on_test["successes"] == 1
    assert on_validation["mean_test_accuracy"] == pytest.approx((0.80 + 0.90 + 0.99) / 3)
    with pytest.raises(ValueError, match="judge_on"):
        sweep.configurations(rows, judge_on="train")


def test_folds_are_pooled_per_configuration_k_of_folds_times_seeds():
    scores = {(0, 0): 0.99, (1, 0): 0.90, (0, 1): 0.97, (1, 1): 0.96, (0, 2): 0.5, (1, 2): 0.98}
    rows = [_row(seed, v, v, fold=fold) for (seed, fold), v in scores.items()]
    (config,) = sweep.configurations(rows, threshold=0.95, min_seeds=4)
    values = np.array(list(scores.values()))
    assert (config["folds"], config["seeds"], config["networks"]) == (3, 2, 6)
    assert config["successes"] == 4 and config["reliable"]
    assert config["mean_validation_accuracy"] == pytest.approx(values.mean())
    assert config["sd_validation_accuracy"] == pytest.approx(values.std(ddof=1))
    assert "fold" not in sweep.CONFIG_COLUMNS and "folds" in sweep.CONFIG_COLUMNS
    assert (config["best_seed"], config["best_fold"]) == (0, 0)


# --- 5: any two keys, from the command line and from load --------------------------------------


@pytest.fixture(scope="module")
def rates_by_l2(tmp_path_factory):
    out = tmp_path_factory.mktemp("rates") / "s"
    argv = ["sweep", "--n-samples", "80", "--turns", "0.5", "--depth", "1", "--width", "4"]
    argv += ["--learning-rate", "0.01", "0.1", "--l2", "0", "0.001", "--seeds", "3"]
    argv += ["--epochs", "40", "--min-seeds", "2", "--threshold", "0.7", "--out", str(out)]
    assert cli.main(argv) == 0
    return out


def test_a_table_and_a_heatmap_of_any_two_keys(rates_by_l2):
    out = rates_by_l2
    rows = sweep.read_results(out / "results.csv")
    data = sweep.load(out)
    cells = data.cells("learning_rate", "l2")
    for (rate, l2), cell in cells.items():
        picked = [
            float(r["validation_accuracy"])
            for r in rows
            if float(r["learning_rate"]) == rate and float(r["l2"]) == l2
        ]
        assert cell["n"] == 3 and cell["mean"] == pytest.approx(np.mean(picked), rel=1e-12)
        assert cell["successes"] == sum(v >= 0.7 for v in picked)
    assert len(cells) == 4
    text = data.table("learning_rate", "l2", split="test")
    assert text.startswith("| learning_rate \\ l2 | 0 | 0.001 |")
    # learning rate × l2 in summary.md and as a picture, without asking (both vary).
    summary = (out / "summary.md").read_text()
    assert "## learning_rate × l2: validation accuracy" in summary
    assert (out / "heatmap-learning_rate-l2.png").exists()
    fig = data.heatmap("learning_rate", "l2", split="test")
    (panel,) = [ax for ax in fig.axes if ax.images]
    assert [t.get_text() for t in panel.get_xticklabels()] == ["0", "0.001"]
    with pytest.raises(ValueError, match="unknown key"):
        data.table("learning_rate", "widht")


# --- 7: report settings stored and used again ----------------------------------------------


def test_report_settings_are_stored_and_used_on_a_plain_resume_and_extend(rates_by_l2, capsys):
    out = rates_by_l2
    stored = json.loads((out / "sweep.json").read_text())["report"]
    assert stored["min_seeds"] == 2 and stored["threshold"] == 0.7
    assert stored["judge_on"] == "validation"
    for argv in (["--resume"], ["--extend", "--seeds", "4"]):
        assert cli.main(["sweep", *argv, "--out", str(out)]) == 0
        configs = list(csv.DictReader((out / "configs.csv").open()))
        assert {c["min_seeds"] for c in configs} == {"2"}
        assert {c["threshold"] for c in configs} == {"0.7"}
    assert sweep.load(out).report.min_seeds == 2
    # Given again, they replace the stored ones.
    assert cli.main(["sweep", "--resume", "--judge-on", "test", "--out", str(out)]) == 0
    assert json.loads((out / "sweep.json").read_text())["report"]["judge_on"] == "test"
    assert "success (test)" in (out / "summary.md").read_text()
    capsys.readouterr()


# --- 8: scores at full precision ---------------------------------------------------------------


def test_scores_are_written_at_full_precision_so_a_refit_gives_them_exactly(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(97, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=97) > 0).astype(int)  # 97 rows: k/n is not short
    grid = {"depth": 1, "width": 3, "learning_rate": [0.01, 0.1], "seeds": 2}
    sweep.run(X, y, grid, tmp_path, epochs=15, progress=False)
    for row in sweep.read_results(tmp_path / "results.csv"):
        refit = sweep.model_for(row, tmp_path)
        stack = refit.fit()
        for split, (X_part, y_part) in {
            "train": (refit.X, refit.y),
            "validation": (refit.X_val, refit.y_val),
            "test": (refit.X_test, refit.y_test),
        }.items():
            score = float(stack.score(X_part, y_part)[refit.position])
            assert float(row[f"{split}_accuracy"]) == score
            assert row[f"{split}_accuracy"] == repr(score)


# --- 2: chunk size per architecture -------------------------------------------------------------


def test_each_architecture_gets_its_own_chunk_size(tmp_path):
    settings = sweep.check_settings(epochs=300)
    networks = sweep.expand({"width": [4, 64], "depth": 2, "seeds": 200})
    sizes = sweep.chunk_sizes(networks, settings, free_bytes=None)
    small, large = (sizes[chunks.stack_key(n)] for n in (networks[0], networks[-1]))
    assert small > large
    assert large == sweep.default_chunk_size(networks, settings, free_bytes=None)
    made = sweep.make_chunks(networks, sizes)
    assert max(len(c.networks) for c in made if c.networks[0].width == 4) > large
    # A sweep keeps them in sweep.json; a resume cuts the same chunks.
    sweep.run({**SMALL, "width": [2, 32]}, tmp_path, epochs=5, progress=False)
    stored = json.loads((tmp_path / "sweep.json").read_text())
    assert stored["chunk_size"] is None and len(stored["chunk_sizes"]) == 2
    with pytest.raises(ValueError, match="chunk_size"):
        sweep.make_chunks(networks, {chunks.stack_key(networks[0]): 3})


# --- 6: standardisation on each training split -------------------------------------------------


def test_standardize_scales_by_each_training_split_only(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(loc=[100.0, -5.0, 3.0], scale=[40.0, 0.01, 0.0], size=(60, 3))
    y = np.arange(60) % 2
    data = userdata.UserData(X, y.astype(np.int64))
    settings = sweep.check_settings(
        epochs=2, dtype="float64", data="d#0", folds=3, standardize=True
    )
    (network,) = [n for n in sweep.expand({"depth": 1, "width": 2, "seeds": 1}, folds=3)][1:2]
    split = chunks.network_data(network, settings, data)
    train, validation, _ = userdata.split(60, 3, network.fold, 0)
    np.testing.assert_allclose(split.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(split.X.std(axis=0)[:2], 1.0, rtol=1e-12)
    mean, sd = X[train].mean(axis=0), X[train].std(axis=0)
    sd[2] = 1.0  # a constant feature is only centred
    np.testing.assert_allclose(split.X_val, (X[validation] - mean) / sd, rtol=1e-12)
    with pytest.raises(ValueError, match="standardize"):
        sweep.check_settings(standardize=True)  # spirals
    result = sweep.run(X, y, {"depth": 1, "width": 2, "seeds": 1}, tmp_path, epochs=3,
                       standardize=True, progress=False)  # fmt: skip
    assert "features standardised" in result.summary.read_text()
    loaded = sweep.load(tmp_path)
    (row,) = loaded.rows.to_dict("records") if hasattr(loaded.rows, "to_dict") else loaded.rows
    refit = loaded.model_for(row)
    assert abs(float(np.mean(np.asarray(refit.X)[:, 0]))) < 1e-6


# --- 9: bad input: one line, nothing written ----------------------------------------------------


def _csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


GOOD = [[float(i), float(i % 3), "ab"[i % 2]] for i in range(30)]


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([*GOOD[:6], [6.0, 0.0, ""], *GOOD[7:]], "column 'y', row 7 (line 8): the target is missing"),
        ([*GOOD[:6], [6.0, 0.0, "nan"], *GOOD[7:]], "column 'y', row 7 (line 8)"),
        ([*GOOD[:4], [4.0, "inf", "a"], *GOOD[5:]], "column 'b', row 5 (line 6): 'inf' is not a finite"),
        ([*GOOD[:4], ["", 1.0, "a"], *GOOD[5:]], "column 'a', row 5 (line 6): the cell is empty"),
        ([*GOOD[:4], ["x", 1.0, "a"], *GOOD[5:]], "column 'a', row 5 (line 6): 'x' is not a number"),
        ([], "has a header but no rows of data"),
    ],
)  # fmt: skip
def test_a_bad_csv_is_one_line_naming_file_column_and_row_and_nothing_is_written(
    tmp_path, capsys, rows, expected
):
    data = _csv(tmp_path / "bad.csv", ["a", "b", "y"], rows)
    out = tmp_path / "out"
    argv = ["sweep", "--data", str(data), "--target", "y", "--depth", "1", "--width", "2"]
    assert cli.main([*argv, "--epochs", "2", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert expected in error and str(data) in error and "Traceback" not in error
    assert len(error.strip().splitlines()) == 2  # the message, and where help is
    assert not out.exists()


def test_a_nan_target_with_numeric_labels_is_refused_not_made_a_class(tmp_path, capsys):
    rows = [[float(i), float(i % 2)] for i in range(30)]
    rows[9][1] = math.nan
    data = _csv(tmp_path / "n.csv", ["a", "y"], rows)
    argv = ["sweep", "--data", str(data), "--target", "y", "--out", str(tmp_path / "o")]
    assert cli.main(argv) == 2
    assert "column 'y', row 10 (line 11)" in capsys.readouterr().err
    labels = np.array([0.0, 1.0] * 4 + [np.nan] + [0.0] * 21)
    with pytest.raises(ValueError, match=r"y\[8\] is nan"):
        sweep.run(np.zeros((30, 2)), labels, {"depth": 1, "width": 2}, tmp_path / "p",
                  task="classifier", epochs=2, progress=False)  # fmt: skip
    assert not (tmp_path / "o").exists() and not (tmp_path / "p").exists()


def test_min_seeds_above_the_seeds_is_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "o"
    argv = ["sweep", "--depth", "1", "--width", "2", "--seeds", "3", "--min-seeds", "4"]
    assert cli.main([*argv, "--out", str(out)]) == 2
    assert "min_seeds is 4, but a configuration has only 3 networks" in capsys.readouterr().err
    assert not out.exists()
    # With folds, a configuration has seeds × folds networks.
    X, y = np.random.default_rng(0).normal(size=(30, 2)), np.arange(30) % 2
    with pytest.raises(ValueError, match=r"only 9 networks \(3 seeds × 3 folds\)"):
        sweep.run(X, y, {"seeds": 3}, out, folds=3, min_seeds=10, progress=False)
    assert not out.exists()


def test_ctrl_c_before_any_network_is_saved_leaves_nothing_and_no_traceback(
    tmp_path, capsys, monkeypatch
):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(chunks, "fit_stack", interrupted)
    out = tmp_path / "o"
    assert cli.main(["sweep", "--depth", "1", "--width", "2", "--out", str(out)]) == 130
    error = capsys.readouterr().err
    assert "nothing written" in error and "Traceback" not in error
    assert not out.exists()
    # While the command starts (its imports), too.
    monkeypatch.setattr(cli, "_parser", interrupted)
    assert cli.main(["sweep"]) == 130
    assert capsys.readouterr().err.strip() == "scratchml: interrupted"


# --- 10: pictures that say what they show -------------------------------------------------------


def test_a_regression_sweep_labels_r2_with_its_own_colour_scale_and_no_fold_0(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.uniform(-2, 2, size=(80, 1))
    y = np.sin(2 * X[:, 0]) + 0.05 * rng.normal(size=80)
    grid = {"depth": 1, "width": [1, 8], "learning_rate": [0.001, 0.05], "seeds": 2}
    result = sweep.run(X, y, grid, tmp_path, epochs=60, threshold=0.5, progress=False)
    fig = sweep_heatmap(sweep.read_rows(result.results), task="regressor")
    colorbar = [ax for ax in fig.axes if not ax.images][-1]
    assert colorbar.get_ylabel() == "mean validation R²"
    images = [ax.images[0] for ax in fig.axes if ax.images]
    lowest = min(float(np.ma.min(image.get_array())) for image in images)
    assert lowest < 0  # the width-1 networks at lr 0.001 are worse than the mean
    assert images[0].norm.vmin == pytest.approx(max(lowest, -1.0))
    assert "accuracy" not in fig._suptitle.get_text()
    summary = result.summary.read_text()
    assert "fold 0" not in summary and "fold 0" not in fig._suptitle.get_text()
    assert "validation R² ≥ 0.5" in summary


def test_neighbouring_panels_labels_do_not_overlap_with_a_single_width(tmp_path):
    rows = [
        _row(seed, 0.9, 0.8, learning_rate=rate, l2=l2)
        for seed in range(2)
        for rate in (0.01, 0.03, 0.1)
        for l2 in (0.0, 0.1)
    ]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = sweep_heatmap(sweep.read_rows(rows))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.images]
    assert len(boxes) == 6
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap_x = min(a.x1, b.x1) - max(a.x0, b.x0)
            overlap_y = min(a.y1, b.y1) - max(a.y0, b.y0)
            assert overlap_x <= 0 or overlap_y <= 0
    fig.savefig(tmp_path / "panels.png")


def test_the_pictures_draw_the_rows_they_are_given_and_import_nothing_of_sweep(tmp_path):
    # scratchml.sweep.report draws with scratchml.viz.sweep: the pictures read no sweep file.
    import ast
    import inspect

    from scratchml.viz import sweep as viz_sweep

    tree = ast.parse(inspect.getsource(viz_sweep))
    imported = [
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    ] + [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    assert not [name for name in imported if "sweep" in name]
    text = [_row(seed, 0.9, 0.8) for seed in range(2)]  # as results.csv holds them
    with pytest.raises(TypeError, match="read_rows"):
        sweep_heatmap(tmp_path / "results.csv")
    with pytest.raises(TypeError, match="holds text"):
        sweep_heatmap(text)
    parsed = sweep.read_rows(text)
    assert parsed[0]["validation_accuracy"] == 0.9 and parsed[0]["momentum"] is None
    rows = parsed
    curves = [(np.arange(3), np.ones(3)), None]
    with pytest.raises(ValueError, match="one curve"):
        sweep_curves(rows, curves[:1])
    fig = sweep_curves(parsed, curves)
    assert [len(ax.lines) for ax in fig.axes] == [1, 1]  # one configuration, best and worst
