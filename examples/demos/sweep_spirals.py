"""
A sweep: which networks separate the spirals?
=============================================

A sweep trains every network of a grid — here depth × width over four seeds, 24 small
networks — as stacks of networks of one shape (:doc:`/guide/sweeps`), and writes
``results.csv``, ``summary.md`` and pictures. The settings are small so that it runs in
seconds; the committed sweep (``demos/sweep_depth_width.toml``) has thousands of networks.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from scratchml import sweep

out = Path(tempfile.mkdtemp()) / "spirals"
grid = {"depth": [1, 2, 3], "width": [2, 8], "learning_rate": [0.03], "seeds": 4}
result = sweep.run(grid, out=out, epochs=300, progress=False)
print(f"{result.n_trained} networks in {result.seconds:.1f} s")
print("files:", sorted(path.name for path in out.iterdir()))

# %%
# One row per configuration (every grid key but the seed): the share of seeds that reach
# the threshold on validation data, and the mean test accuracy over seeds beside it.

data = sweep.load(out)
configs = data.configs
rows = configs.to_dict("records") if hasattr(configs, "to_dict") else configs
for row in rows:
    print(
        f"depth {row['depth']}  width {row['width']}:  "
        f"success rate {row['success_rate']:.2f} over {row['seeds']} seeds (validation), "
        f"mean test accuracy {row['mean_test_accuracy']:.3f}"
    )

# %%
# The sweep's own pictures, each at the width of the page: mean validation accuracy over
# depth × width, then the loss curves (the PNGs it wrote, their white margins cut off).


def without_margin(path):
    """The picture at ``path`` with its white margin cut off."""
    image = plt.imread(path)
    ink = np.argwhere((image[..., :3] < 0.98).any(axis=-1))
    (top, left), (bottom, right) = ink.min(axis=0), ink.max(axis=0) + 1
    return image[top:bottom, left:right]


def show(path):
    """One picture the sweep wrote, in a figure of its own proportions."""
    image = without_margin(path)
    fig, ax = plt.subplots(figsize=(10, 10 * image.shape[0] / image.shape[1]))
    ax.imshow(image)
    ax.axis("off")
    fig.tight_layout(pad=0.2)
    plt.show()


show(result.heatmap)

# %%
# The loss curves of the best and the worst configurations, one line per seed.
show(out / "curves.png")
