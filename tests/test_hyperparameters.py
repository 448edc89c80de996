"""Hyper-parameters declared once: the tables, the optimizers' own settings, given weights."""

import inspect
import math

import numpy as np
import pytest

import scratchml as sm
from scratchml.nn.optimizers import OPTIMIZERS

from .conftest import host, on

ESTIMATORS = [
    sm.MLPClassifier,
    sm.MLPRegressor,
    sm.StackedMLPClassifier,
    sm.StackedMLPRegressor,
    sm.LinearRegression,
    sm.LogisticRegression,
]
NETWORKS = ESTIMATORS[:4]


# ---------------------------------------------------------------------------
# One table per estimator


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_the_written_init_agrees_with_the_table(cls):
    # __init__ is written out (typed, for readers, IDEs and type checkers); the table
    # declares what fit checks and the docs show: the same names, order and defaults.
    table = cls.hyperparameter_table()
    signature = inspect.signature(cls)
    assert list(signature.parameters) == list(table)
    for name, parameter in table.items():
        written = signature.parameters[name]
        assert written.default == parameter.default, name
        assert type(written.default) is type(parameter.default), name
        assert written.annotation is not inspect.Parameter.empty, name  # typed
        parameter.check(parameter.default, name)  # every default is valid
    assert cls().get_params() == {name: p.default for name, p in table.items()}
    with pytest.raises(TypeError):
        table["epochs"] = None  # read-only


def test_an_init_that_disagrees_with_its_table_cannot_be_defined():
    from scratchml.estimators.linear import LinearRegression

    with pytest.raises(TypeError, match="default 5"):

        class WrongDefault(LinearRegression):
            def __init__(self, solver="normal", learning_rate=0.01, epochs=5, l2=0.0,
                         tol=1e-6, n_iter_no_change=10, record_every=0, progress=False):  # fmt: skip
                super().__init__(solver, learning_rate, epochs, l2, tol, n_iter_no_change)

    with pytest.raises(TypeError, match="table declares"):

        class MissingParameter(LinearRegression):
            def __init__(self, solver="normal"):
                super().__init__(solver)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_numpydoc_sections_cover_every_parameter(cls):
    validate = pytest.importorskip("numpydoc.validate")
    result = validate.validate(f"scratchml.{cls.__name__}")
    parameter_errors = [
        (code, message)
        for code, message in result["errors"]
        if code.startswith(("PR", "GL0", "SS"))
    ]
    assert parameter_errors == []
    doc = inspect.getdoc(cls)
    for name, parameter in cls.hyperparameter_table().items():
        assert f"\n{name} : {parameter.type_text()}\n" in doc
        assert f"default={parameter.default!r}" in doc
    assert "\nAttributes\n----------\nparams_ : " in doc


def test_every_network_estimator_has_the_optimizer_settings():
    defaults = {
        k: v
        for cls in OPTIMIZERS.values()
        for k, v in cls.hyperparameters.items()  # today's or scikit-learn's names
    }
    for cls in NETWORKS:
        table = cls.hyperparameter_table()
        assert {"momentum", "beta_1", "beta_2", "epsilon"} <= set(table)
        # Their defaults are the optimizers' own (declared there, read here).
        assert table["momentum"].default == defaults.get("momentum", defaults.get("beta"))
        assert table["epsilon"].default == defaults["epsilon"]


def test_stacks_say_which_parameters_take_one_value_per_network():
    table = sm.StackedMLPClassifier.hyperparameter_table()
    per_network = {name for name, p in table.items() if p.per_network}
    assert per_network == {"learning_rate", "l2", "seed"}
    assert "sequence of float" in table["learning_rate"].type_text()
    table["learning_rate"].check([0.1, 0.2], "learning_rate")
    with pytest.raises(ValueError, match=r"learning_rate\[1\] must be a positive number; got 0"):
        table["learning_rate"].check([0.1, 0], "learning_rate")
    with pytest.raises(ValueError, match="momentum must be a number in"):
        table["momentum"].check([0.5, 0.5], "momentum")  # one value for a whole stack


def test_a_sweep_grid_can_check_its_values_with_the_table():
    table = sm.StackedMLPClassifier.hyperparameter_table()
    with pytest.raises(ValueError, match=r"grid key 'l2' must be a non-negative number; got -1"):
        table["l2"].check(-1, "grid key 'l2'")
    assert not table["activation"].accepts("swish")
    assert table["optimizer"].accepts("momentum")


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (sm.StackedMLPClassifier, dict(momentum=1.5), r"momentum must be a number in \[0, 1\)"),
        (sm.StackedMLPRegressor, dict(epsilon=-1e-8), "epsilon must be a positive number"),
        (sm.StackedMLPClassifier, dict(learning_rate=[0.1, -0.1]), r"learning_rate\[1\]"),
        (sm.LinearRegression, dict(solver="qr"), "solver must be one of 'normal', 'gd'"),
        (sm.LogisticRegression, dict(tol="small"), "tol must be a non-negative number or None"),
        (sm.LogisticRegression, dict(epochs=0), "epochs must be a positive integer; got 0"),
    ],
)
def test_every_estimator_checks_its_table_before_training(cls, kwargs, message):
    X, y = sm.data.blobs(20, centers=2, seed=0)
    extra = {"n_networks": 2} if cls.__name__.startswith("Stacked") else {}
    model = cls(**extra, **kwargs)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)
    assert not hasattr(model, "params_")


