"""Exercise 2: the Hessian of logistic regression, and a Newton step.

With X1 = [X, 1] (n, d+1), θ = [w; b] and p = σ(X1 θ), the mean cross-entropy has the
gradient X1ᵀ(p − y)/n. Write ``hessian``, the matrix of its second derivatives
(d+1, d+1), then run this file: ``check`` compares it with central finite differences
of the gradient, and checks that Newton steps with it reach the minimum that
scikit-learn-style ``scratchml.LogisticRegression`` finds.
"""

import numpy as np

import scratchml as sm


def hessian(theta, X1):
    """∂²L/∂θ² at θ: shape (d+1, d+1)."""
    raise NotImplementedError("write the Hessian")


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gradient(theta, X1, y):
    return X1.T @ (sigmoid(X1 @ theta) - y) / len(y)


def check(hessian):
    X, y = sm.data.blobs(100, centers=np.array([[-1.0, 0.0], [1.0, 0.5]]), seed=0, dtype="float64")
    X1 = np.hstack([X, np.ones((len(X), 1))])
    theta, h = np.array([0.3, -0.2, 0.1]), 1e-6
    numeric = np.array(
        [
            (gradient(theta + h * e, X1, y) - gradient(theta - h * e, X1, y)) / (2 * h)
            for e in np.eye(3)
        ]
    )
    yours = hessian(theta, X1)
    assert np.shape(yours) == (3, 3), f"shape {np.shape(yours)}, expected (3, 3)"
    assert np.max(np.abs(yours - numeric)) < 1e-7, f"yours\n{yours}\nfinite differences\n{numeric}"
    theta = np.zeros(3)
    for _ in range(8):
        theta = theta - np.linalg.solve(hessian(theta, X1), gradient(theta, X1, y))
    model = sm.LogisticRegression().fit(X, y)
    expected = np.append(model.coef_.ravel(), model.intercept_)
    assert np.allclose(theta, expected, atol=1e-6), f"Newton gives {theta}, the library {expected}"
    print("correct")


if __name__ == "__main__":
    check(hessian)
