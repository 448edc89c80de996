"""Two spirals (a full turn), ten 2-wide tanh layers: layer-by-layer GIF and boundary PNG.

python demos/two_spirals.py [--backend numpy|cupy|torch|array_api_strict]
    [--out DIR] [--small] [--seed N]

Pictures go to ./scratchml-demos unless --out says otherwise (--out demos/results
remakes the committed ones).
"""

import sys

from scratchml.cli import main

sys.exit(main(["demo", "two_spirals", *sys.argv[1:]]))
