"""
Logistic regression with Newton's method
========================================

Two overlapping clusters separated by a logistic regression fitted with Newton's method
(:doc:`/math/logistic-regression`); the demo writes the decision boundary.
"""

import tempfile

import matplotlib.pyplot as plt

from scratchml import demos

out = tempfile.mkdtemp()
result = demos.logistic_classification(out=out, size="small", seed=0, progress=False)
print(f"training accuracy: {result.metrics['training_accuracy']:.3f}")
print("weights:", result.model.coef_.ravel(), "intercept:", result.model.intercept_)

fig, ax = plt.subplots(figsize=(6, 6))
ax.imshow(plt.imread(result.files[0]))
ax.axis("off")
plt.show()
