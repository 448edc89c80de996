"""Sweeps: the grid, chunks, crash-safe resumable results, reports that answer, clean failures."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import scratchml as sm
from scratchml import backends, cli, sweep
from scratchml.sweep import chunks as sweep_chunks
from scratchml.sweep.files import network_row, row_key
from scratchml.viz import sweep_heatmap

# A tiny grid: 2 depths × 2 widths × 2 learning rates × 3 seeds = 24 networks in 4 stacks.
TINY = {
    "n_samples": 60,
    "turns": 0.5,
    "depth": [1, 2],
    "width": [2, 4],
    "learning_rate": [0.01, 0.05],
    "seeds": 3,
}
TINY_FLAGS = ["--n-samples", "60", "--turns", "0.5", "--depth", "1", "2", "--width", "2", "4"]
TINY_FLAGS += ["--learning-rate", "0.01", "0.05", "--seeds", "3"]


def rows_without_seconds(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        row.pop("seconds")
    return rows


# --- the grid --------------------------------------------------------------------------------


def test_expand_is_the_product_of_the_values_in_grid_order():
    networks = sweep.expand({**TINY, "arms": [2, 3], "l2": [0.0, 1e-3]})
    assert len(networks) == 2 * 2 * 2 * 2 * 2 * 3
    assert len(set(networks)) == len(networks)
    # The seed varies fastest, then l2, then the learning rate: a stack's members are adjacent.
    assert [n.seed for n in networks[:4]] == [0, 1, 2, 0]
    assert networks[0].l2 == 0.0 and networks[3].l2 == 1e-3
    assert {n.arms for n in networks} == {2, 3}
    # Keys left out take the defaults.
    assert {n.activation for n in networks} == set(sweep.DEFAULT_GRID["activation"])
    assert {n.noise for n in networks} == {0.05}


def test_seeds_is_a_count_or_a_list():
    assert [n.seed for n in sweep.expand({"depth": 1, "width": 2, "seeds": 3})] == [0, 1, 2]
    assert [n.seed for n in sweep.expand({"depth": 1, "width": 2, "seeds": [7, 11]})] == [7, 11]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "activation",
            ["tanh", "no such activation"],
            "'activation'.*'relu'.*got 'no such activation'",
        ),
        ("width", [4, 0], "'width'"),
        ("depth", [], "'depth' is an empty list"),
        ("optimizer", "no such optimizer", "'optimizer'"),
        ("learning_rate", [0.01, -1.0], "'learning_rate'"),
        ("l2", [float("nan")], "'l2'"),
        ("arms", [1], "'arms'"),
        ("seeds", 0, "'seeds'"),
        ("seeds", [1, 1], "'seeds' repeats"),
        ("width", [4, 4], "'width' repeats"),
        ("widths", [4], "unknown grid key 'widths'"),
        ("n_samples", [2.5], "'n_samples'"),
    ],
)
def test_bad_grid_fails_naming_the_key_before_training(tmp_path, key, value, message):
    with pytest.raises(ValueError, match=message):
        sweep.run({**TINY, key: value}, tmp_path / "out", epochs=2, progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"backend": "not-a-library"}, "backend"),
        ({"threshold": 1.5}, "threshold"),
    ],
)
def test_bad_settings_fail_before_training(tmp_path, settings, message):
    with pytest.raises(ValueError, match=message):
        sweep.run(TINY, tmp_path / "out", progress=False, **{"epochs": 2, **settings})
    assert not (tmp_path / "out").exists()


def test_toml_config_is_read_and_unknown_keys_and_missing_files_are_named(tmp_path):
    good = tmp_path / "sweep.toml"
    good.write_text('depth = [1, 2]\nwidth = 3\nactivation = ["relu"]\nseeds = 2\nepochs = 5\n')
    assert sweep.load_config(good) == {
        "depth": [1, 2],
        "width": 3,
        "activation": ["relu"],
        "seeds": 2,
        "epochs": 5,
    }
    bad = tmp_path / "bad.toml"
    bad.write_text("depth = [1]\nwidht = [2]\n")
    with pytest.raises(ValueError, match="unknown key 'widht'"):
        sweep.load_config(bad)
    with pytest.raises(ValueError, match=r"nope\.toml does not exist"):
        sweep.load_config(tmp_path / "nope.toml")
    with pytest.raises(ValueError, match="cannot be read"):
        sweep.load_config(tmp_path)  # a folder


# --- chunks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 4, 5, 12, 100])
def test_chunks_hold_one_data_set_and_architecture_and_cover_the_grid(chunk_size):
    networks = sweep.expand({**TINY, "arms": [2, 3]})
    chunks = sweep.make_chunks(networks, chunk_size)
    assert [n for chunk in chunks for n in chunk.networks] == networks
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert 1 <= len(chunk.networks) <= chunk_size
        assert len({sweep_chunks.stack_key(n) for n in chunk.networks}) == 1
    # 8 stack keys (2 arms × 2 depths × 2 widths), each a group of 2 learning rates × 3 seeds,
    # cut into ⌈6 / chunk_size⌉ nearly equal chunks.
    pieces = -(-6 // chunk_size)
    assert len(chunks) == 8 * pieces
    sizes = {len(chunk.networks) for chunk in chunks}
    assert max(sizes) - min(sizes) <= 1


def test_default_chunk_size_fits_memory_and_caps_work():
    networks = sweep.expand({"depth": [1, 4], "width": [2, 64], "n_samples": 1000, "seeds": 64})
    settings = sweep.check_settings(epochs=1)
    widest = max(networks, key=lambda n: sweep.network_bytes(n, settings))
    assert (widest.depth, widest.width) == (4, 64)
    per_network = sweep.network_bytes(widest, settings)
    # Limited by memory: half of the free bytes, for the largest network.
    assert sweep.default_chunk_size(networks, settings, free_bytes=40 * per_network) == 20
    assert sweep.default_chunk_size(networks, settings, free_bytes=1) == 1
    # Plenty of memory: the work cap keeps chunks to a few seconds each.
    roomy = sweep.default_chunk_size(networks, settings, free_bytes=2**50)
    one = settings.epochs * sweep.network_epoch_flops(widest)
    assert roomy * one <= sweep.CHUNK_FLOPS["cpu"] < (roomy + 1) * one
    on_gpu = sweep.default_chunk_size(networks, settings, free_bytes=2**50, on_gpu=True)
    assert on_gpu > roomy
    with pytest.raises(ValueError, match="chunk_size"):
        sweep.make_chunks(networks, 0)


def test_out_of_memory_halves_the_chunk(monkeypatch):
    fit_stack = sweep_chunks.fit_stack
    sizes = []

    def fit_or_run_out(networks, settings, user=None):
        sizes.append(len(networks))
        if len(networks) > 2:
            raise MemoryError("no room for the stack")
        return fit_stack(networks, settings, user)

    monkeypatch.setattr(sweep_chunks, "fit_stack", fit_or_run_out)
    settings = sweep.check_settings(epochs=3)
    chunk = sweep.make_chunks(sweep.expand({**TINY, "depth": 1, "width": 2}), 6)[0]
    result = sweep.train_chunk(chunk, settings)
    assert sizes == [6, 3, 1, 2, 3, 1, 2]
    assert result.splits == 3  # 6 → 3 + 3, and each 3 → 1 + 2
    assert [row_key(row) for row in result.rows] == [
        row_key(network_row(n, settings)) for n in chunk.networks
    ]
    assert result.curves.shape[0] == 6
    assert len(result.models) == 2  # one best network per learning rate
    # Each row names the stack it actually trained in: the halves, not the chunk.
    assert len(result.stacks) == 4 and {row["stack"] for row in result.rows} == set(result.stacks)
    # Other errors are not swallowed.
    monkeypatch.setattr(sweep_chunks, "fit_stack", lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        sweep.train_chunk(chunk, settings)


def test_gpu_out_of_memory_errors_are_recognised():
    assert backends.is_out_of_memory(MemoryError())
    assert not backends.is_out_of_memory(ValueError("out of memory"))


# --- results: one run, resumed runs, torn files -----------------------------------------------


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """The tiny grid, run once without interruption, in chunks of 3."""
    out = tmp_path_factory.mktemp("clean")
    return sweep.run(TINY, out, epochs=30, chunk_size=3, curve_every=4, progress=False)


def test_a_run_writes_one_row_per_network_and_the_report(clean_run):
    rows = sweep.read_results(clean_run.results)
    assert len(rows) == clean_run.n_networks == clean_run.n_trained == 24
    assert list(rows[0]) == list(sweep.COLUMNS)
    settings = sweep.check_settings(epochs=30, curve_every=4)
    expected = [network_row(n, settings) for n in sweep.expand(TINY)]
    assert [row_key(r) for r in rows] == [row_key(r) for r in expected]  # grid order
    for row in rows:
        assert 0.0 <= float(row["test_accuracy"]) <= 1.0
        assert row["diverged"] in ("True", "False")
        assert row["epochs"] == "30" and row["batch_size"] == "" and row["dtype"] == "float32"
    names = sorted(path.name for path in clean_run.pictures)
    # The learning rate varies: panels of one heatmap and one success-rate picture, and curves.
    assert names == ["curves.png", "heatmap.png", "success.png"]
    for path in clean_run.pictures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = clean_run.summary.read_text()
    for part in ("## Grid", "Best by mean validation accuracy", "network-epochs/s", "## Machine"):
        assert part in summary
    assert "| learning_rate | 0.01, 0.05 |" in summary
    assert "24 networks (every network of the grid) in 8 configurations" in summary


def test_configurations_give_success_rate_and_spread_over_seeds(clean_run):
    pandas = pytest.importorskip("pandas")
    frame = pandas.read_csv(clean_run.results)
    keys = ["depth", "width", "learning_rate"]
    grouped = frame.groupby(keys)["test_accuracy"]
    configs = pandas.read_csv(clean_run.configs).set_index(keys).sort_index()
    assert len(configs) == 8 and (configs["seeds"] == 3).all()
    np.testing.assert_allclose(configs["mean_test_accuracy"], grouped.mean(), rtol=1e-5)
    np.testing.assert_allclose(configs["min_test_accuracy"], grouped.min(), rtol=1e-5)
    np.testing.assert_allclose(configs["max_test_accuracy"], grouped.max(), rtol=1e-5)
    # Success is judged on the validation scores; the test scores are reported beside.
    judged = frame.groupby(keys)["validation_accuracy"]
    success = judged.apply(lambda acc: (acc >= 0.95).mean())
    np.testing.assert_allclose(configs["success_rate"], success, rtol=1e-5)
    np.testing.assert_allclose(configs["mean_validation_accuracy"], judged.mean(), rtol=1e-12)
    np.testing.assert_allclose(configs["sd_test_accuracy"], grouped.std(ddof=1), rtol=1e-12)
    on_test = grouped.apply(lambda acc: (acc >= 0.95).sum())
    np.testing.assert_array_equal(configs["test_successes"], on_test)
    # Another threshold changes the success rates, not the rows.
    lenient = sweep.configurations(sweep.read_results(clean_run.results), threshold=0.5)
    assert all(c["success_rate"] >= s for c, s in zip(lenient, success, strict=False))


def test_load_gives_rows_configs_curves_and_the_best_models(clean_run):
    pytest.importorskip("pandas")
    data = sweep.load(clean_run.out)
    assert len(data.rows) == 24 and len(data.configs) == 8
    assert data.grid["learning_rate"] == [0.01, 0.05] and data.settings.epochs == 30
    row = data.rows.iloc[5]
    epochs, loss = data.curve(row)
    assert epochs[0] == 4 and epochs[-1] == 30 and np.all(np.diff(epochs) > 0)
    assert loss[-1] == pytest.approx(row["final_loss"], rel=1e-5)
    # The saved model of a configuration is its best seed on validation data: it scores
    # that seed's test accuracy (one network's forward pass, the stack's up to rounding).
    config = data.configs.iloc[3]
    model = data.model(config)
    assert isinstance(model, sm.MLPClassifier)
    best = data.rows[
        (data.rows.depth == config.depth)
        & (data.rows.width == config.width)
        & (data.rows.learning_rate == config.learning_rate)
        & (data.rows.seed == config.best_seed)
    ].iloc[0]
    refit = data.model_for(best)
    accuracy = float(model.score(refit.X_test, refit.y_test))
    assert accuracy == pytest.approx(config["best_test_accuracy"], abs=2 / len(refit.y_test))
    assert best.validation_accuracy == config["best_validation_accuracy"]
    assert len(list((clean_run.out / "models").glob("*.npz"))) == 8


def test_model_for_rebuilds_a_row_so_that_refitting_reproduces_it(clean_run):
    row = sweep.read_results(clean_run.results)[16]
    refit = sweep.model_for(row, clean_run.out)
    stack = refit.fit()
    network = stack.model(refit.position)
    assert network.hidden_layers == (int(row["width"]),) * int(row["depth"])
    assert network.seed == int(row["seed"])
    assert network.learning_rate == float(row["learning_rate"])
    assert stack.score(refit.X_test, refit.y_test)[refit.position] == pytest.approx(
        float(row["test_accuracy"]), abs=1e-6
    )
    assert stack.loss_history_[-1, refit.position] == pytest.approx(
        float(row["final_loss"]), rel=1e-6
    )


def test_existing_results_are_never_overwritten_nor_resumed_differently(clean_run):
    before = clean_run.results.read_bytes()
    with pytest.raises(FileExistsError, match="--resume"):
        sweep.run(TINY, clean_run.out, epochs=30, chunk_size=3, progress=False)
    with pytest.raises(ValueError, match="epochs=30"):
        sweep.run(TINY, clean_run.out, epochs=31, resume=True, progress=False)
    with pytest.raises(
        ValueError, match=r"activation is relu here but tanh in the sweep.*--extend"
    ):
        sweep.run({**TINY, "activation": "relu"}, clean_run.out, resume=True, progress=False)
    assert clean_run.results.read_bytes() == before


def test_extend_adds_the_new_grid_points_and_the_report_shows_them(clean_run, tmp_path):
    for name in ("results.csv", "sweep.json"):
        (tmp_path / name).write_bytes((clean_run.out / name).read_bytes())
    grown = {**TINY, "depth": [1, 2, 3]}
    result = sweep.run(grown, tmp_path, extend=True, progress=False)
    assert result.n_networks == 36 and result.n_trained == 12
    rows = rows_without_seconds(result.results)
    assert rows[: 2 * 12] == rows_without_seconds(clean_run.results)[: 2 * 12]  # depth 1, 2 kept
    assert {r["depth"] for r in rows} == {"1", "2", "3"}
    summary = result.summary.read_text()
    assert "| depth | 1, 2, 3 |" in summary and "36 networks (every network" in summary
    # Resuming with no grid resumes the stored (extended) one: nothing to train.
    again = sweep.run(None, tmp_path, resume=True, progress=False)
    assert again.n_trained == 0 and again.n_networks == 36


def test_resume_after_a_torn_write_equals_the_clean_run(clean_run, tmp_path):
    # A crash after 2½ chunks: 7 complete rows, and half of the 8th with no newline.
    lines = clean_run.results.read_text().splitlines(keepends=True)
    torn = tmp_path / "results.csv"
    torn.write_text("".join(lines[:8]) + lines[8][:25])
    (tmp_path / "sweep.json").write_bytes((clean_run.out / "sweep.json").read_bytes())
    assert len(sweep.read_results(torn)) == 7  # the torn line is not a row

    result = sweep.run(TINY, tmp_path, resume=True, progress=False)
    assert result.n_trained == 24 - 6  # chunks 1 and 2 were complete; chunk 3 is trained again
    assert rows_without_seconds(torn) == rows_without_seconds(clean_run.results)
    again = sweep.run(None, tmp_path, resume=True, progress=False)
    assert again.n_trained == 0
    assert rows_without_seconds(torn) == rows_without_seconds(clean_run.results)


def test_a_results_file_with_only_a_header_does_not_block_a_new_run(tmp_path):
    out = tmp_path / "aborted"
    out.mkdir()
    (out / "results.csv").write_text(",".join(sweep.COLUMNS) + "\n")
    grid = {**TINY, "depth": 1, "width": 2, "learning_rate": 0.05}
    result = sweep.run(grid, out, epochs=3, progress=False)
    assert result.n_trained == 3


@pytest.mark.slow
def test_a_sweep_killed_mid_way_and_resumed_equals_an_uninterrupted_one(tmp_path):
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "scratchml", "sweep", "--out", str(out), "--chunk-size", "3"]
    command += [*TINY_FLAGS, "--epochs", "150"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    # The progress line of a chunk is written after its rows are synced: kill -9 on the
    # first one that counts networks done (the bar's first line says 0).
    for line in process.stderr:
        done = line.split(" networks")[0].rsplit(" ", 1)[-1].split("/")[0]
        if done.isdigit() and int(done) > 0:
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait()
    assert process.returncode == -signal.SIGKILL
    kept = sweep.read_results(out / "results.csv")
    assert 3 <= len(kept) < 24, f"{len(kept)} rows kept"

    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    clean = sweep.run(TINY, tmp_path / "clean", epochs=150, chunk_size=3, progress=False)
    assert rows_without_seconds(out / "results.csv") == rows_without_seconds(clean.results)


def test_ctrl_c_saves_what_is_done_and_prints_the_resume_command(tmp_path, monkeypatch, capsys):
    train_chunk = sweep_chunks.train_chunk
    calls = []

    def interrupted_after_two_chunks(chunk, settings, user=None):
        calls.append(chunk.index)
        if len(calls) > 2:
            raise KeyboardInterrupt
        return train_chunk(chunk, settings, user)

    monkeypatch.setattr(sweep_chunks, "train_chunk", interrupted_after_two_chunks)
    out = tmp_path / "stopped"
    argv = ["sweep", *TINY_FLAGS, "--epochs", "5", "--chunk-size", "3", "--out", str(out)]
    assert cli.main(argv) == 130
    err = capsys.readouterr().err
    assert "6 of 24 networks saved" in err
    assert f"scratchml sweep --resume --out {out}" in err
    assert "Traceback" not in err
    assert len(sweep.read_results(out / "results.csv")) == 6
    monkeypatch.setattr(sweep_chunks, "train_chunk", train_chunk)
    assert cli.main(["sweep", "--resume", "--out", str(out)]) == 0
    assert len(sweep.read_results(out / "results.csv")) == 24


@pytest.mark.slow
def test_the_dask_path_gives_the_same_rows_as_the_in_process_path(clean_run, tmp_path):
    pytest.importorskip("distributed")
    result = sweep.run(
        TINY, tmp_path, epochs=30, chunk_size=3, curve_every=4, dask="local:2", progress=False
    )
    assert result.n_trained == 24
    assert rows_without_seconds(result.results) == rows_without_seconds(clean_run.results)
    assert len(list((tmp_path / "models").glob("*.npz"))) == 8


@pytest.mark.slow
def test_a_running_scheduler_gets_the_chunks_and_is_left_running(clean_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        result = sweep.run(
            TINY, tmp_path, epochs=30, chunk_size=3, curve_every=4, dask=address, progress=False
        )
        assert rows_without_seconds(result.results) == rows_without_seconds(clean_run.results)
        assert f"Dask ({address})" in result.summary.read_text()
        with distributed.Client(address) as client:  # the sweep did not close the cluster
            assert len(client.scheduler_info()["workers"]) == 2


def test_dask_problems_are_reported_before_anything_is_written(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="local:N"):
        sweep.run(TINY, tmp_path / "a", epochs=2, dask="local:0", progress=False)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"scratchml\[distributed\]"):
        sweep.run(TINY, tmp_path / "b", epochs=2, dask="local:2", progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# --- clean failures on the command line -------------------------------------------------------


def _one_line_error(err: str) -> str:
    """The error line of a failed command: one line, then (for usage errors) the --help hint."""
    lines = [line for line in err.splitlines() if line != "see 'scratchml sweep --help'"]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_an_unreachable_scheduler_fails_in_one_line_before_any_file(tmp_path, monkeypatch, capsys):
    pytest.importorskip("distributed")
    monkeypatch.setattr(sweep_chunks, "DASK_CONNECT_SECONDS", 1.0)
    out = tmp_path / "never"
    argv = ["sweep", *TINY_FLAGS, "--epochs", "2", "--dask", "tcp://127.0.0.1:1", "--out", str(out)]
    assert cli.main(argv) == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in _one_line_error(
        capsys.readouterr().err
    )
    assert not out.exists()


def test_a_missing_config_and_an_unwritable_folder_fail_in_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["sweep", "--config", str(tmp_path / "nope.toml"), "--out", str(out)]) == 2
    assert "nope.toml does not exist" in _one_line_error(capsys.readouterr().err)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    argv = ["sweep", *TINY_FLAGS, "--epochs", "2", "--out", str(blocker / "out")]
    assert cli.main(argv) == 1
    assert f"cannot write the sweep's files in {blocker / 'out'}" in _one_line_error(
        capsys.readouterr().err
    )
    assert not out.exists() and blocker.read_text() == "not a folder"


@pytest.mark.parametrize(
    ("flag", "meant"), [("--seed", "--seeds"), ("--widht", "--width"), ("--epoch", "--epochs")]
)
def test_abbreviated_or_misspelt_flags_fail_in_one_line_naming_the_flag_meant(flag, meant, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["sweep", flag, "3", "--out", "never-written"])
    assert stop.value.code == 2
    first, hint = capsys.readouterr().err.strip().splitlines()
    assert first.startswith("scratchml sweep: error: unrecognized arguments: " + flag)
    assert f"(did you mean {meant}?)" in first
    assert hint == "see 'scratchml sweep --help'"
    assert not Path("never-written").exists()


def test_help_shows_the_grids_defaults(capsys):
    with pytest.raises(SystemExit):
        cli.main(["sweep", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 1 2 3)" in text and "(default: 0.95;" in text and "(default: 300)" in text


# --- pictures and the command line -------------------------------------------------------------


def test_heatmap_cells_are_per_configuration_means_over_seeds(clean_run):
    pandas = pytest.importorskip("pandas")
    frame = pandas.read_csv(clean_run.results)
    for split, fig in (
        ("validation", sweep_heatmap(sweep.read_rows(clean_run.results))),
        ("test", sweep_heatmap(sweep.read_rows(clean_run.results), split="test")),
        # the older name of the mean test score
        ("test", sweep_heatmap(sweep.read_rows(clean_run.results), value="test_accuracy")),
    ):
        panels = [ax for ax in fig.axes if ax.images]
        assert len(panels) == 2  # one per learning rate, never averaged together
        for ax, rate in zip(panels, (0.01, 0.05), strict=True):
            selected = frame[frame.learning_rate == rate]
            expected = selected.groupby(["depth", "width"])[f"{split}_accuracy"].mean().unstack()
            cells = np.ma.getdata(ax.images[0].get_array())
            np.testing.assert_allclose(cells, expected, rtol=1e-12)
            assert ax.get_title().startswith(f"lr {rate:g}")
        assert f"Mean {split} accuracy" in fig._suptitle.get_text()
    assert "fixed: arms 2, turns 0.5" in fig._suptitle.get_text()


def test_a_filtered_selection_says_what_it_holds_fixed(clean_run):
    pytest.importorskip("pandas")
    rows = sweep.load(clean_run.out).rows
    picked = rows[(rows.learning_rate == 0.05) & (rows.depth == 2)]
    fig = sweep_heatmap(picked, value="success_rate", selection="depth 2 only")
    title = fig._suptitle.get_text()
    assert "lr 0.05" in title and "selection: depth 2 only" in title
    assert title.startswith("Success rate")
    with pytest.raises(ValueError, match="vary in learning_rate"):
        sweep_heatmap(rows, by=[])
    with pytest.raises(ValueError, match="no rows"):
        sweep_heatmap([])


@pytest.mark.slow
def test_cli_end_to_end_with_a_config_file_and_flags_that_override_it(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text(
        "n_samples = 200\nturns = 0.5\ndepth = [1, 2]\nwidth = [2, 16]\nseeds = 4\n"
        'learning_rate = [0.05]\nepochs = 7\nactivation = ["tanh"]\narms = [2, 3]\n'
    )
    out = tmp_path / "sweep"
    argv = ["sweep", "--config", str(config), "--epochs", "150", "--activation", "tanh", "relu"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    rows = sweep.read_results(out / "results.csv")
    assert len(rows) == 2 * 2 * 2 * 2 * 4
    assert {r["epochs"] for r in rows} == {"150"}  # the flag overrides the file
    assert {r["activation"] for r in rows} == {"tanh", "relu"}

    # Half-turn spirals are easy: the 2×16 networks separate them, the 1×2 ones cannot.
    def mean_test(depth, width):
        picked = [r for r in rows if r["depth"] == str(depth) and r["width"] == str(width)]
        return np.mean([float(r["test_accuracy"]) for r in picked])

    assert mean_test(2, 16) > 0.9
    assert mean_test(2, 16) > mean_test(1, 2)
    # The arms vary: one picture per number of arms, panels per activation; a summary
    # section per data setting.
    assert (out / "heatmap-arms2.png").stat().st_size > 10_000
    assert (out / "success-arms3.png").exists() and not (out / "heatmap.png").exists()
    summary = (out / "summary.md").read_text()
    assert "## 2 arms, 0.5 turns" in summary and "## 3 arms, 0.5 turns" in summary
    assert "configurations are reliable" in summary

    assert cli.main(["sweep", "--width", "0", "--out", str(tmp_path / "bad")]) == 2
    assert "'width'" in capsys.readouterr().err
    assert cli.main([*argv, "--out", str(out)]) == 2  # results.csv exists, no --resume
    assert "--resume" in capsys.readouterr().err
    # A new threshold and panels: --resume retrains nothing and redraws the report.
    assert cli.main(["sweep", "--resume", "--out", str(out), "--threshold", "0.9", "--by",
                     "arms", "activation"]) == 0  # fmt: skip
    assert (out / "heatmap.png").exists() and not (out / "heatmap-arms2.png").exists()
    assert (
        "validation accuracy ≥ 0.9; a configuration is **reliable** when every one of its 4 seeds"
        in (out / "summary.md").read_text()
    )
    # The report settings are stored: a plain --resume keeps them.
    assert cli.main(["sweep", "--resume", "--out", str(out)]) == 0
    assert "validation accuracy ≥ 0.9;" in (out / "summary.md").read_text()
    assert (out / "heatmap.png").exists()


def test_a_results_file_without_the_optimizer_settings_column_is_read_and_upgraded(tmp_path):
    # results.csv as an earlier release wrote it (no optimizer_settings column): its rows
    # read with "" there, and a resume rewrites the file in today's form, losing nothing.
    out = tmp_path / "out"
    sweep.run(TINY, out, epochs=2, progress=False)
    path = out / "results.csv"
    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    old_columns = [c for c in rows[0] if c != "optimizer_settings"]
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, old_columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    from scratchml.sweep.files import read_results

    assert [r["optimizer_settings"] for r in read_results(path)] == [""] * len(rows)
    sweep.run(out=out, resume=True, progress=False)
    with open(path, encoding="utf-8", newline="") as file:
        again = list(csv.DictReader(file))
    assert "optimizer_settings" in again[0]
    assert [r["final_loss"] for r in again] == [r["final_loss"] for r in rows]
