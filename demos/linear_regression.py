"""A line fitted by gradient descent, frame by frame, with the loss (GIF).

python demos/linear_regression.py [--backend numpy|cupy|torch|array_api_strict]
    [--out DIR] [--small] [--seed N]

Pictures go to ./scratchml-demos unless --out says otherwise (--out demos/results
remakes the committed ones).
"""

import sys

from scratchml.cli import main

sys.exit(main(["demo", "linear_regression", *sys.argv[1:]]))
