"""What the README, the API text and the math pages say, held against what the code does."""

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import scratchml as sm
from scratchml.estimators.mlp import INIT

ROOT = Path(__file__).resolve().parents[1]


def _quick_start():
    readme = (ROOT / "README.md").read_text()
    return readme.split("## Quick start", 1)[1].split("```python", 1)[1].split("```", 1)[0]


def test_readme_quick_start_says_how_many_epochs_ran_and_why():
    code = _quick_start()
    lines = code.splitlines()
    at = next(i for i, line in enumerate(lines) if "len(clf.loss_history_)" in line)
    comment = " ".join(lines[max(0, at - 4) : at + 1])
    assert "one loss per epoch" not in comment
    X, y = sm.data.spirals(n_samples=2000, arms=2, noise=0.05, seed=0)
    clf = sm.MLPClassifier(
        hidden_layers=(32, 32),
        activation="tanh",
        optimizer="adam",
        learning_rate=0.01,
        epochs=300,
        seed=0,
    ).fit(X, y)
    assert clf.epochs == 300 and re.search(r"\b300\b", code)  # the quick start's own model
    assert len(clf.loss_history_) < clf.epochs  # tol stopped it
    # The count the comment gives, to a tolerance: where tol stops depends on the last bits
    # of the losses, which another CPU may round otherwise.
    claimed = int(re.search(r"about (\d+)", comment).group(1))
    assert abs(len(clf.loss_history_) - claimed) <= 0.1 * claimed and "tol" in comment


def test_init_text_calls_the_fan_in_draw_lecun():
    text = INIT.doc
    assert "'xavier' N(0, 1/fan_in)" not in text
    assert "'lecun' N(0, 1/fan_in)" in text
    assert "LeCun otherwise" in text and "fan-in form otherwise" not in text
    for estimator in (sm.MLPClassifier, sm.MLPRegressor):
        assert "'lecun' N(0, 1/fan_in)" in " ".join(inspect.getdoc(estimator).split())


def test_single_network_fit_documents_single_network_shapes():
    for estimator in (sm.MLPClassifier, sm.MLPRegressor, sm.LogisticRegression):
        doc = inspect.getdoc(estimator.fit)
        assert "(M," not in doc and "A stack" not in doc, estimator.__name__
    for stack in (sm.StackedMLPClassifier, sm.StackedMLPRegressor):
        assert "(M, n_samples, n_features)" in inspect.getdoc(stack.fit)


def test_losses_page_says_squared_error_divides_by_n_times_k():
    page = (ROOT / "docs" / "math" / "losses-activations.md").read_text()
    intro = page.split("**Half squared error**", 1)[0]
    assert "every\ngradient is already divided by $n$." not in intro
    assert "n \\cdot k" in intro
    # And the code does: ∂L/∂ŷ = (ŷ − y)/(n·k).
    from scratchml.nn.losses import half_squared_error_value_and_gradient

    rng = np.random.default_rng(0)
    logits, Y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    _, gradient = half_squared_error_value_and_gradient(sm.backends.get("numpy"), logits, Y)
    np.testing.assert_allclose(gradient, (logits - Y) / 15)


def test_l2_and_loss_history_are_documented():
    guide = " ".join((ROOT / "docs" / "guide" / "estimators.md").read_text().split())
    assert "scikit-learn's MLP `alpha` divided by the samples of a step" in guide
    assert (
        "`loss_history_` holds the objective (penalty included) before each epoch's step" in guide
    )
    l2 = " ".join(sm.MLPClassifier.hyperparameter_table()["l2"].doc.split())
    assert "l2 = alpha / n_samples" in l2
    attribute = " ".join(inspect.getdoc(sm.MLPClassifier).split())
    assert "before each epoch's step" in attribute


def test_l2_is_scikit_learns_alpha_over_n_and_the_history_starts_before_the_first_step():
    """One full-batch SGD step from the same weights, against scikit-learn's MLPClassifier."""
    neural_network = pytest.importorskip("sklearn.neural_network")
    X, y = sm.data.blobs(40, centers=2, cluster_std=2.0, seed=3, dtype="float64")
    rng = np.random.default_rng(0)
    weights = [
        (rng.standard_normal((2, 4)), rng.standard_normal(4)),
        (rng.standard_normal((4, 1)), rng.standard_normal(1)),
    ]
    a, n = 0.05, X.shape[0]
    ours = sm.MLPClassifier(
        hidden_layers=(4,), activation="tanh", optimizer="sgd", learning_rate=0.1, l2=a,
        epochs=1, tol=None, init=weights,
    ).fit(X, y)  # fmt: skip
    theirs = neural_network.MLPClassifier(
        hidden_layer_sizes=(4,), activation="tanh", solver="sgd", learning_rate_init=0.1,
        momentum=0.0, nesterovs_momentum=False, alpha=a * n, batch_size=n, shuffle=False,
    )  # fmt: skip
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.partial_fit(X, y, classes=[0, 1])  # sets up the layers; then the weights
        theirs.coefs_ = [W.copy() for W, _ in weights]
        theirs.intercepts_ = [b.copy() for _, b in weights]
        theirs.partial_fit(X, y)
    for (W, b), W_theirs, b_theirs in zip(
        ours.params_, theirs.coefs_, theirs.intercepts_, strict=True
    ):
        np.testing.assert_allclose(W, W_theirs, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(b, b_theirs, rtol=1e-12, atol=1e-12)
    # The objective before the step: scikit-learn's loss (penalty alpha/(2n)·‖W‖² included).
    assert ours.loss_history_[0] == pytest.approx(theirs.loss_curve_[-1], rel=1e-12)
