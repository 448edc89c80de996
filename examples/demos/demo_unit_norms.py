"""
Unit balls of the p-norms
=========================

The set :math:`\\|x\\|_p = 1` as :math:`p` sweeps from 0.1 to 100: a cross below 1, the
diamond at 1, the circle at 2, the square as :math:`p \\to \\infty`. The demo writes an
animation; a few of its frames are shown here.
"""

import tempfile

import matplotlib.pyplot as plt
from PIL import Image, ImageSequence

from scratchml import demos

out = tempfile.mkdtemp()
result = demos.unit_norms(out=out, size="small", progress=False)
frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(Image.open(result.files[0]))]
print(f"{len(frames)} frames")

shown = frames[: len(frames) // 2 + 1]  # p going up; the rest comes back down
fig, axes = plt.subplots(1, len(shown), figsize=(3 * len(shown), 3))
for ax, frame in zip(axes, shown, strict=True):
    ax.imshow(frame)
    ax.axis("off")
plt.show()
