"""
Two and three spirals, layer by layer
=====================================

Hidden layers only 2 tanh units wide, so every layer is a map of the plane: its linear
map, its shift and its nonlinearity move the points until one line (two arms) or a
softmax (three arms) separates them. Several candidates train at once as one stack
(:doc:`/guide/stacks`); the one with the lowest final loss is kept. Small settings here;
``scratchml demo two_spirals`` makes the full-size pictures.
"""

import tempfile

import matplotlib.pyplot as plt

from scratchml import demos

out = tempfile.mkdtemp()
two = demos.two_spirals(out=out, size="small", seed=0, progress=False)
three = demos.three_spirals(out=out, size="small", seed=0, progress=False)
for result in (two, three):
    metrics = result.metrics
    print(
        f"{result.name}: training accuracy {metrics['training_accuracy']:.3f}, "
        f"{metrics['candidates_separating']:.0f} of {metrics['candidates']:.0f} candidates separate"
    )

# %%
# The decision boundaries of the kept networks (the demos also write the animations).

boundaries = [path for result in (two, three) for path in result.files if path.suffix == ".png"]
fig, axes = plt.subplots(1, len(boundaries), figsize=(12, 6))
for ax, path in zip(axes, boundaries, strict=True):
    ax.imshow(plt.imread(path))
    ax.set_title(path.stem)
    ax.axis("off")
plt.show()
