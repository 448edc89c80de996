"""Pictures: files exist, GIFs have the frames asked for and they differ, PNGs are not blank.

Most tests draw tiny fake models and parameters made with NumPy (or array-api-strict),
so they check the drawing code alone; a few draw real fitted models end to end.
"""

import itertools

import array_api_strict
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from PIL import Image

import scratchml as sm
from scratchml import backends, viz
from scratchml.viz.animations import transformation_stages

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


class FakeClassifier:
    """predict_proba from a fixed linear map, computed in the input's own namespace."""

    def __init__(self, W, b):
        self.W, self.b = np.asarray(W, dtype=float), np.asarray(b, dtype=float)
        self.classes_ = np.arange(max(self.W.shape[1], 2))
        self.calls = []

    def predict_proba(self, X):
        self.calls.append(X)
        xp = backends.namespace(X)
        logits = X @ backends.asarray(self.W, like=X) + backends.asarray(self.b, like=X)
        if self.W.shape[1] == 1:
            p = 1 / (1 + xp.exp(-logits))
            return xp.concat([1 - p, p], axis=1)
        e = xp.exp(logits - xp.max(logits, axis=1, keepdims=True))
        return e / xp.sum(e, axis=1, keepdims=True)


def _two_clusters(n_classes=2, n=40, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[-1.5, -1.0], [1.5, 1.0], [0.0, 2.5]])[:n_classes]
    y = np.arange(n) % n_classes
    return centres[y] + 0.5 * rng.standard_normal((n, 2)), y


def _fake_model(n_classes):
    if n_classes == 2:
        return FakeClassifier([[1.5], [1.0]], [0.2])
    return FakeClassifier([[-1.0, 1.0, 0.0], [-1.0, 0.5, 1.5]], [0.0, 0.0, -1.0])


def _two_wide_params(n_hidden, n_outputs, seed=0):
    """Parameters of 2 → 2 → … → 2 → n_outputs (hidden W (2, 2), output W (2, k))."""
    rng = np.random.default_rng(seed)
    params = [(rng.normal(0, 1.2, (2, 2)), rng.normal(0, 0.3, 2)) for _ in range(n_hidden)]
    return [*params, (rng.normal(0, 1.0, (2, n_outputs)), rng.normal(0, 0.1, n_outputs))]


# --- decision boundaries ---------------------------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 3])
def test_decision_boundary_png(tmp_path, n_classes):
    X, y = _two_clusters(n_classes)
    model = _fake_model(n_classes)
    path = viz.save_decision_boundary(
        model, X, y, tmp_path / "b.png", title="t", resolution=40, probability_contours=True
    )
    assert path == tmp_path / "b.png" and _png_is_not_blank(path)


def test_decision_boundary_asks_the_model_once_in_the_data_namespace():
    X, y = _two_clusters(2)
    Xs, ys = array_api_strict.asarray(X), array_api_strict.asarray(y)
    model = _fake_model(2)
    ax = viz.decision_boundary(model, Xs, ys, resolution=30, title="strict")
    assert isinstance(ax, Axes) and ax.get_title() == "strict"
    assert len(model.calls) == 1, "the whole grid is one predict_proba call"
    (grid,) = model.calls
    assert backends.backend_name(grid) == "array_api_strict" and grid.shape == (30 * 30, 2)
    assert grid.dtype == Xs.dtype
    assert ax.get_aspect() == 1.0
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["class 0", "class 1"]


def test_probability_contours_are_labelled():
    X, y = _two_clusters(2)
    ax = viz.decision_boundary(_fake_model(2), X, y, resolution=60, probability_contours=True)
    labels = sorted(float(t.get_text()) for t in ax.texts)
    assert labels == [0.1, 0.25, 0.5, 0.75, 0.9]


def test_decision_boundary_on_any_backend(backend, tmp_path):
    X, y = sm.data.blobs(60, centers=3, seed=0, backend=backend)
    model = sm.LogisticRegression(epochs=50).fit(X, y)
    path = viz.save_decision_boundary(model, X, y, tmp_path / "b.png", resolution=40)
    assert _png_is_not_blank(path)


def test_decision_boundary_needs_two_features(tmp_path):
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        viz.save_decision_boundary(_fake_model(2), X, np.zeros(5), tmp_path / "b.png")


def test_loss_curve_draws_every_epoch():
    ax = viz.loss_curve(array_api_strict.asarray([1.0, 0.5, 0.25, 0.2]))
    assert len(ax.lines[0].get_xdata()) == 4 and ax.get_yscale() == "log"
    assert ax.get_title() == "Training loss" and ax.get_xlabel() == "epoch"
    assert viz.loss_curve([1.0, -0.5], log=True).get_yscale() == "linear"


