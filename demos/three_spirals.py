"""Three spirals (3/4 turn), eight 2-wide tanh layers, softmax output: GIF and boundary PNG.

python demos/three_spirals.py [--backend numpy|cupy|torch|array_api_strict]
    [--out DIR] [--small] [--seed N]

Pictures go to ./scratchml-demos unless --out says otherwise (--out demos/results
remakes the committed ones).
"""

import sys

from scratchml.cli import main

sys.exit(main(["demo", "three_spirals", *sys.argv[1:]]))
