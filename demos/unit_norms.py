"""The unit p-norm ball as p sweeps from 0.1 to 100 and back (GIF).

python demos/unit_norms.py [--backend numpy|cupy|torch|array_api_strict]
    [--out DIR] [--small] [--seed N]

Pictures go to ./scratchml-demos unless --out says otherwise (--out demos/results
remakes the committed ones).
"""

import sys

from scratchml.cli import main

sys.exit(main(["demo", "unit_norms", *sys.argv[1:]]))
