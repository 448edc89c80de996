"""
Linear regression by gradient descent
=====================================

Gradient descent fits a line to noisy points, next to the normal-equation solution
(:doc:`/math/linear-regression`). The demo writes an animation of the fit; here it runs
at its small size, and the frames are shown side by side.
"""

import tempfile

import matplotlib.pyplot as plt
from PIL import Image, ImageSequence

from scratchml import demos

out = tempfile.mkdtemp()
result = demos.linear_regression(out=out, size="small", seed=0, progress=False)
for name, value in result.metrics.items():
    print(f"{name:28s} {value:.4f}")

# %%
# The first, middle and last frames of the animation it wrote.

frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(Image.open(result.files[0]))]
picked = [frames[0], frames[len(frames) // 2], frames[-1]]
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
for ax, frame, title in zip(axes, picked, ["first", "middle", "last"], strict=True):
    ax.imshow(frame)
    ax.set_title(f"{title} frame")
    ax.axis("off")
plt.show()
