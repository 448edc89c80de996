"""Three spirals, the same 2-wide view with a softmax output: GIF and boundary PNG.

python demos/three_spirals.py [--backend numpy|cupy|torch|array_api_strict] [--out DIR] [--small]
"""

import sys

from scratchml.cli import main

sys.exit(main(["demo", "three_spirals", *sys.argv[1:]]))
