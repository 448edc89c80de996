"""How a sweep writes its files: the cells of results.csv, the sorted rewrite, the writer."""

from __future__ import annotations

import fractions
import io
import os
import signal
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import scratchml as sm
from scratchml import _files, sweep
from scratchml.estimators import saving
from scratchml.sweep import chunks, files, runner
from scratchml.sweep.files import row_key


def test_cells_are_the_same_text_for_python_numpy_and_other_numbers():
    cells = [
        (None, ""),
        ("tanh", "tanh"),
        (np.str_("tanh"), "tanh"),
        (True, "True"),
        (np.bool_(False), "False"),
        (3, "3"),
        (np.int64(3), "3"),
        (0.1, "0.1"),
        (np.float64(0.1), "0.1"),
        (np.float32(0.1), repr(float(np.float32(0.1)))),
        (fractions.Fraction(1, 4), "0.25"),  # a Real that is no float
        (float("nan"), "nan"),
        (1e-300, "1e-300"),
    ]
    for value, text in cells:
        assert files.format_cell(value) == text, value
    assert float(files.format_cell(np.float64(0.1) / 3)) == np.float64(0.1) / 3  # exact


def test_a_row_is_the_network_then_the_settings_then_the_metrics_as_text():
    settings = sweep.check_settings(epochs=7)
    network = sweep.expand({"depth": 1, "width": 2, "seeds": 1})[0]
    row = files.network_row(network, settings, final_loss=np.float64(0.5), diverged=np.bool_(True))
    assert list(row) == [*files.KEY_COLUMNS, "final_loss", "diverged"]
    assert all(type(cell) is str for cell in row.values())
    assert row["epochs"] == "7" and row["batch_size"] == "" and row["final_loss"] == "0.5"
    assert row["diverged"] == "True" and row["momentum"] == ""
    assert files.row_key(row) == tuple(row[column] for column in files.KEY_COLUMNS)


def test_write_sorted_leaves_a_file_in_order_alone_and_sorts_one_that_is_not(tmp_path):
    settings = sweep.check_settings(epochs=7)
    networks = sweep.expand({"depth": 1, "width": 2, "seeds": 3})
    rows = [files.network_row(n, settings, final_loss=i) for i, n in enumerate(networks)]
    order = [files.row_key(row) for row in rows]
    path = tmp_path / "results.csv"
    path.write_text(files.rows_text(rows, header=True), encoding="utf-8")
    before = os.stat(path).st_ino
    files.write_sorted(path, files.read_results(path), order)
    assert os.stat(path).st_ino == before  # not replaced: it was in order
    path.write_text(files.rows_text(rows[::-1], header=True), encoding="utf-8")
    files.write_sorted(path, files.read_results(path), order)
    assert path.read_text(encoding="utf-8") == files.rows_text(rows, header=True)


def test_a_model_file_made_in_memory_holds_what_save_writes(tmp_path):
    X, y = sm.data.spirals(60, seed=0)
    stack = sm.stacks.StackedMLPClassifier(n_networks=2, hidden_layers=(3,), epochs=3).fit(X, y)
    model = stack.model(1)
    content = saving.to_bytes(model)
    saved = model.save(tmp_path / "model.npz")
    with zipfile.ZipFile(io.BytesIO(content)) as made, zipfile.ZipFile(saved) as written:
        assert made.namelist() == written.namelist()
        for name in made.namelist():  # the members, not the zip's timestamps
            assert made.read(name) == written.read(name), name
    (tmp_path / "again.npz").write_bytes(content)
    loaded = sm.load(tmp_path / "again.npz")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    with pytest.raises(sm.NotFittedError):
        saving.to_bytes(sm.MLPClassifier())
    with pytest.raises(TypeError, match="scratchml estimator"):
        saving.to_bytes(object())


TINY = {"n_samples": 40, "turns": 0.5, "depth": 1, "width": [2, 3], "seeds": 3}


def test_a_failed_write_stops_the_sweep_with_its_error_and_keeps_what_was_written(
    tmp_path, monkeypatch
):
    # Chunks are written in a thread while the next one trains: an error there is the
    # sweep's error, and nothing after the failed chunk is written.
    write_curves = runner.write_curves
    calls = []

    def disk_full_on_the_second_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return write_curves(*args)

    monkeypatch.setattr(runner, "write_curves", disk_full_on_the_second_chunk)
    out = tmp_path / "full"
    with pytest.raises(OSError, match="No space left"):
        sweep.run(TINY, out, epochs=3, chunk_size=3, summary=False, progress=False)
    assert len(sweep.read_results(out / "results.csv")) == 3
    assert len(calls) == 2
    monkeypatch.setattr(runner, "write_curves", write_curves)
    resumed = sweep.run(TINY, out, epochs=3, resume=True, summary=False, progress=False)
    assert resumed.n_trained == 3
    clean = sweep.run(
        TINY, tmp_path / "clean", epochs=3, chunk_size=3, summary=False, progress=False
    )
    assert [row_key(row) for row in sweep.read_results(resumed.results)] == [
        row_key(row) for row in sweep.read_results(clean.results)
    ]


