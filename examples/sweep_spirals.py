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
# The sweep's own pictures: mean validation accuracy over depth × width, and the loss curves.

fig, axes = plt.subplots(1, 2, figsize=(12, 5))
for ax, path in zip(axes, [result.heatmap, out / "curves.png"], strict=True):
    ax.imshow(plt.imread(path))
    ax.set_title(path.name)
    ax.axis("off")
plt.show()
