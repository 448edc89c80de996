"""Weight initialisation: the names and the spreads they draw."""

import math

import numpy as np
import pytest

import scratchml as sm
from scratchml.nn.init import host_params, init_scale

from .conftest import host, on


@pytest.mark.parametrize(
    ("init", "activation", "variance_times_fan_in"),
    [("lecun", "tanh", 1.0), ("xavier", "tanh", 1.0), ("he", "relu", 2.0), ("auto", "tanh", 1.0)],
)
def test_normal_inits_draw_with_their_variance(init, activation, variance_times_fan_in):
    fan_in, fan_out = 400, 300
    ((W, b),) = host_params([fan_in, fan_out], [activation], init, seed=0)
    expected = math.sqrt(variance_times_fan_in / fan_in)
    assert init_scale(init, activation, fan_in) == pytest.approx(expected, rel=1e-15)
    # 120,000 draws: the sample standard deviation is within 1% of the true one.
    assert W.std() == pytest.approx(expected, rel=0.01)
    assert abs(W.mean()) < 0.01 * expected
    np.testing.assert_array_equal(b, 0.0)


def test_lecun_is_the_name_of_the_fan_in_draw_and_xavier_keeps_meaning_it(backend):
    X, y = sm.data.spirals(n_samples=40, arms=2, seed=0)
    Xb, yb = on(backend, X), on(backend, y)
    kwargs = dict(hidden_layers=(5,), activation="tanh", epochs=1, seed=3)
    lecun = sm.MLPClassifier(init="lecun", **kwargs).fit(Xb, yb)
    xavier = sm.MLPClassifier(init="xavier", **kwargs).fit(Xb, yb)
    auto = sm.MLPClassifier(init="auto", **kwargs).fit(Xb, yb)
    for model in (xavier, auto):
        for (W, b), (W_lecun, b_lecun) in zip(model.params_, lecun.params_, strict=True):
            np.testing.assert_array_equal(host(W), host(W_lecun))
            np.testing.assert_array_equal(host(b), host(b_lecun))
