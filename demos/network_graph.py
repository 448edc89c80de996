"""The original 7-layer network trained on correlated normal data, drawn with its weights (PNG).

python demos/network_graph.py [--backend numpy|cupy|torch|array_api_strict]
    [--out DIR] [--small] [--seed N]

Pictures go to ./scratchml-demos unless --out says otherwise (--out demos/results
remakes the committed ones).
"""

import sys

from scratchml.cli import main

sys.exit(main(["demo", "network_graph", *sys.argv[1:]]))
