"""Recognise human movements (BasicMotions smart-watch recordings) online with a bank of rRNNs.

Usage: python demos/kinematics.py [--out DIR] [--seed S] [--fast]
(the same as `rrnn demo kinematics`; the README's main job).
"""

import sys

from rrnn_net.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "kinematics", *sys.argv[1:]]))
