"""Sweeps: grid expansion and validation, chunking, crash-safe resumable results, Dask, CLI."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from scratchml import backends, cli, sweep
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
    assert networks[0]._replace(seed=0) == networks[0]
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
        ("activation", ["tanh", "swish"], "'activation'.*swish.*relu"),
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
    [({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch_size"), ({"backend": "jax"}, "backend")],
)
def test_bad_settings_fail_before_training(tmp_path, settings, message):
    with pytest.raises(ValueError, match=message):
        sweep.run(TINY, tmp_path / "out", progress=False, **{"epochs": 2, **settings})
    assert not (tmp_path / "out").exists()


def test_toml_config_is_read_and_unknown_keys_are_named(tmp_path):
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


# --- chunks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 4, 5, 12, 100])
def test_chunks_hold_one_data_set_and_architecture_and_cover_the_grid(chunk_size):
    networks = sweep.expand({**TINY, "arms": [2, 3]})
    chunks = sweep.make_chunks(networks, chunk_size)
    assert [n for chunk in chunks for n in chunk.networks] == networks
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert 1 <= len(chunk.networks) <= chunk_size
        assert len({sweep._stack_key(n) for n in chunk.networks}) == 1
    # 8 stack keys (2 arms × 2 depths × 2 widths), each a group of 2 learning rates × 3 seeds,
    # cut into ⌈6 / chunk_size⌉ nearly equal chunks.
    group = 2 * 3
    pieces = -(-group // chunk_size)
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
    work = roomy * settings.epochs * sweep.network_epoch_flops(widest)
    assert (
        work
        <= sweep.CHUNK_FLOPS["cpu"]
        < work + settings.epochs * sweep.network_epoch_flops(widest)
    )
    with pytest.raises(ValueError, match="chunk_size"):
        sweep.make_chunks(networks, 0)


def test_out_of_memory_halves_the_chunk(monkeypatch):
    fit_stack = sweep._fit_stack
    sizes = []

    def fit_or_run_out(networks, settings):
        sizes.append(len(networks))
        if len(networks) > 2:
            raise MemoryError("no room for the stack")
        return fit_stack(networks, settings)

    monkeypatch.setattr(sweep, "_fit_stack", fit_or_run_out)
    settings = sweep.check_settings(epochs=3)
    chunk = sweep.make_chunks(sweep.expand({**TINY, "depth": 1, "width": 2}), 6)[0]
    result = sweep.train_chunk(chunk, settings)
    assert sizes == [6, 3, 1, 2, 3, 1, 2]
    assert result.splits == 3  # 6 → 3 + 3, and each 3 → 1 + 2
    assert [sweep._row_key(row) for row in result.rows] == [
        sweep._row_key(sweep._network_row(n, settings)) for n in chunk.networks
    ]
    # Other errors are not swallowed.
    monkeypatch.setattr(sweep, "_fit_stack", lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        sweep.train_chunk(chunk, settings)


def test_progress_reports_networks_rate_and_eta_in_plain_lines():
    stream = io.StringIO()  # not a terminal: plain lines, at most one a second, and the last
    bar = sweep.SweepProgress(total=10, done=2, enabled=True, stream=stream)
    bar.update(4, network_epochs=400, work=1e6, work_left=1e6)
    bar.update(4, network_epochs=400, work=1e6, work_left=0.0)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert "6/10 networks" in lines[0] and "network-epochs/s" in lines[0] and "ETA" in lines[0]
    assert "10/10 networks" in lines[1] and "\r" not in stream.getvalue()
    # 10 s in, with a quarter of the work done: 30 s to go; 800 network-epochs in 10 s.
    bar.work_left = 3 * bar.work_done
    assert "ETA 30.0s" in bar.line(bar.start + 10.0)
    assert "80 network-epochs/s" in bar.line(bar.start + 10.0)
    silent = io.StringIO()
    sweep.SweepProgress(total=1, done=0, enabled=False, stream=silent).update(1, 10, 1e3, 0.0)
    assert silent.getvalue() == ""


def test_gpu_out_of_memory_errors_are_recognised():
    assert backends.is_out_of_memory(MemoryError())
    assert not backends.is_out_of_memory(ValueError("out of memory"))
    if backends.why_unavailable("torch") == "":
        import torch

        assert backends.is_out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory"))


# --- results: one run, resumed runs, torn files -----------------------------------------------


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """The tiny grid, run once without interruption, in chunks of 3."""
    out = tmp_path_factory.mktemp("clean")
    result = sweep.run(TINY, out, epochs=30, chunk_size=3, progress=False)
    return result


def test_a_run_writes_one_row_per_network_and_the_pictures(clean_run):
    rows = sweep.read_results(clean_run.results)
    assert len(rows) == clean_run.n_networks == clean_run.n_trained == 24
    assert list(rows[0]) == list(sweep.COLUMNS)
    # In grid order, one row per network.
    expected = [sweep._network_row(n, sweep.check_settings(epochs=30)) for n in sweep.expand(TINY)]
    assert [sweep._row_key(r) for r in rows] == [sweep._row_key(r) for r in expected]
    for row in rows:
        assert 0.0 <= float(row["train_accuracy"]) <= 1.0
        assert 0.0 <= float(row["test_accuracy"]) <= 1.0
        assert row["diverged"] in ("True", "False")
        assert float(row["seconds"]) > 0
        assert row["epochs"] == "30" and row["batch_size"] == ""
    assert clean_run.heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = clean_run.summary.read_text()
    for part in ("## Grid", "## Best configurations", "network-epochs/s", "## Device"):
        assert part in summary


def test_existing_results_are_never_overwritten(clean_run):
    before = clean_run.results.read_bytes()
    with pytest.raises(FileExistsError, match="--resume"):
        sweep.run(TINY, clean_run.out, epochs=30, chunk_size=3, progress=False)
    with pytest.raises(ValueError, match="epochs=30"):
        sweep.run(TINY, clean_run.out, epochs=31, resume=True, progress=False)
    assert clean_run.results.read_bytes() == before


def test_resume_after_a_torn_write_equals_the_clean_run(clean_run, tmp_path):
    # A crash after 2½ chunks: 7 complete rows, and half of the 8th with no newline.
    lines = clean_run.results.read_text().splitlines(keepends=True)
    torn = tmp_path / "results.csv"
    torn.write_text("".join(lines[:8]) + lines[8][:25])
    (tmp_path / "sweep.json").write_bytes((clean_run.out / "sweep.json").read_bytes())
    assert len(sweep.read_results(torn)) == 7  # the torn line is not a row

    result = sweep.run(TINY, tmp_path, epochs=30, resume=True, progress=False)
    assert result.n_trained == 24 - 6  # chunks 1 and 2 were complete; chunk 3 is trained again
    assert rows_without_seconds(torn) == rows_without_seconds(clean_run.results)
    # Resuming a finished sweep trains nothing and changes no row.
    again = sweep.run(TINY, tmp_path, epochs=30, resume=True, progress=False)
    assert again.n_trained == 0
    assert rows_without_seconds(torn) == rows_without_seconds(clean_run.results)


def test_a_sweep_killed_mid_way_and_resumed_equals_an_uninterrupted_one(tmp_path):
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "scratchml", "sweep", "--out", str(out), "--chunk-size", "3"]
    command += ["--n-samples", "60", "--turns", "0.5", "--depth", "1", "2", "--width", "2", "4"]
    command += ["--learning-rate", "0.01", "0.05", "--seeds", "3", "--epochs", "150"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    results = out / "results.csv"
    deadline = time.monotonic() + 120
    # Kill -9 as soon as the first chunk's rows are on disk.
    while time.monotonic() < deadline and process.poll() is None:
        if results.exists() and results.read_bytes().count(b"\n") >= 2:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()
    kept = sweep.read_results(results)
    assert 3 <= len(kept) < 24, f"{len(kept)} rows kept"  # killed mid-way, first chunk kept

    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    clean = sweep.run(TINY, tmp_path / "clean", epochs=150, chunk_size=3, progress=False)
    assert rows_without_seconds(results) == rows_without_seconds(clean.results)


def test_the_dask_path_gives_the_same_rows_as_the_in_process_path(clean_run, tmp_path):
    pytest.importorskip("distributed")
    result = sweep.run(TINY, tmp_path, epochs=30, chunk_size=3, dask="local:2", progress=False)
    assert result.n_trained == 24
    assert rows_without_seconds(result.results) == rows_without_seconds(clean_run.results)


def test_a_running_scheduler_gets_the_chunks_and_is_left_running(clean_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        result = sweep.run(TINY, tmp_path, epochs=30, chunk_size=3, dask=address, progress=False)
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


# --- pictures and the command line -------------------------------------------------------------


def test_heatmap_cells_are_mean_test_accuracy_over_seeds_and_other_keys(clean_run):
    pandas = pytest.importorskip("pandas")
    frame = pandas.read_csv(clean_run.results)
    expected = frame.groupby(["depth", "width"])["test_accuracy"].mean().unstack().to_numpy()
    fig = sweep_heatmap(clean_run.results)
    panel = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(np.ma.getdata(panel), expected, rtol=1e-12)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2", "4"]


def test_heatmap_has_a_panel_per_activation_and_arms():
    rows = [
        {"activation": act, "arms": arms, "depth": d, "width": w, "test_accuracy": 0.5 + 0.1 * d}
        for act in ("relu", "tanh")
        for arms in (2, 3, 4)
        for d in (1, 2)
        for w in (2, 8)
    ]
    fig = sweep_heatmap(rows)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 6
    assert panels[0].get_title().startswith("relu, 2 arms")
    with pytest.raises(ValueError, match="no rows"):
        sweep_heatmap([])


def test_cli_end_to_end_with_a_config_file_and_flags_that_override_it(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text(
        "n_samples = 200\nturns = 0.5\ndepth = [1, 2]\nwidth = [2, 16]\nseeds = 4\n"
        'learning_rate = [0.05]\nepochs = 7\nactivation = ["tanh"]\n'
    )
    out = tmp_path / "sweep"
    argv = ["sweep", "--config", str(config), "--epochs", "150", "--activation", "tanh", "relu"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    rows = sweep.read_results(out / "results.csv")
    assert len(rows) == 2 * 2 * 2 * 4
    assert {r["epochs"] for r in rows} == {"150"}  # the flag overrides the file
    assert {r["activation"] for r in rows} == {"tanh", "relu"}

    # Half-turn spirals are easy: the 2×16 networks separate them, the 1×2 ones cannot.
    def mean_test(depth, width):
        picked = [r for r in rows if r["depth"] == str(depth) and r["width"] == str(width)]
        return np.mean([float(r["test_accuracy"]) for r in picked])

    assert mean_test(2, 16) > 0.9
    assert mean_test(2, 16) > mean_test(1, 2)
    assert (out / "heatmap.png").stat().st_size > 10_000
    summary = (out / "summary.md").read_text()
    assert "| depth | 1, 2 |" in summary and "32 in results.csv" in summary

    assert cli.main(["sweep", "--width", "0", "--out", str(tmp_path / "bad")]) == 2
    assert "'width'" in capsys.readouterr().err
    assert cli.main([*argv, "--out", str(out)]) == 2  # results.csv exists, no --resume
    assert "--resume" in capsys.readouterr().err
