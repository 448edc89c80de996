"""
A deep network drawn as a graph
===============================

The original collection's 7-layer network 5 → 10 → 20 → 50 → 50 → 20 → 10 → 1 (a smaller
one at the small size), relu layers and a sigmoid output, trained on correlated normal
data; each edge is coloured by its weight (:doc:`/math/network`).
"""

import tempfile

import matplotlib.pyplot as plt

from scratchml import demos

out = tempfile.mkdtemp()
result = demos.network_graph(out=out, size="small", seed=0, progress=False)
print(f"training accuracy: {result.metrics['training_accuracy']:.3f}")
print("layer shapes:", [tuple(W.shape) for W, b in result.model.params_])

fig, ax = plt.subplots(figsize=(10, 6))
ax.imshow(plt.imread(result.files[0]))
ax.axis("off")
plt.show()