# ---------------------------------------------------------------------------
# The optimizers' settings reach the update rule: 50 epochs against torch.optim


def _torch_trajectory(torch, X, y, init, make_optimizer, epochs):
    """The same network (tanh hidden layer, identity output, ½·mean squared error) in torch."""
    params = [
        torch.tensor(a, dtype=torch.float64, requires_grad=True) for W, b in init for a in (W, b)
    ]
    optimizer = make_optimizer(params)
    X, y = torch.tensor(X), torch.tensor(y)[:, None]
    for _ in range(epochs):
        optimizer.zero_grad()
        hidden = torch.tanh(X @ params[0] + params[1])
        prediction = hidden @ params[2] + params[3]
        loss = 0.5 * torch.mean((prediction - y) ** 2)
        loss.backward()
        optimizer.step()
    return [p.detach().cpu().numpy() for p in params]


def _regression_problem(seed=0, n=64, width=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
    init = [
        (rng.normal(scale=0.5, size=(3, width)), rng.normal(scale=0.1, size=width)),
        (rng.normal(scale=0.5, size=(width, 1)), rng.normal(scale=0.1, size=1)),
    ]
    return X, y, init


SETTINGS = [
    ("momentum", dict(momentum=0.55, learning_rate=0.05)),
    ("adam", dict(beta_1=0.8, beta_2=0.95, epsilon=1e-3, learning_rate=0.02)),
]


@pytest.mark.parametrize(("optimizer", "settings"), SETTINGS, ids=[s[0] for s in SETTINGS])
@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_non_default_settings_match_torch_optim(optimizer, settings, library):
    torch = pytest.importorskip("torch")
    X, y, init = _regression_problem()
    model = sm.MLPRegressor(
        hidden_layers=(5,), optimizer=optimizer, epochs=50, tol=None, init=init, **settings
    ).fit(on(library, X), on(library, y))
    if optimizer == "momentum":

        def make(params):
            lr, beta = settings["learning_rate"], settings["momentum"]
            return torch.optim.SGD(params, lr=lr, momentum=beta, dampening=0)

    else:

        def make(params):
            betas = (settings["beta_1"], settings["beta_2"])
            return torch.optim.Adam(
                params, lr=settings["learning_rate"], betas=betas, eps=settings["epsilon"]
            )

    expected = _torch_trajectory(torch, X, y, init, make, epochs=50)
    got = [host(a) for layer in model.params_ for a in layer]
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
    # The settings matter: the defaults end elsewhere.
    default = sm.MLPRegressor(
        hidden_layers=(5,), optimizer=optimizer, epochs=50, tol=None, init=init,
        learning_rate=settings["learning_rate"],
    ).fit(X, y)  # fmt: skip
    assert not np.allclose(host(default.params_[0][0]), expected[0], rtol=1e-6)


@pytest.mark.parametrize(("optimizer", "settings"), SETTINGS, ids=[s[0] for s in SETTINGS])
def test_a_stack_takes_the_settings_for_all_its_networks(optimizer, settings):
    X, y, _ = _regression_problem()
    common = dict(hidden_layers=(4,), optimizer=optimizer, epochs=20, batch_size=16, **settings)
    stack = sm.StackedMLPRegressor(n_networks=2, seed=[3, 7], **common).fit(X, y)
    for i, seed in enumerate([3, 7]):
        alone = sm.MLPRegressor(seed=seed, tol=None, **common).fit(X, y)
        for (W, b), (Ws, bs) in zip(alone.params_, stack.params_, strict=True):
            np.testing.assert_allclose(Ws[i], W, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(bs[i], b, rtol=1e-10, atol=1e-12)
    assert stack.model(0).get_params()["momentum"] == stack.momentum


# ---------------------------------------------------------------------------
# Starting from given weights


def test_one_sgd_epoch_from_given_weights_is_one_step_by_hand(backend):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    W1, b1 = rng.normal(size=(2, 4)), rng.normal(size=4)
    W2, b2 = rng.normal(size=(4, 1)), rng.normal(size=1)
    eta, l2 = 0.3, 0.01
    model = sm.MLPClassifier(
        hidden_layers=(4,), optimizer="sgd", learning_rate=eta, l2=l2, epochs=1, tol=None,
        init=[(on(backend, W1), on(backend, b1)), (on(backend, W2), on(backend, b2))],
    ).fit(on(backend, X), on(backend, y))  # fmt: skip

    # By hand: forward, the gradient of mean BCE + (l2/2)·Σ‖W‖², one step.
    n = X.shape[0]
    A1 = np.tanh(X @ W1 + b1)
    p = 1 / (1 + np.exp(-(A1 @ W2 + b2)))
    d_logits = (p - y[:, None]) / n
    dW2, db2 = A1.T @ d_logits + l2 * W2, d_logits.sum(0)
    dZ1 = (d_logits @ W2.T) * (1 - A1**2)
    dW1, db1 = X.T @ dZ1 + l2 * W1, dZ1.sum(0)
    expected = [(W1 - eta * dW1, b1 - eta * db1), (W2 - eta * dW2, b2 - eta * db2)]
    for (W, b), (eW, eb) in zip(model.params_, expected, strict=True):
        assert sm.backends.backend_name(W) == backend and W.dtype == on(backend, X).dtype
        np.testing.assert_allclose(host(W), eW, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(host(b), eb, rtol=1e-12, atol=1e-14)


def test_given_weights_take_x_library_and_dtype_and_stay_unchanged():
    torch = pytest.importorskip("torch")
    X, y, init = _regression_problem()
    torch_init = [(torch.tensor(W), torch.tensor(b)) for W, b in init]
    X32 = X.astype(np.float32)
    model = sm.MLPRegressor(hidden_layers=(5,), init=torch_init, epochs=3).fit(X32, y)
    assert isinstance(model.params_[0][0], np.ndarray)
    assert model.params_[0][0].dtype == np.float32
    # The given arrays are the parameter's value, stored as given and never written to.
    assert model.init is torch_init
    np.testing.assert_array_equal(torch_init[0][0].cpu().numpy(), init[0][0])


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ([((3, 5), (5,)), ((5, 2), (2,))], r"init gives weights of shapes .*\(5, 2\).* needs"),
        ([((2, 5), (5,)), ((5, 1), (1,))], r"3 → 5 → 1"),
        ([((3, 5), (5,))], "init gives weights of shapes"),
    ],
)
def test_given_weights_of_the_wrong_shapes_are_refused_naming_init(shapes, message):
    X, y, _ = _regression_problem()
    init = [(np.zeros(W), np.zeros(b)) for W, b in shapes]
    model = sm.MLPRegressor(hidden_layers=(5,), init=init, epochs=2)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)
    assert not hasattr(model, "params_")