# --- network graph -------------------------------------------------------------------------


def test_network_graph_draws_every_weight_as_one_collection(tmp_path):
    sizes = [5, 10, 20, 50, 50, 20, 10, 2]
    rng = np.random.default_rng(0)
    params = [
        (rng.standard_normal((a, b)), rng.standard_normal(b)) for a, b in itertools.pairwise(sizes)
    ]
    ax = viz.network_graph(params)
    assert isinstance(ax, Axes)
    (edges,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(edges.get_segments()) == sum(a * b for a, b in itertools.pairwise(sizes))
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert (
        labels[0] == "input\n(5)" and labels[1] == "hidden 1\n(10)" and labels[-1] == "output\n(2)"
    )
    colorbar_axes = [a for a in ax.get_figure().axes if a is not ax]
    assert "weight" in colorbar_axes[0].get_ylabel()
    path = viz.network_graph(params, tmp_path / "g.png", title="seven layers")
    assert path == tmp_path / "g.png" and _png_is_not_blank(path)


def test_network_graph_of_a_fitted_model_on_any_backend(backend, tmp_path):
    X, y = sm.data.correlated_normal(40, n_features=5, seed=0, backend=backend)
    model = sm.MLPClassifier(hidden_layers=(6, 4), epochs=3).fit(X, y)
    path = viz.network_graph(model.params_, tmp_path / "g.png")
    assert _png_is_not_blank(path)


def test_network_graph_draws_into_a_given_axes():
    fig = viz.new_figure(6, 4)
    ax = fig.subplots()
    params = [(array_api_strict.asarray(np.ones((3, 2))), array_api_strict.asarray(np.zeros(2)))]
    assert viz.network_graph(params, ax=ax, layer_names=["in", "out"]) is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == ["in\n(3)", "out\n(2)"]


def test_network_graph_checks_layer_names_before_drawing():
    ax = viz.new_figure(6, 4).subplots()
    params = [(np.ones((3, 2)), np.zeros(2))]
    with pytest.raises(ValueError, match="layer_names needs 2 names"):
        viz.network_graph(params, ax=ax, layer_names=["only one"])
    assert not ax.collections and len(ax.get_figure().axes) == 1  # nothing half drawn


# --- layer-by-layer transformation ---------------------------------------------------------


@pytest.mark.parametrize(("n_hidden", "n_outputs"), [(2, 1), (3, 3)])
def test_layer_transformation_frames(tmp_path, n_hidden, n_outputs):
    X, y = _two_clusters(max(n_outputs, 2))
    params = _two_wide_params(n_hidden, n_outputs)
    path = viz.layer_transformation_animation(
        params,
        ["tanh"] * n_hidden,
        X,
        y,
        tmp_path / "m.gif",
        frames_per_step=2,
        hold_frames=2,
        grid_lines=5,
        title="fake",
    )
    # holds + 3 stages (linear map, shift, activation) × frames_per_step × hidden layers + holds
    _assert_animation(path, 2 + 3 * 2 * n_hidden + 2)
    assert Image.open(path).size[0] == 5 * 80  # 5 in at 80 dpi


def test_layer_transformation_holds_one_second_by_default_and_takes_strict_arrays(tmp_path):
    X, y = _two_clusters(2, n=20)
    params = [
        (array_api_strict.asarray(W), array_api_strict.asarray(b))
        for W, b in _two_wide_params(1, 1)
    ]
    path = viz.layer_transformation_animation(
        params,
        ["relu"],
        array_api_strict.asarray(X),
        array_api_strict.asarray(y),
        tmp_path / "m.gif",
        frames_per_step=1,
        fps=3,
    )
    _assert_animation(path, 3 + 3 * 1 + 3)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "leaky_relu", "identity"])
def test_stages_compose_to_the_forward_pass(activation):
    reference = {
        "tanh": np.tanh,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "relu": lambda z: np.maximum(z, 0),
        "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
        "identity": lambda z: z,
    }[activation]
    params = _two_wide_params(2, 1, seed=3)
    A = np.random.default_rng(1).standard_normal((30, 2))
    points, expected = A, A
    for _, fn in transformation_stages(params, [activation] * 2):
        np.testing.assert_allclose(fn(points, 0.0), points)  # t = 0 is the identity
        points = fn(points, 1.0)
    for W, b in params[:-1]:
        expected = reference(expected @ W + b)
    np.testing.assert_allclose(points, expected, rtol=1e-12, atol=1e-12)


