"""State RMSE vs time from many wrong initial states: UKF, EKF, Brian2 network (adaptive, fixed gain), open loop.

Usage: python demos/initial_conditions.py [--out DIR] [--seed S] [--fast]
(the same as `rrnn demo initial_conditions`).
"""

import sys

from rrnn_net.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "initial_conditions", *sys.argv[1:]]))
