"""Every demo runs at its reduced size; the pictures exist; backends agree; the CLI works."""

import itertools
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import scratchml as sm
from scratchml.cli import main
from scratchml.demos import DEMOS
from scratchml.demos.spirals import SMALL, count_loss_spikes, fit_candidates

EXPECTED_GIF_FRAMES = {
    # holds + 3 stages (linear map, shift, tanh) × 2 frames × 3 hidden layers + holds
    "two_spirals.gif": 2 + 3 * 2 * 3 + 2,
    "three_spirals.gif": 2 + 3 * 2 * 4 + 2,  # four hidden layers
    "linear_regression.gif": 12 // 2 + 1,  # snapshots at epochs 0, 2, …, 12
    "unit_norms.gif": 8,
}


def _png_is_not_blank(path):
    pixels = np.asarray(Image.open(path).convert("L"), dtype=float)
    return pixels.std() > 10


def _assert_animation(path, expected_frames):
    with Image.open(path) as image:
        frames = []
        for k in range(image.n_frames):
            image.seek(k)
            frames.append(np.asarray(image.convert("RGB"), dtype=np.int16))
    assert len(frames) == expected_frames
    for a, b in itertools.pairwise(frames):
        assert np.abs(a - b).sum() > 0, "consecutive frames must differ"


def test_every_demo_of_the_collection_is_registered():
    assert set(DEMOS) == {
        "network_graph",
        "two_spirals",
        "three_spirals",
        "linear_regression",
        "logistic_classification",
        "unit_norms",
    }


def test_each_demo_has_one_home():
    """A demo's code is its module of scratchml.demos, and nowhere else: demos/ holds the
    committed pictures and the sweep's configuration (``scratchml demo NAME`` runs a demo),
    and each gallery script calls its demo instead of repeating it."""
    root = Path(__file__).resolve().parents[1]
    assert not list((root / "demos").glob("*.py"))
    scripts = sorted((root / "examples" / "demos").glob("demo_*.py"))
    called = set()
    for script in scripts:
        text = script.read_text()
        assert "from scratchml import demos" in text, script.name
        calls = set(re.findall(r"\bdemos\.(\w+)\(", text))
        assert calls and calls <= set(DEMOS), script.name
        called |= calls
    assert called == set(DEMOS), "every demo has a gallery script"


# Demos that take seconds even at their reduced size run only in the full suite.
SLOW_DEMOS = {"two_spirals", "three_spirals", "linear_regression"}


def _demo_params(names):
    return [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW_DEMOS else []) for n in names]


@pytest.mark.parametrize("name", _demo_params(DEMOS))
def test_demo_writes_its_pictures(name, tmp_path):
    result = DEMOS[name](out=tmp_path, size="small", progress=False)
    assert result.name == name and result.files
    for path in result.files:
        assert path.exists() and path.parent == tmp_path
        if path.suffix == ".gif":
            _assert_animation(path, EXPECTED_GIF_FRAMES[path.name])
        else:
            assert path.suffix == ".png" and _png_is_not_blank(path)
            assert Image.open(path).size[0] >= 400
    for value in result.metrics.values():
        assert np.isfinite(value)