def test_the_progress_line_counts_rows_that_are_on_disk(tmp_path):
    stream = io.StringIO()
    out = tmp_path / "counted"
    seen = []

    class Recording(io.StringIO):
        def write(self, text):
            done = text.split(" networks")[0].rsplit(" ", 1)[-1].split("/")[0]
            if done.isdigit():
                seen.append((int(done), len(sweep.read_results(out / "results.csv"))))
            return stream.write(text)

    sweep.run(TINY, out, epochs=3, chunk_size=3, summary=False, stream=Recording())
    assert [count for count, _ in seen] == [0, 3, 6]
    assert all(count <= on_disk for count, on_disk in seen)


def test_each_data_set_is_drawn_once_per_sweep_and_not_kept_after_it(tmp_path, monkeypatch):
    network_data = chunks.network_data
    drawn = []

    def counted(network, settings, user=None):
        drawn.append(network.noise)
        return network_data(network, settings, user)

    monkeypatch.setattr(chunks, "network_data", counted)
    grid = {**TINY, "noise": [0.05, 0.1], "depth": [1, 2]}  # 2 data sets × 4 architectures
    result = sweep.run(grid, tmp_path, epochs=2, summary=False, progress=False)
    assert len({row["stack"] for row in sweep.read_results(result.results)}) == 8
    assert drawn == [0.05, 0.1]
    assert not chunks._recent
    # The rows are those of stacks that each draw their own data.
    monkeypatch.setattr(chunks, "_stack_data", counted)
    again = sweep.run(grid, tmp_path / "again", epochs=2, summary=False, progress=False)
    assert len(drawn) == 2 + 8
    assert _without_seconds(again.results) == _without_seconds(result.results)


def _without_seconds(results):
    return [{**row, "seconds": ""} for row in sweep.read_results(results)]


def test_a_staged_file_is_in_place_only_once_it_is_synced(tmp_path):
    path = tmp_path / "sweep.json"
    path.write_text("old")
    put_in_place = _files.stage(path, "new")
    assert path.read_text() == "old" and (tmp_path / "sweep.json.partial").read_text() == "new"
    put_in_place()
    assert path.read_text() == "new" and not (tmp_path / "sweep.json.partial").exists()
    with pytest.raises(OSError):
        _files.stage(tmp_path / "no-folder" / "file", b"bytes")


def test_the_sweeps_own_files_go_to_disk_before_any_row_and_fail_as_unwritable(
    tmp_path, monkeypatch
):
    # sweep.json and the header are written before training and synced by the writer,
    # first: a failure there is the sweep's files' failure, and no row follows it.
    def failing_sync(path, text):
        Path(f"{path}.partial").write_text(text)  # written, never synced nor in place

        def put_in_place():
            raise OSError(5, "Input/output error")

        return put_in_place

    monkeypatch.setattr(runner, "stage", failing_sync)
    out = tmp_path / "failing"
    with pytest.raises(OSError, match=f"cannot write the sweep's files in {out}: Input/output"):
        sweep.run(TINY, out, epochs=2, chunk_size=3, summary=False, progress=False)
    assert not (out / "results.csv").exists()


def test_a_chunks_files_are_all_in_place_before_its_rows_are_appended(tmp_path, monkeypatch):
    append_rows = runner.append_rows
    out = tmp_path / "ordered"
    checked = []

    def append_after_checking(path, rows):
        curves = files.read_curves(out)
        for row in rows:
            assert (out / "stacks" / f"{row['stack']}.csv").exists()
            assert row_key(row) in curves
        assert not list(out.glob("*/*.partial"))
        models = {p.name for p in (out / "models").glob("*.npz")}
        assert {files.model_file_name(row) for row in rows} & models  # each chunk's best
        checked.append(len(rows))
        append_rows(path, rows)

    monkeypatch.setattr(runner, "append_rows", append_after_checking)
    sweep.run({**TINY, "learning_rate": [0.01, 0.05]}, out, epochs=2, chunk_size=4, progress=False)
    assert checked == [3, 3, 3, 3]  # 6 networks per width, in halves


def test_concurrent_writes_all_run_and_the_first_error_is_raised():
    ran = []

    def fails():
        ran.append("fails")
        raise OSError(28, "No space left on device")

    writes = [lambda i=i: ran.append(i) for i in range(12)]
    runner._all_done(writes)
    assert sorted(ran) == list(range(12))
    ran.clear()
    with pytest.raises(OSError, match="No space"):
        runner._all_done([*writes[:3], fails, *writes[3:]])
    assert len(ran) == 13


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX interval timers")
def test_a_ctrl_c_while_the_writer_finishes_does_not_stop_it(monkeypatch):
    def ctrl_c(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, ctrl_c)
    written = []
    try:
        writer = runner._Writer()
        # The job outlasts the Ctrl-C by far, so that it comes while finish waits even when a
        # busy machine is slow to get from here into finish.
        writer.submit(lambda: (time.sleep(1.0), written.append("rows")))
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        writer.finish()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert written == ["rows"] and writer.done.is_set()
