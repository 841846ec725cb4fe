"""Compile, summarise, draw and export (GraphML, JSON) the adaptive and fixed-gain rRNN and the baseline RNN.

Usage: python demos/topology.py [--out DIR] [--seed S] [--fast]
(the same as `rrnn demo topology`).
"""

import sys

from rrnn_net.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "topology", *sys.argv[1:]]))
