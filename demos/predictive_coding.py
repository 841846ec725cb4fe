"""Prediction errors, surprise and the recognition bank's posterior when the input dynamics switch.

Usage: python demos/predictive_coding.py [--out DIR] [--seed S] [--fast]
(the same as `rrnn demo predictive_coding`).
"""

import sys

from rrnn_net.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "predictive_coding", *sys.argv[1:]]))