def test_layer_transformation_matches_a_fitted_network(backend):
    """After all stages the points are exactly the last hidden layer's activations."""
    X, y = sm.data.spirals(50, seed=1, backend=backend, dtype="float64")
    model = sm.MLPClassifier(
        hidden_layers=(2, 2, 2), activation=["tanh", "relu", "sigmoid"], epochs=3
    )
    model.fit(X, y)
    points = sm.backends.to_numpy(X)
    for _, fn in transformation_stages(model.params_, model.activations_):
        points = fn(points, 1.0)
    xp = sm.backends.namespace(X)
    _, caches = sm.nn.layers.forward(xp, model.params_, X, model.activations_)
    np.testing.assert_allclose(points, sm.backends.to_numpy(caches[-2].A), rtol=1e-10, atol=1e-12)


def test_transformation_rejects_wide_layers_and_wrong_activations(tmp_path):
    X, y = _two_clusters(2)
    wide = [(np.ones((2, 3)), np.zeros(3)), (np.ones((3, 1)), np.zeros(1))]
    with pytest.raises(ValueError, match="2-wide"):
        viz.layer_transformation_animation(wide, ["tanh"], X, y, tmp_path / "m.gif")
    with pytest.raises(ValueError, match="one function per hidden layer"):
        viz.layer_transformation_animation(
            _two_wide_params(2, 1), ["tanh"], X, y, tmp_path / "m.gif"
        )
    with pytest.raises(ValueError, match="activation must be one of"):
        viz.layer_transformation_animation(
            _two_wide_params(1, 1), ["swish"], X, y, tmp_path / "m.gif"
        )


# --- regression and unit norms -------------------------------------------------------------


def test_regression_animation_from_tuples(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (25, 1))
    y = 2 * X[:, 0] + 1 + 0.3 * rng.standard_normal(25)
    snapshots = [
        (0, 0.0, 0.0),
        (1, np.array([1.0]), 0.4),
        (2, array_api_strict.asarray([1.6]), array_api_strict.asarray(0.8)),
        (3, 1.9, np.float64(0.95)),
    ]
    losses = [8.0, 2.0, 0.5, 0.2]
    path = viz.regression_animation(X, y, snapshots, losses, tmp_path / "r.gif", title="fit")
    _assert_animation(path, len(snapshots))


def test_regression_animation_from_a_fitted_model(backend, tmp_path):
    X, y = sm.data.noisy_line(30, seed=0, backend=backend)
    model = sm.LinearRegression(solver="gd", epochs=10, record_every=2).fit(X, y)
    path = viz.regression_animation(X, y, model.history_, model.loss_history_, tmp_path / "r.gif")
    assert len(model.history_) == 6
    _assert_animation(path, len(model.history_))


@pytest.mark.parametrize(("asked", "written"), [(10, 10), (7, 6)])
def test_unit_norm_animation_loops_without_repeats(tmp_path, asked, written):
    path = viz.unit_norm_animation(tmp_path / "u.gif", n_frames=asked, n_points=200)
    _assert_animation(path, written)


@pytest.mark.parametrize("p", [0.1, 0.5, 1.0, 2.0, 7.0, 100.0, 1000.0])
def test_unit_ball_points_have_unit_norm(p):
    points = viz.unit_ball(p, 400)
    assert np.all(np.isfinite(points))
    # ‖x‖_p computed stably: scale by the largest component before raising to p.
    scale = np.abs(points).max(axis=1, keepdims=True)
    norms = scale[:, 0] * ((np.abs(points) / scale) ** p).sum(axis=1) ** (1 / p)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-9)
    # The four axis points are on it, whatever p is.
    for corner in ([1, 0], [0, 1], [-1, 0], [0, -1]):
        assert np.min(np.linalg.norm(points - corner, axis=1)) < 1e-12


def test_no_pyplot_figures_are_left_open(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    X, y = _two_clusters(2, n=10)
    viz.save_decision_boundary(_fake_model(2), X, y, tmp_path / "b.png", resolution=20)
    viz.unit_norm_animation(tmp_path / "u.gif", n_frames=2, n_points=40)
    assert plt.get_fignums() == before


def test_arrays_from_another_backend_are_drawn(tmp_path):
    X, y = sm.data.spirals(60, seed=0)
    model = sm.MLPClassifier(hidden_layers=(4,), epochs=3).fit(X, y)
    Xs, ys = on("array_api_strict", X), on("array_api_strict", y)
    strict_model = sm.load(model.save(tmp_path / "m.npz"), backend="array_api_strict")
    path = viz.save_decision_boundary(strict_model, Xs, ys, tmp_path / "s.png", resolution=30)
    assert _png_is_not_blank(path)
