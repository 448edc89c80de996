"""Pictures: files exist, GIFs have the frames asked for and they differ, PNGs are not blank."""

import itertools

import numpy as np
import pytest
from PIL import Image

import scratchml as sm
from scratchml import viz

from .conftest import on


def _png_is_not_blank(path):
    pixels = np.asarray(Image.open(path).convert("L"), dtype=float)
    return pixels.std() > 10


def _gif_frames(path):
    with Image.open(path) as image:
        frames = []
        for k in range(image.n_frames):
            image.seek(k)
            frames.append(np.asarray(image.convert("RGB"), dtype=np.int16))
    return frames


def _assert_animation(path, expected_frames):
    frames = _gif_frames(path)
    assert len(frames) == expected_frames
    for a, b in itertools.pairwise(frames):
        assert np.abs(a - b).sum() > 0, "consecutive frames must differ"


@pytest.mark.parametrize("n_classes", [2, 3])
def test_decision_boundary_on_any_backend(backend, tmp_path, n_classes):
    X, y = sm.data.blobs(60, centers=n_classes, seed=0, backend=backend)
    model = sm.LogisticRegression(epochs=50).fit(X, y)
    path = viz.save_decision_boundary(
        model, X, y, tmp_path / "b.png", title="t", resolution=40, probability_contours=True
    )
    assert path.exists() and _png_is_not_blank(path)


def test_decision_boundary_needs_two_features(tmp_path):
    X, y = sm.data.blobs(30, centers=2, n_features=3, seed=0)
    model = sm.LogisticRegression(epochs=5).fit(X, y)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        viz.save_decision_boundary(model, X, y, tmp_path / "b.png")


def test_network_graph_png(backend, tmp_path):
    X, y = sm.data.correlated_normal(40, n_features=5, seed=0, backend=backend)
    model = sm.MLPClassifier(hidden_layers=(6, 4), epochs=3).fit(X, y)
    path = viz.network_graph(model.params_, tmp_path / "g.png")
    assert _png_is_not_blank(path)


def test_loss_curve_draws_every_epoch():
    ax = viz.loss_curve([1.0, 0.5, 0.25, 0.2])
    assert len(ax.lines[0].get_xdata()) == 4 and ax.get_yscale() == "log"


def test_layer_transformation_frames(tmp_path):
    X, y = sm.data.spirals(80, arms=3, turns=0.5, seed=0)
    model = sm.MLPClassifier(hidden_layers=(2, 2), init="orthogonal", epochs=5).fit(X, y)
    path = viz.layer_transformation_animation(
        model.params_,
        model.activations_,
        X,
        y,
        tmp_path / "m.gif",
        frames_per_step=2,
        hold_frames=2,
    )
    # holds + 3 stages (linear map, shift, tanh) × frames_per_step × hidden layers + holds
    _assert_animation(path, 2 + 3 * 2 * 2 + 2)


def test_layer_transformation_matches_the_network(backend):
    """After all stages the points are exactly the last hidden layer's activations."""
    X, y = sm.data.spirals(50, seed=1, backend=backend, dtype="float64")
    model = sm.MLPClassifier(
        hidden_layers=(2, 2, 2), activation=["tanh", "relu", "sigmoid"], epochs=3
    )
    model.fit(X, y)
    points = sm.backends.to_numpy(X)
    for _, fn in viz.animations.transformation_stages(model.params_, model.activations_, 4):
        points = fn(points, 1.0)
    xp = sm.backends.namespace(X)
    _, caches = sm.nn.layers.forward(xp, model.params_, X, model.activations_)
    np.testing.assert_allclose(points, sm.backends.to_numpy(caches[-2].A), rtol=1e-10, atol=1e-12)


def test_transformation_rejects_wide_layers(tmp_path):
    X, y = sm.data.spirals(40, seed=0)
    model = sm.MLPClassifier(hidden_layers=(3,), epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="2-wide"):
        viz.layer_transformation_animation(
            model.params_, model.activations_, X, y, tmp_path / "m.gif"
        )


def test_regression_animation_frames(backend, tmp_path):
    X, y = sm.data.noisy_line(30, seed=0, backend=backend)
    model = sm.LinearRegression(solver="gd", epochs=10, record_every=2).fit(X, y)
    path = viz.regression_animation(X, y, model.history_, model.loss_history_, tmp_path / "r.gif")
    _assert_animation(path, len(model.history_))
    assert len(model.history_) == 6


@pytest.mark.parametrize(("asked", "written"), [(10, 10), (7, 6)])
def test_unit_norm_animation_loops_without_repeats(tmp_path, asked, written):
    path = viz.unit_norm_animation(tmp_path / "u.gif", n_frames=asked, n_points=201)
    _assert_animation(path, written)


@pytest.mark.parametrize("p", [0.1, 0.5, 1.0, 2.0, 7.0, 100.0])
def test_unit_ball_points_have_unit_norm(p):
    points = viz.unit_ball(p, 401)
    norms = (np.abs(points) ** p).sum(axis=1) ** (1 / p)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-9)
    # The four axis points are on it, whatever p is.
    for corner in ([1, 0], [0, 1], [-1, 0], [0, -1]):
        assert np.min(np.linalg.norm(points - corner, axis=1)) < 1e-12


def test_arrays_from_another_backend_are_drawn(tmp_path):
    X, y = sm.data.spirals(60, seed=0)
    model = sm.MLPClassifier(hidden_layers=(4,), epochs=3).fit(X, y)
    Xs, ys = on("array_api_strict", X), on("array_api_strict", y)
    strict_model = sm.load(model.save(tmp_path / "m.npz"), backend="array_api_strict")
    path = viz.save_decision_boundary(strict_model, Xs, ys, tmp_path / "s.png", resolution=30)
    assert _png_is_not_blank(path)
