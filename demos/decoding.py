"""Decode the hidden state of a tanh RNN with the rRNN (UKF) from a wrong start.

Usage: python demos/decoding.py [--out DIR] [--seed S] [--fast]
(the same as `rrnn demo decoding`).
"""

import sys

from rrnn_net.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "decoding", *sys.argv[1:]]))
