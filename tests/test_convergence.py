"""Converged defaults: Newton for logistic regression, tol stopping, early stopping, warm starts."""

import warnings

import numpy as np
import pytest

import scratchml as sm
from scratchml import _training
from scratchml.nn import optimizers
from scratchml.nn.init import init_params

from .conftest import host, on


def _standardised_breast_cancer():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_breast_cancer(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


def _reference_logistic(X, y, l2):
    """scikit-learn's optimum of our objective: C = 1 / (l2 · n_samples), solved tightly."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    return linear_model.LogisticRegression(
        C=1 / (l2 * X.shape[0]), solver="newton-cholesky", tol=1e-12, max_iter=1000
    ).fit(X, y)


# --- Newton / IRLS ------------------------------------------------------------------


@pytest.mark.parametrize("l2", [1e-2, 1e-4])
def test_newton_reaches_scikit_learns_optimum_on_breast_cancer(backend, l2):
    X, y = _standardised_breast_cancer()
    model = sm.LogisticRegression(l2=l2).fit(on(backend, X), on(backend, y))
    reference = _reference_logistic(X, y, l2)
    assert model.solver == "newton" and model.n_iter_ <= 30
    np.testing.assert_allclose(host(model.coef_), reference.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(host(model.intercept_), reference.intercept_, rtol=0, atol=1e-6)
    assert len(model.loss_history_) == model.n_iter_
    assert np.all(np.diff(model.loss_history_) < 0)  # the line search only accepts descent


@pytest.mark.parametrize("n_classes", [3, 4])
def test_newton_multinomial_reaches_scikit_learns_optimum(backend, n_classes):
    X, y = sm.data.blobs(240, centers=n_classes, cluster_std=2.5, seed=4, dtype="float64")
    X = (X - X.mean(0)) / X.std(0)
    l2 = 0.01
    model = sm.LogisticRegression(l2=l2).fit(on(backend, X), on(backend, y))
    reference = _reference_logistic(X, y, l2)
    assert model.n_iter_ <= 30
    np.testing.assert_allclose(host(model.coef_), reference.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(host(model.intercept_), reference.intercept_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        host(model.predict_proba(on(backend, X))), reference.predict_proba(X), atol=1e-7
    )


def test_newton_gradient_vanishes_at_the_end(backend):
    # An independent check of optimality: the objective's own gradient, finite differences.
    X, y = sm.data.blobs(120, centers=3, cluster_std=2.0, seed=2, dtype="float64")
    model = sm.LogisticRegression(l2=0.05).fit(on(backend, X), on(backend, y))
    W, b = (host(a) for a in model.params_[0])
    numpy_model = sm.LogisticRegression(l2=0.05).fit(X, y)

    def objective(W_, b_):
        numpy_model.params_ = [(W_, b_)]
        return numpy_model.loss(X, y)

    step = 1e-6
    for index in np.ndindex(*W.shape):
        shifted = W.copy()
        shifted[index] += step
        down = W.copy()
        down[index] -= step
        assert abs(objective(shifted, b) - objective(down, b)) / (2 * step) < 1e-7


def test_newton_stops_on_separable_float32_data_without_an_optimum():
    X, y = sm.data.blobs(200, centers=[[-3, -3], [3, 3]], cluster_std=1.0, seed=1)
    with pytest.warns(sm.ConvergenceWarning, match="no finite minimum"):
        model = sm.LogisticRegression().fit(X, y)  # l2=0: the loss only tends to 0
    assert model.n_iter_ < model.epochs
    assert model.score(X, y) == 1.0
    assert np.all(np.isfinite(model.coef_))


def test_gradient_descent_solver_keeps_todays_behaviour():
    X, y = _standardised_breast_cancer()
    l2 = 1e-2
    gd = sm.LogisticRegression(solver="gd", learning_rate=0.5, epochs=20, l2=l2, tol=None)
    gd.fit(X, y)
    assert gd.n_iter_ == 20 and len(gd.loss_history_) == 20
    # It is plain gradient descent: the first step is -lr times the gradient at zero.
    first = sm.LogisticRegression(solver="gd", learning_rate=0.5, epochs=1, l2=l2).fit(X, y)
    start = sm.LogisticRegression(solver="gd", learning_rate=0.5, epochs=1, l2=l2).fit(X, y)
    start.params_ = [(np.zeros_like(first.params_[0][0]), np.zeros_like(first.params_[0][1]))]
    ((dW, _db),) = start.gradients(X, y)
    np.testing.assert_allclose(first.params_[0][0], -0.5 * dW, rtol=1e-12)


# --- tol / n_iter_no_change ------------------------------------------------------------


def _scikit_learn_stop(losses, tol, n_iter_no_change):
    """The epoch at which scikit-learn's MLP rule stops on these epoch losses (or None)."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(losses, start=1):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            return epoch
    return None


def test_linear_gradient_descent_stops_by_scikit_learns_rule(backend):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3 + 0.1 * rng.standard_normal(80)
    tol, patience = 1e-6, 5
    full = sm.LinearRegression(solver="gd", learning_rate=0.1, epochs=400, tol=None).fit(X, y)
    model = sm.LinearRegression(
        solver="gd", learning_rate=0.1, epochs=400, tol=tol, n_iter_no_change=patience
    ).fit(on(backend, X), on(backend, y))
    expected = _scikit_learn_stop(full.loss_history_, tol, patience)
    assert expected is not None and expected < 400
    assert model.n_iter_ == expected == len(model.loss_history_)
    np.testing.assert_allclose(model.loss_history_, full.loss_history_[:expected], rtol=1e-10)


def test_mlp_stops_on_the_same_epoch_as_scikit_learn():
    neural_network = pytest.importorskip("sklearn.neural_network")
    X, y = sm.data.spirals(60, arms=2, seed=1, dtype="float64")
    lr, tol, patience = 0.01, 1e-3, 4
    ours = sm.MLPClassifier(
        hidden_layers=(5,),
        optimizer="sgd",
        learning_rate=lr,
        epochs=300,
        record_every=1,
        tol=tol,
        n_iter_no_change=patience,
    ).fit(X, y)
    assert ours.n_iter_ < 300
    reference = neural_network.MLPClassifier(
        hidden_layer_sizes=(5,),
        activation="tanh",
        solver="sgd",
        learning_rate_init=lr,
        momentum=0.0,
        batch_size=X.shape[0],
        alpha=0.0,
        shuffle=False,
        max_iter=1,
        tol=tol,
        n_iter_no_change=patience,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(X, y)  # builds its layers; then ours are copied in and the count reset
        initial = ours.history_[0].params
        reference.coefs_ = [np.array(W) for W, _ in initial]
        reference.intercepts_ = [np.array(b) for _, b in initial]
        reference.loss_curve_, reference.best_loss_ = [], np.inf
        reference._no_improvement_count, reference.n_iter_, reference.t_ = 0, 0, 0
        reference.set_params(warm_start=True, max_iter=300)
        reference._optimizer = None
        reference.fit(X, y)
    assert ours.n_iter_ == reference.n_iter_
    np.testing.assert_allclose(ours.loss_history_, reference.loss_curve_, rtol=1e-9)


def test_mlp_default_tol_is_scikit_learns_and_none_runs_every_epoch():
    assert sm.MLPClassifier().tol == 1e-4 and sm.MLPClassifier().n_iter_no_change == 10
    X, y = sm.data.blobs(60, centers=2, seed=0)
    kwargs = dict(hidden_layers=(4,), optimizer="sgd", learning_rate=1e-4, epochs=100)
    # Epoch 1 sets the best loss; no later epoch improves on it by 1e-4, so the count
    # passes n_iter_no_change = 10 at epoch 12.
    assert sm.MLPClassifier(**kwargs).fit(X, y).n_iter_ == 12
    assert sm.MLPClassifier(**kwargs, tol=None).fit(X, y).n_iter_ == 100


# --- early stopping -------------------------------------------------------------------


def test_early_stopping_keeps_the_best_epoch(backend):
    X, y = sm.data.spirals(300, arms=3, noise=0.05, seed=0, dtype="float64")
    Xb, yb = on(backend, X), on(backend, y)
    kwargs = dict(
        hidden_layers=(16, 16),
        learning_rate=0.02,
        epochs=400,
        early_stopping=True,
        n_iter_no_change=15,
    )
    model = sm.MLPClassifier(**kwargs).fit(Xb, yb)
    scores = model.validation_scores_
    assert len(scores) == model.n_iter_ == len(model.loss_history_) < 400
    assert model.best_validation_score_ == max(scores) > 0.8
    best_epoch = int(np.argmax(scores)) + 1  # the first epoch that reached the best score
    # Stopped after more than n_iter_no_change epochs without improving by tol.
    assert model.n_iter_ - best_epoch >= 15
    # The kept parameters are those of the best epoch: the same run cut there ends on them.
    cut = sm.MLPClassifier(**{**kwargs, "epochs": best_epoch, "tol": None}).fit(Xb, yb)
    for (W, b), (cW, cb) in zip(model.params_, cut.params_, strict=True):
        np.testing.assert_array_equal(host(W), host(cW))
        np.testing.assert_array_equal(host(b), host(cb))
    assert cut.validation_scores_ == scores[:best_epoch]


def test_early_stopping_holds_out_a_seeded_stratified_split():
    X, y = sm.data.blobs(103, centers=3, seed=0, dtype="float64")
    y = np.where(np.arange(103) < 13, 2, y)  # unbalanced classes
    model = sm.MLPClassifier(early_stopping=True, validation_fraction=0.2)
    xp = sm.backends.namespace(X)
    Y = np.eye(3)[y]
    counts = Y.sum(0)
    X_train, Y_train, _ = model._hold_out_validation(xp, X, Y, ["tanh"], np.random.default_rng(0))
    np.testing.assert_array_equal(Y_train.sum(0), counts - np.round(0.2 * counts))
    again, _, _ = model._hold_out_validation(xp, X, Y, ["tanh"], np.random.default_rng(0))
    np.testing.assert_array_equal(X_train, again)


def test_regressor_early_stopping_monitors_held_out_r2(backend):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (200, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1]
    model = sm.MLPRegressor(hidden_layers=(16,), epochs=300, early_stopping=True)
    model.fit(on(backend, X), on(backend, y))
    assert len(model.validation_scores_) == model.n_iter_
    assert 0.9 < model.best_validation_score_ <= 1.0


# --- warm_start and partial_fit ---------------------------------------------------------


def _assert_same_params(a, b):
    for (W, bias), (W2, bias2) in zip(a.params_, b.params_, strict=True):
        np.testing.assert_allclose(host(W), host(W2), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(host(bias), host(bias2), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_warm_start_continues_the_same_run(backend, optimizer):
    X, y = sm.data.spirals(120, arms=3, seed=0, dtype="float64")
    Xb, yb = on(backend, X), on(backend, y)
    kwargs = dict(hidden_layers=(8,), optimizer=optimizer, tol=None)
    straight = sm.MLPClassifier(**kwargs, epochs=30).fit(Xb, yb)
    warm = sm.MLPClassifier(**kwargs, epochs=15, warm_start=True).fit(Xb, yb).fit(Xb, yb)
    assert warm.n_iter_ == 30 and len(warm.loss_history_) == 30
    np.testing.assert_allclose(warm.loss_history_, straight.loss_history_, rtol=1e-12)
    _assert_same_params(warm, straight)
    cold = sm.MLPClassifier(**kwargs, epochs=15).fit(Xb, yb).fit(Xb, yb)
    assert cold.n_iter_ == 15  # without warm_start, fit starts afresh


def test_partial_fit_is_one_epoch_at_a_time(backend):
    X, y = sm.data.spirals(120, arms=2, seed=0, dtype="float64")
    Xb, yb = on(backend, X), on(backend, y)
    straight = sm.MLPClassifier(hidden_layers=(8,), epochs=12, tol=None).fit(Xb, yb)
    model = sm.MLPClassifier(hidden_layers=(8,))
    for call in range(12):
        model.partial_fit(Xb, yb, classes=on(backend, [0, 1]) if call == 0 else None)
        assert model.n_iter_ == call + 1
    _assert_same_params(model, straight)
    regressor = sm.MLPRegressor(hidden_layers=(4,)).partial_fit(Xb, on(backend, X[:, 0]))
    assert regressor.n_iter_ == 1


def _mini_batch_data(backend):
    # 300 samples in batches of 64: four full batches and a smaller last one.
    X, y = sm.data.spirals(300, arms=3, seed=0, dtype="float64")
    return on(backend, X), on(backend, y)


MINI_BATCH = dict(hidden_layers=(8,), optimizer="adam", batch_size=64, tol=None, seed=3)


def test_warm_start_continues_the_shuffle_of_mini_batches(backend):
    """15 + 15 warm-started epochs of shuffled mini-batches are the same run as 30."""
    Xb, yb = _mini_batch_data(backend)
    straight = sm.MLPClassifier(**MINI_BATCH, epochs=30).fit(Xb, yb)
    warm = sm.MLPClassifier(**MINI_BATCH, epochs=15, warm_start=True).fit(Xb, yb).fit(Xb, yb)
    np.testing.assert_allclose(warm.loss_history_, straight.loss_history_, rtol=1e-12)
    _assert_same_params(warm, straight)


def test_partial_fit_continues_the_shuffle_of_mini_batches(backend):
    """30 partial_fit calls with mini-batches are the same run as 30 epochs of fit."""
    Xb, yb = _mini_batch_data(backend)
    straight = sm.MLPClassifier(**MINI_BATCH, epochs=30).fit(Xb, yb)
    model = sm.MLPClassifier(**MINI_BATCH)
    for call in range(30):
        model.partial_fit(Xb, yb, classes=on(backend, [0, 1, 2]) if call == 0 else None)
    np.testing.assert_allclose(model.loss_history_, straight.loss_history_, rtol=1e-12)
    _assert_same_params(model, straight)


def test_a_refit_without_warm_start_shuffles_afresh():
    """Only a continuation carries the shuffle on: a plain refit repeats the first fit."""
    Xb, yb = _mini_batch_data("numpy")
    model = sm.MLPClassifier(**MINI_BATCH, epochs=5)
    first = model.fit(Xb, yb).loss_history_
    np.testing.assert_array_equal(model.fit(Xb, yb).loss_history_, first)


def test_a_stack_records_where_each_network_stopped_shuffling():
    """Network i of a stack ends its shuffle where it ends fitted alone, to go on from there."""
    Xb, yb = _mini_batch_data("numpy")
    seeds = [3, 7, 11]
    kwargs = dict(hidden_layers=(8,), optimizer="adam", batch_size=64, epochs=4)
    stack = sm.StackedMLPClassifier(n_networks=3, seed=seeds, **kwargs).fit(Xb, yb)
    for i, seed in enumerate(seeds):
        alone = sm.MLPClassifier(seed=seed, tol=None, **kwargs).fit(Xb, yb)
        assert stack._shuffle_state_[i] == alone._shuffle_state_


@pytest.mark.parametrize("n_networks", [None, 3], ids=["one network", "a stack"])
def test_a_run_continued_from_its_shuffle_state_is_one_run(n_networks):
    """30 one-epoch runs, each going on from the last one's generators and optimizer
    state, equal one run of 30 epochs: a stack's networks each with a generator of its own."""
    X, y = sm.data.spirals(300, arms=2, seed=0, dtype="float64")
    Y = y[:, None].astype("float64")
    seeds = [3] if n_networks is None else [3, 7, 11]
    params = init_params([2, 6, 1], ["tanh", "identity"], "auto", 0, like=X, n_networks=n_networks)
    objective = _training.TrainingObjective(["tanh"], "binary_cross_entropy")

    def train(epochs, generators, state=None, start=params):
        seed = generators[0] if n_networks is None else generators
        return _training.gradient_descent(
            np, start, X, Y, objective, optimizers.Adam(0.02), epochs, batch_size=64,
            seed=seed, state=state, n_networks=n_networks,
        )  # fmt: skip

    whole = train(30, [np.random.default_rng(s) for s in seeds])
    generators = [np.random.default_rng(s) for s in seeds]
    run = train(1, generators)
    losses = list(run.loss_history)
    for _ in range(29):
        saved = _training.generator_state(generators)
        generators = _training.continued_generators(saved)
        run = train(1, generators, run.state, run.params)
        losses.extend(run.loss_history)
    np.testing.assert_allclose(np.asarray(losses), np.asarray(whole.loss_history), rtol=1e-12)
    for (W, b), (W2, b2) in zip(run.params, whole.params, strict=True):
        np.testing.assert_allclose(W, W2, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b, b2, rtol=1e-12, atol=1e-14)


def test_partial_fit_needs_classes_first_and_keeps_them():
    X, y = sm.data.spirals(90, arms=3, seed=0)
    with pytest.raises(ValueError, match="partial_fit needs classes"):
        sm.MLPClassifier().partial_fit(X, y)
    model = sm.MLPClassifier(hidden_layers=(4,))
    model.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])  # the first batch lacks class 2
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    model.partial_fit(X, y)
    with pytest.raises(ValueError, match="classes must stay"):
        model.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="regressor takes no classes"):
        sm.MLPRegressor().partial_fit(X, y * 1.0, classes=[0, 1, 2])


def test_warm_start_refuses_a_changed_architecture_or_feature_count():
    X, y = sm.data.spirals(60, seed=0)
    model = sm.MLPClassifier(hidden_layers=(4,), epochs=3, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="same features"):
        model.fit(np.hstack([X, X]), y)
    model.set_params(hidden_layers=(5,))
    with pytest.raises(ValueError, match="warm_start=False"):
        model.fit(X, y)


# --- hyper-parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (sm.MLPClassifier, {"tol": -1.0}, "tol"),
        (sm.MLPClassifier, {"n_iter_no_change": 0}, "n_iter_no_change"),
        (sm.MLPClassifier, {"validation_fraction": 1.0}, "validation_fraction"),
        (sm.MLPRegressor, {"early_stopping": "yes"}, "early_stopping"),
        (sm.MLPRegressor, {"warm_start": 1}, "warm_start"),
        (sm.LogisticRegression, {"solver": "lbfgs"}, "solver must be one of 'newton', 'gd'"),
        (sm.LinearRegression, {"tol": "small"}, "tol"),
    ],
)
def test_new_hyperparameters_are_validated_before_training(cls, kwargs, match):
    X, y = sm.data.blobs(20, centers=2, seed=0)
    with pytest.raises(ValueError, match=match):
        cls(**kwargs).fit(X, y)


