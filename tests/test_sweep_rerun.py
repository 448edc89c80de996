"""Sweeps a researcher can rerun and extend: partial grids, reproducible rows, resume, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from scratchml import cli, sweep
from scratchml.sweep import userdata

SMALL = {"n_samples": 60, "turns": 0.5, "width": 2, "seeds": 2}


def small_sweep(out, grid, **kwargs):
    return sweep.run(
        {**SMALL, **grid}, out, epochs=kwargs.pop("epochs", 4), progress=False, **kwargs
    )


# --- 1. keys not given come from the stored sweep ------------------------------------------------


def test_extend_with_a_partial_grid_adds_only_the_values_given(tmp_path):
    out = tmp_path / "s"
    first = small_sweep(out, {"depth": [1, 2], "learning_rate": [0.03, 0.1]})
    assert first.n_networks == 8
    # Only width 4 is new: depth and learning rate stay the stored 1, 2 and 0.03, 0.1
    # (the defaults would add depth 3 and learning rate 0.01).
    grown = sweep.run({"width": [4]}, out, extend=True, progress=False)
    assert grown.n_networks == 16 and grown.n_trained == 8
    rows = sweep.read_results(grown.results)
    assert {r["depth"] for r in rows} == {"1", "2"}
    assert {r["learning_rate"] for r in rows} == {"0.03", "0.1"}
    assert {r["width"] for r in rows} == {"2", "4"}
    # The same from the command line: nothing new to train.
    assert cli.main(["sweep", "--extend", "--width", "4", "--out", str(out)]) == 0
    assert len(sweep.read_results(grown.results)) == 16


def test_resume_with_a_partial_grid_lists_only_the_keys_given(tmp_path, capsys):
    out = tmp_path / "s"
    small_sweep(out, {"depth": [1, 2], "learning_rate": [0.03, 0.1]})
    assert cli.main(["sweep", "--resume", "--width", "2", "--out", str(out)]) == 0
    assert cli.main(["sweep", "--resume", "--width", "4", "8", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "width is 4, 8 here but 2 in the sweep" in error
    assert "depth" not in error and "learning_rate" not in error


# --- 2. a row is reproducible -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_rows_refit_to_the_same_test_accuracy(tmp_path, dtype):
    # A mixed grid (several architectures, stacks of 5, 5 and 2 networks) so that
    # networks train beside different neighbours in stacks of different sizes.
    grid = {
        "n_samples": 80,
        "turns": 0.75,
        "depth": [1, 2],
        "width": [3, 8],
        "activation": ["tanh", "relu"],
        "learning_rate": [0.02, 0.08],
        "seeds": 6,
    }
    result = sweep.run(grid, tmp_path / dtype, epochs=25, dtype=dtype, chunk_size=5, progress=False)
    data = sweep.load(result.out)
    assert (data.rows.dtype == dtype).all()
    sizes = data.rows.groupby("stack").size()
    assert set(sizes) == {4} and len(sizes) == len(data.rows) // 4  # 12 per architecture → 4+4+4
    draws = np.random.default_rng(28).choice(len(data.rows), size=6, replace=False)
    for i in draws:
        row = data.rows.iloc[int(i)]
        refit = data.model_for(row)
        stack = refit.fit()
        assert stack.score(refit.X_test, refit.y_test)[refit.position] == pytest.approx(
            row.test_accuracy, abs=1e-6
        )
        assert stack.score(refit.X_val, refit.y_val)[refit.position] == pytest.approx(
            row.validation_accuracy, abs=1e-6
        )
        assert float(stack.loss_history_[-1, refit.position]) == pytest.approx(
            row.final_loss, rel=1e-6
        )


def test_model_for_needs_the_rows_stack(tmp_path):
    result = small_sweep(tmp_path / "s", {"depth": 1})
    row = sweep.read_results(result.results)[1]
    with pytest.raises(ValueError, match="names no stack"):
        sweep.model_for({**row, "stack": ""}, result.out)
    with pytest.raises(ValueError, match="not network 0"):
        sweep.model_for({**row, "position": "0"}, result.out)
    with pytest.raises(ValueError, match="needs the sweep's folder"):
        sweep.model_for(row)
    pytest.importorskip("pandas")
    rows = sweep.load(result.out).rows
    selected = rows[rows.seed == 1].iloc[0]  # a row of a selection still knows its sweep
    assert sweep.model_for(selected).position == selected.position


# --- 3. resume where there is nothing; SIGTERM; usage errors ------------------------------------


@pytest.mark.parametrize("folder", ["missing", "empty", "unrelated"])
def test_resume_where_there_is_no_sweep_says_so_and_writes_nothing(tmp_path, folder, capsys):
    out = tmp_path / folder
    if folder != "missing":
        out.mkdir()
    if folder == "unrelated":
        (out / "notes.txt").write_text("my notes")
    before = sorted(p.name for p in out.iterdir()) if out.exists() else None
    with pytest.raises(ValueError, match="nothing to resume"):
        sweep.run(None, out, resume=True, progress=False)
    with pytest.raises(ValueError, match="nothing to extend"):
        sweep.run({"width": 4}, out, extend=True, progress=False)
    assert cli.main(["sweep", "--resume", "--out", str(out)]) == 2
    first, hint = capsys.readouterr().err.strip().splitlines()
    assert "there is nothing to resume" in first and hint == "see 'scratchml sweep --help'"
    after = sorted(p.name for p in out.iterdir()) if out.exists() else None
    assert after == before


@pytest.mark.slow
def test_sigterm_saves_the_rows_and_prints_the_resume_command(tmp_path):
    out = tmp_path / "terminated"
    command = [sys.executable, "-m", "scratchml", "sweep", "--out", str(out), "--chunk-size", "3"]
    command += ["--n-samples", "60", "--turns", "0.5", "--depth", "1", "2", "--width", "2", "4"]
    command += ["--seeds", "3", "--epochs", "150"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lines = []
    for line in process.stderr:
        lines.append(line)
        done = line.split(" networks")[0].rsplit(" ", 1)[-1].split("/")[0]
        if done.isdigit() and int(done) > 0:
            os.kill(process.pid, signal.SIGTERM)
            break
    rest = process.stderr.read()
    process.wait()
    assert process.returncode == 130, "".join(lines) + rest
    assert f"continue with:\n    scratchml sweep --resume --out {out}" in rest
    assert "Traceback" not in rest
    kept = sweep.read_results(out / "results.csv")
    assert 3 <= len(kept) < 12
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert len(sweep.read_results(out / "results.csv")) == 12


@pytest.mark.parametrize(("key", "meant"), [("widht", "width"), ("learningrate", "learning_rate")])
def test_an_unknown_grid_key_suggests_the_close_one(tmp_path, key, meant):
    with pytest.raises(ValueError, match=rf"unknown grid key '{key}' \(did you mean {meant}\?\)"):
        sweep.run({key: [4]}, tmp_path / "s", progress=False)
    config = tmp_path / "sweep.toml"
    config.write_text(f"{key} = [4]\n")
    with pytest.raises(ValueError, match=rf"did you mean {meant}\?"):
        sweep.load_config(config)
    assert not (tmp_path / "s").exists()


# --- 4. the best seed is chosen on validation data ------------------------------------------------


def _row(seed, validation, test, train=0.9):
    network = sweep.expand({**SMALL, "depth": 1, "seeds": [seed]})[0]
    return sweep.files.network_row(
        network,
        sweep.check_settings(epochs=4),
        final_loss=0.1,
        train_accuracy=train,
        validation_accuracy=validation,
        test_accuracy=test,
        at_chance=train < 0.55,
        diverged=False,
        stack="0",
        position=seed,
        seconds=0.1,
    )


def test_the_best_seed_is_chosen_on_validation_data_and_reported_on_test_data():
    rows = [_row(0, 0.90, 1.00), _row(1, 0.97, 0.95), _row(2, 0.80, 0.99, train=0.5)]
    (config,) = sweep.configurations(rows, threshold=0.95)
    assert config["best_seed"] == 1  # the best on validation, not the 1.00 on test
    assert config["best_validation_accuracy"] == 0.97 and config["best_test_accuracy"] == 0.95
    assert config["max_test_accuracy"] == 1.0 and config["at_chance"] == 1


def test_a_network_stuck_at_chance_is_flagged(tmp_path):
    assert userdata.at_chance(0.52, 0.5) and not userdata.at_chance(0.6, 0.5)
    assert userdata.chance_level(np.array([0, 0, 0, 1]), "classifier") == 0.75
    # Labels that are noise, 90% of them one class: no network can beat predicting it
    # (0.9) by the margin (0.91 on the training rows), so every one is at chance.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 2)), (rng.random(200) < 0.1).astype(int)
    y[:20] = 1  # exactly 10% of the rows
    y[20:] = 0
    rng.shuffle(y)
    grid = {"depth": 1, "width": 2, "learning_rate": 1e-4, "seeds": 3}
    result = sweep.run(X, y, grid, tmp_path / "s", epochs=3, progress=False)
    rows = sweep.read_results(result.results)
    assert all(r["at_chance"] == "True" for r in rows)
    assert "at chance: 3 of 3 networks" in result.summary.read_text()
