"""Decoding RMSE vs observation noise: rRNN (UKF) vs an echo-state decoder trained at one noise level.

Usage: python demos/noise.py [--out DIR] [--seed S] [--fast]   (the same as `rrnn demo noise`)
"""

import sys

from rrnn_net.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "noise", *sys.argv[1:]]))