@pytest.mark.parametrize("name", _demo_params([n for n in DEMOS if n != "unit_norms"]))
def test_strict_arrays_give_the_same_pictures_data(name, tmp_path):
    numpy_run = DEMOS[name](backend="numpy", out=tmp_path / "np", size="small", progress=False)
    strict_run = DEMOS[name](
        backend="array_api_strict", out=tmp_path / "st", size="small", progress=False
    )
    assert sm.backends.backend_name(strict_run.model.params_[0][0]) == "array_api_strict"
    # The spiral demos take hundreds of float32 Adam steps: NumPy's fast kernels and the
    # plain xp math round differently, and the difference grows with the steps.
    rtol = 2e-3 if "spirals" in name else 1e-5
    for (W, b), (sW, sb) in zip(numpy_run.model.params_, strict_run.model.params_, strict=True):
        np.testing.assert_allclose(sm.backends.to_numpy(sW), W, rtol=rtol, atol=rtol / 10)
        np.testing.assert_allclose(sm.backends.to_numpy(sb), b, rtol=rtol, atol=rtol / 10)
    # The fitted objective agrees; the number of iterations may not (a solver that stops at
    # a tolerance, like Newton's, can take one step more where another BLAS rounds
    # differently), so the histories are compared by their last value, not their length.
    assert strict_run.model.loss_history_[-1] == pytest.approx(
        numpy_run.model.loss_history_[-1], rel=rtol
    )
    assert strict_run.metrics.keys() == numpy_run.metrics.keys()
    for key, value in numpy_run.metrics.items():
        near = 1 if key == "loss_spikes" else 1e-6  # a spike on the line may count or not
        assert strict_run.metrics[key] == pytest.approx(value, rel=max(rtol, 1e-4), abs=near)


@pytest.mark.parametrize("arms", [2, 3])
def test_spiral_candidates_keep_the_lowest_loss_as_a_fitted_classifier(arms, tmp_path):
    config = SMALL[arms]
    X, y = sm.data.spirals(config.n_samples, arms=arms, turns=config.turns, seed=3)
    fitted = fit_candidates(X, y, config, seed=3, progress=False)
    model = fitted.model
    assert fitted.loss_histories.shape == (config.epochs, config.candidates)
    assert fitted.accuracies.shape == (config.candidates,)
    # Every hidden layer is 2 wide; the output is one logit (2 arms) or one per arm.
    shapes = [tuple(W.shape) for W, _ in model.params_]
    assert shapes == [(2, 2)] * config.depth + [(2, 1 if arms == 2 else arms)]
    assert model.loss_history_ == pytest.approx(fitted.loss_histories[:, fitted.best].tolist())
    # The kept network has the stack's lowest final objective, and scores as reported.
    assert fitted.best == int(np.argmin(fitted.final_losses))
    assert model.loss(X, y) == pytest.approx(float(fitted.final_losses.min()), rel=1e-5)
    assert model.score(X, y) == pytest.approx(fitted.accuracies[fitted.best])
    np.testing.assert_array_equal(sm.backends.to_numpy(model.classes_), np.arange(arms))
    # A fitted estimator like any other: it saves and loads.
    again = sm.load(model.save(tmp_path / "spirals.npz"))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


