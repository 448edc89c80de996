"""
A sweep on real data: the smallest network that reads handwritten digits
==========================================================================

scikit-learn ships 1,797 handwritten digits as 8 × 8 images (64 pixel features, ten
classes). Written to a CSV file, they are what a researcher brings to ``scratchml sweep
--data``. Two questions, answered without pandas (:doc:`/guide/sweeps`):

1. Which is the smallest network that reaches 90% accuracy on *validation* data in at
   least 2 of its 3 seeds — and what does it score on the test data it was never chosen on?
2. How do the learning rate and the L2 penalty interact?

The pixels range from 0 to 16; ``standardize`` scales each one by the mean and standard
deviation of each split's training rows (never of its validation or test rows).
"""

import csv
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from scratchml import sweep

folder = Path(tempfile.mkdtemp())
digits = load_digits()
with open(folder / "digits.csv", "w", newline="") as file:
    writer = csv.writer(file)
    writer.writerow([f"pixel{i}" for i in range(64)] + ["digit"])
    for image, label in zip(digits.data, digits.target, strict=True):
        writer.writerow([*image.tolist(), int(label)])

# %%
# The sweep: 2 depths × 3 widths × 3 learning rates × 3 L2 penalties × 3 seeds = 162
# networks, one held-out split (20% validation, 20% test). From the command line::
#
#     scratchml sweep --data digits.csv --target digit --standardize \
#         --depth 1 2 --width 4 8 16 --learning-rate 0.003 0.01 0.03 --l2 0 0.001 0.01 \
#         --seeds 3 --epochs 60 --threshold 0.9 --min-seeds 2 --out sweeps/digits

X, y = sweep.read_file(folder / "digits.csv", target="digit")
grid = {
    "depth": [1, 2],
    "width": [4, 8, 16],
    "learning_rate": [0.003, 0.01, 0.03],
    "l2": [0.0, 0.001, 0.01],
    "seeds": 3,
}
out = folder / "sweep"
result = sweep.run(
    X, y, grid, out, name="digits.csv", epochs=60, standardize=True,
    threshold=0.9, min_seeds=2, progress=False,
)  # fmt: skip
print(f"{result.n_trained} networks in {result.seconds:.1f} s")

# %%
# **1. The smallest reliable network.** Success is judged on validation; the test
# score of what was chosen is reported beside it.

data = sweep.load(out)
smallest = data.smallest_reliable()
assert smallest is not None, "no configuration reached 0.9 in every seed"
print(
    f"depth {smallest['depth']}, width {smallest['width']} "
    f"({smallest['n_parameters']} parameters), learning rate {smallest['learning_rate']:g}, "
    f"l2 {smallest['l2']:g}: validation ≥ 0.9 in {smallest['successes']} of "
    f"{smallest['networks']} seeds; validation {smallest['mean_validation_accuracy']:.3f} "
    f"± {smallest['sd_validation_accuracy']:.3f}, test {smallest['mean_test_accuracy']:.3f} "
    f"± {smallest['sd_test_accuracy']:.3f}"
)
assert smallest["reliable"] and smallest["successes"] >= 2

# %%
# The sweep's own picture of it: per depth × width (the other keys pooled per panel),
# the share of networks reaching 0.9 on validation.

fig, ax = plt.subplots(figsize=(11, 6))
ax.imshow(plt.imread(out / "success.png"))
ax.axis("off")
plt.show()

# %%
# **2. Learning rate × L2.** Each cell pools every network with that pair of values
# (depths, widths and seeds): mean ± sd of the validation accuracy and how many reach 0.9.

print(data.table("learning_rate", "l2"))
fig, ax = plt.subplots(figsize=(8, 5))
ax.imshow(plt.imread(out / "heatmap-learning_rate-l2.png"))
ax.axis("off")
plt.show()