@pytest.mark.parametrize(
    ("cls", "slip", "hint"),
    [
        (sm.MLPClassifier, "hidden_layer_sizes", "did you mean hidden_layers?"),
        (sm.MLPRegressor, "max_iter", "did you mean epochs?"),
        (sm.LogisticRegression, "C", "did you mean l2"),
        (sm.LinearRegression, "epoch", "did you mean epochs?"),
    ],
)
def test_an_unknown_keyword_names_the_public_class_and_the_right_one(cls, slip, hint):
    with pytest.raises(TypeError) as info:
        cls(**{slip: 1})
    message = str(info.value)
    assert message.startswith(f"{cls.__name__} got an unexpected keyword argument {slip!r}")
    assert hint in message and "_MLP" not in message and "_LinearModel" not in message
    assert all(name in message for name in cls().get_params())


# --- a run that tol stopped without learning says so ---------------------------------


def test_tol_stop_with_the_loss_above_its_start_warns(backend):
    X, y = sm.data.spirals(200, arms=2, seed=0, dtype="float64")
    model = sm.MLPClassifier(hidden_layers=(16,), optimizer="sgd", learning_rate=20.0, epochs=300)
    with pytest.warns(sm.ConvergenceWarning, match="ended above its first value"):
        model.fit(on(backend, X), on(backend, y))
    assert model.n_iter_ < 300 and model.loss_history_[-1] > model.loss_history_[0]


def test_tol_stop_after_learning_does_not_warn():
    X, y = sm.data.spirals(200, arms=2, seed=0, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("error", sm.ConvergenceWarning)
        model = sm.MLPClassifier(hidden_layers=(16,), learning_rate=0.01, epochs=2000).fit(X, y)
    assert model.n_iter_ < 2000
