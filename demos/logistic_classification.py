"""Two clusters, a logistic decision line and its probability contours (PNG).

python demos/logistic_classification.py [--backend numpy|cupy|torch|array_api_strict]
    [--out DIR] [--small] [--seed N]

Pictures go to ./scratchml-demos unless --out says otherwise (--out demos/results
remakes the committed ones).
"""

import sys

from scratchml.cli import main

sys.exit(main(["demo", "logistic_classification", *sys.argv[1:]]))