def test_a_stack_starts_from_given_weights_per_network():
    X, y, init = _regression_problem()
    _, _, other = _regression_problem(seed=5)
    stacked = [
        (np.stack([a[0], c[0]]), np.stack([a[1], c[1]])) for a, c in zip(init, other, strict=True)
    ]
    common = dict(hidden_layers=(5,), optimizer="momentum", momentum=0.3, epochs=10)
    stack = sm.StackedMLPRegressor(n_networks=2, init=stacked, **common).fit(X, y)
    for i, weights in enumerate([init, other]):
        alone = sm.MLPRegressor(init=weights, tol=None, **common).fit(X, y)
        for (W, _), (Ws, _) in zip(alone.params_, stack.params_, strict=True):
            np.testing.assert_allclose(Ws[i], W, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=r"init must be one of .* W \(M, n_in, n_out\)"):
        sm.StackedMLPRegressor(n_networks=2, init=init).fit(X, y)
    with pytest.raises(ValueError, match="init gives weights of shapes"):
        sm.StackedMLPRegressor(n_networks=3, init=stacked, **common).fit(X, y)


def test_clone_get_params_and_repr_with_given_weights():
    base = pytest.importorskip("sklearn.base")
    X, y, init = _regression_problem()
    model = sm.MLPRegressor(hidden_layers=(5,), init=init, epochs=3, momentum=0.5)
    copy = base.clone(model)
    assert copy.get_params()["momentum"] == 0.5
    for (W, b), (cW, cb) in zip(init, copy.init, strict=True):
        np.testing.assert_array_equal(W, cW)
        np.testing.assert_array_equal(b, cb)
    text = repr(model)
    assert "array of shape (3, 5)" in text and "momentum=0.5" in text and "[[" not in text
    np.testing.assert_array_equal(host(copy.fit(X, y).predict(X)), host(model.fit(X, y).predict(X)))


def test_range_words_are_the_check():
    """What the docs state is what is checked: the boundary values of each interval."""
    table = sm.MLPClassifier.hyperparameter_table()
    assert table["momentum"].accepts(0.0) and not table["momentum"].accepts(1.0)
    assert table["beta_2"].accepts(0.999) and not table["beta_2"].accepts(math.nan)
    assert not table["epsilon"].accepts(0.0) and table["epsilon"].accepts(1e-300)
    assert not table["epochs"].accepts(True) and table["epochs"].accepts(np.int64(3))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_attributes_sections_make_no_cross_references(cls):
    """numpydoc turns an Attributes entry named like a property of the class (``coef_``) into
    a reference ``.coef_``, which is ambiguous once two classes have the property or a class is
    documented on two pages (the -W docs build fails); the entries are plain names."""
    docscrape_sphinx = pytest.importorskip("numpydoc.docscrape_sphinx")
    rendered = str(docscrape_sphinx.get_doc_object(cls, config={"show_class_members": False}))
    attributes = rendered[rendered.index(":Attributes:") :]
    assert ":obj:`" not in attributes
    for name in cls._fitted_attributes:
        assert f"**{name[:-1]}\\_**" in attributes or f"**{name}**" in attributes, name