@pytest.mark.slow
@pytest.mark.parametrize("arms", [2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_small_spiral_demos_are_trained(arms, seed, tmp_path):
    """The fast version draws a trained network, not a half-trained one."""
    run = DEMOS["two_spirals" if arms == 2 else "three_spirals"]
    result = run(out=tmp_path, size="small", seed=seed, progress=False)
    assert result.metrics["training_accuracy"] >= 0.9
    config = SMALL[arms]
    X, y = sm.data.spirals(
        config.n_samples, arms=arms, turns=config.turns, noise=config.noise, seed=seed
    )
    assert result.model.score(X, y) == result.metrics["training_accuracy"]


def _fitted_alone(config, X, y, seed):
    """One spiral candidate fitted alone, as fit_candidates fits each of its stack."""
    return sm.MLPClassifier(
        hidden_layers=(2,) * config.depth,
        activation="tanh",
        learning_rate=config.learning_rate,
        l2=config.l2,
        epochs=config.epochs,
        batch_size=config.batch_size,
        init="orthogonal",
        seed=seed,
        tol=None,
    ).fit(X, y)


def test_the_kept_candidate_is_the_network_fitted_alone():
    """Candidate i of the stack is MLPClassifier fitted alone with seed candidates·seed + i."""
    config, seed = SMALL[2], 1
    X, y = sm.data.spirals(config.n_samples, arms=2, turns=config.turns, seed=seed)
    fitted = fit_candidates(X, y, config, seed=seed, progress=False)
    alone = _fitted_alone(config, X, y, seed=config.candidates * seed + fitted.best)
    for (W, b), (aW, ab) in zip(fitted.model.params_, alone.params_, strict=True):
        np.testing.assert_allclose(W, aW, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(b, ab, rtol=1e-4, atol=1e-5)


def test_loss_spikes_count_each_excursion_above_twice_the_best_once():
    losses = [1.0, 0.5, 0.4, 0.9, 0.95, 0.3, 0.31, 0.7, 0.2, 0.2]
    assert count_loss_spikes(losses) == 2  # 0.9 (> 0.8, lasting two epochs) and 0.7 (> 0.6)
    assert count_loss_spikes(losses, factor=3.0) == 0
    assert count_loss_spikes([0.5]) == 0


@pytest.mark.slow
def test_spiral_candidates_are_independent_networks():
    """Training M networks as one stack gives each what training it alone would."""
    config, seed = SMALL[2], 5
    X, y = sm.data.spirals(config.n_samples, arms=2, turns=config.turns, seed=seed)
    fitted = fit_candidates(X, y, config, seed=seed, progress=False)
    for i in range(config.candidates):
        alone = _fitted_alone(config, X, y, seed=config.candidates * seed + i)
        np.testing.assert_allclose(
            fitted.loss_histories[:, i], alone.loss_history_, rtol=1e-4, atol=1e-6
        )
        assert fitted.accuracies[i] == pytest.approx(alone.score(X, y), abs=1 / len(y))


def test_cli_runs_a_demo_and_says_what_it_wrote(tmp_path, capsys):
    assert main(["demo", "unit_norms", "--out", str(tmp_path), "--small"]) == 0
    printed = capsys.readouterr().out
    assert "unit_norms.gif" in printed and str(tmp_path) in printed
    assert (tmp_path / "unit_norms.gif").exists()


@pytest.mark.slow
def test_cli_prints_the_spiral_accuracy(tmp_path, capsys):
    assert main(["demo", "two_spirals", "--out", str(tmp_path), "--small", "--seed", "1"]) == 0
    printed = capsys.readouterr().out
    assert "two_spirals.gif" in printed and "training accuracy" in printed
    assert (tmp_path / "two_spirals_boundary.png").exists()


def test_cli_unknown_demo_lists_the_valid_ones(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "four_spirals"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown demo 'four_spirals'" in err
    assert all(name in err for name in DEMOS)


def test_cli_unknown_backend_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "unit_norms", "--backend", "mxnet"])
    assert exit_info.value.code == 2
    assert "numpy" in capsys.readouterr().err


def test_cli_unusable_backend_says_why(monkeypatch, capsys):
    monkeypatch.setattr(
        sm.backends, "why_unavailable", lambda name: "no GPU here" if name == "cupy" else ""
    )
    with pytest.raises(SystemExit):
        main(["demo", "unit_norms", "--backend", "cupy", "--small"])
    assert "backend 'cupy' is not usable here: no GPU here" in capsys.readouterr().err


def test_cli_lists_backends(capsys):
    assert main(["backends"]) == 0
    printed = capsys.readouterr().out
    assert "numpy" in printed and "array_api_strict" in printed


@pytest.mark.slow
def test_python_dash_m_runs_the_cli(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "scratchml", "demo", "unit_norms", "--small", "--out", tmp_path],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "unit_norms.gif" in done.stdout


def test_cli_without_out_writes_to_a_scratch_folder(tmp_path, monkeypatch, capsys):
    """A quick run never overwrites the committed pictures in demos/results/."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "unit_norms", "--small"]) == 0
    assert (tmp_path / "scratchml-demos" / "unit_norms.gif").exists()
    assert not (tmp_path / "demos").exists()
    assert "scratchml-demos" in capsys.readouterr().out


def test_demo_rejects_unknown_size(tmp_path):
    with pytest.raises(ValueError, match="size must be one of"):
        DEMOS["unit_norms"](out=tmp_path, size="huge")
