"""The Learn track's exercises (docs/learn/exercises/): each one's check passes with the
reference answer filled in, fails on the unfilled stub, and fails on a plausible mistake.

The reference answers live here, not on the pages a learner reads.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchml.nn import layers

EXERCISES = Path(__file__).resolve().parents[1] / "docs" / "learn" / "exercises"


def _exercise(name):
    """The exercise file ``name`` as a module (its ``check`` and its stubs)."""
    spec = importlib.util.spec_from_file_location(
        f"learn_exercise_{name}", EXERCISES / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the reference answers ----------------------------------------------------------------


def line_gradient(w, b, x, y):
    residual = w * x + b - y
    return np.mean(residual * x), np.mean(residual)


def logistic_hessian(theta, X1):
    p = 1 / (1 + np.exp(-(X1 @ theta)))
    return X1.T @ (X1 * (p * (1 - p))[:, None]) / len(X1)


def hidden_layer_forward(params, X):
    (W1, b1), (W2, b2) = params
    return np.tanh(X @ W1 + b1) @ W2 + b2


def relu_backward(params, X, d_logits):
    (W1, b1), (W2, _) = params
    Z1 = X @ W1 + b1
    A1 = np.maximum(Z1, 0)
    dW2, db2 = A1.T @ d_logits, d_logits.sum(axis=0)
    dZ1 = (d_logits @ W2.T) * (Z1 > 0)
    return [(X.T @ dZ1, dZ1.sum(axis=0)), (dW2, db2)]


def sgd_epoch(params, X, Y, order, batch_size, learning_rate):
    for start in range(0, len(X), batch_size):
        rows = order[start : start + batch_size]
        _, grads = layers.loss_and_gradients(
            np, params, X[rows], Y[rows], ["tanh"], "binary_cross_entropy"
        )
        params = [
            (W - learning_rate * dW, b - learning_rate * db)
            for (W, b), (dW, db) in zip(params, grads, strict=True)
        ]
    return params


def momentum_step(theta, grad, velocity, learning_rate, momentum):
    velocity = momentum * velocity + grad
    return theta - learning_rate * velocity, velocity


def adam_step(theta, grad, m, v, t, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
    return theta - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v


def init_std(activation, fan_in):
    return np.sqrt((2.0 if activation == "relu" else 1.0) / fan_in)


def orthogonal(n, gain, rng):
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return gain * q * np.sign(np.diag(r))


def l2_term(params, l2):
    penalty = 0.5 * l2 * sum(np.sum(W * W) for W, _ in params)
    return penalty, [(l2 * W, np.zeros_like(b)) for W, b in params]


def stacked_dense(A, W, b):
    return A @ W + b[:, None, :]


ANSWERS = {
    "ex01_line": (line_gradient,),
    "ex02_logistic": (logistic_hessian,),
    "ex03_hidden_layer": (hidden_layer_forward,),
    "ex04_backprop": (relu_backward,),
    "ex05_training_loop": (sgd_epoch,),
    "ex06_optimizers": (momentum_step, adam_step),
    "ex07_init": (init_std, orthogonal),
    "ex08_regularisation": (l2_term,),
    "ex09_stacks": (stacked_dense,),
}

# --- plausible mistakes, which each check must catch --------------------------------------


def _forgot_the_mean(w, b, x, y):
    residual = w * x + b - y
    return np.sum(residual * x), np.sum(residual)


def _hessian_without_weights(theta, X1):
    return X1.T @ X1 / len(X1)


def _sigmoid_hidden_layer(params, X):
    (W1, b1), (W2, b2) = params
    return 1 / (1 + np.exp(-(X @ W1 + b1))) @ W2 + b2


def _relu_backward_without_the_mask(params, X, d_logits):
    (W1, b1), (W2, _) = params
    A1 = np.maximum(X @ W1 + b1, 0)
    dZ1 = d_logits @ W2.T
    return [(X.T @ dZ1, dZ1.sum(axis=0)), (A1.T @ d_logits, d_logits.sum(axis=0))]


def _sgd_epoch_in_the_given_rows_order(params, X, Y, order, batch_size, learning_rate):
    return sgd_epoch(params, X, Y, np.arange(len(X)), batch_size, learning_rate)


def _adam_without_bias_correction(
    theta, grad, m, v, t, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8
):
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    return theta - learning_rate * m / (np.sqrt(v) + epsilon), m, v


def _glorot_for_everything(activation, fan_in):
    return np.sqrt(1.0 / fan_in)


def _l2_without_the_half(params, l2):
    penalty = l2 * sum(np.sum(W * W) for W, _ in params)
    return penalty, [(l2 * W, np.zeros_like(b)) for W, b in params]


def _biases_in_reverse_order(A, W, b):
    return A @ W + b[:, None, ::-1]


MISTAKES = {
    "ex01_line": (_forgot_the_mean,),
    "ex02_logistic": (_hessian_without_weights,),
    "ex03_hidden_layer": (_sigmoid_hidden_layer,),
    "ex04_backprop": (_relu_backward_without_the_mask,),
    "ex05_training_loop": (_sgd_epoch_in_the_given_rows_order,),
    "ex06_optimizers": (momentum_step, _adam_without_bias_correction),
    "ex07_init": (_glorot_for_everything, orthogonal),
    "ex08_regularisation": (_l2_without_the_half,),
    "ex09_stacks": (_biases_in_reverse_order,),
}


def test_every_exercise_has_an_answer():
    assert sorted(path.stem for path in EXERCISES.glob("ex*.py")) == sorted(ANSWERS)


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_the_reference_answer_passes(name, capsys):
    _exercise(name).check(*ANSWERS[name])
    assert capsys.readouterr().out.strip().endswith("correct")


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_the_unfilled_exercise_fails(name):
    module = _exercise(name)
    stubs = [getattr(module, stub) for stub in _stub_names(module, len(ANSWERS[name]))]
    with pytest.raises(NotImplementedError):
        module.check(*stubs)


def _stub_names(module, count):
    """The functions of an exercise file that raise NotImplementedError, in file order."""
    import inspect

    names = [
        name
        for name, function in vars(module).items()
        if inspect.isfunction(function)
        and function.__module__ == module.__name__
        and "NotImplementedError" in inspect.getsource(function)
    ]
    assert len(names) == count, names
    return names


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_mistake_fails(name):
    with pytest.raises(AssertionError):
        _exercise(name).check(*MISTAKES[name])


def test_the_exercise_files_run_and_say_what_is_missing(tmp_path):
    """As a learner runs one before filling it in: it stops at the first stub, by name."""
    import subprocess

    done = subprocess.run(
        [sys.executable, str(EXERCISES / "ex01_line.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "NotImplementedError: write the gradient" in done.stderr
