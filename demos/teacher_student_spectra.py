"""Spectral bias of BPTT: which poles of an all-pole teacher does a trained student RNN recover?

Trains linear and tanh students on all-pole IIR teachers (seeded), matches
the eigenvalues of each learned W to the teacher poles (Hungarian matching),
compares transfer functions, and writes into --out:

- metrics.json   config, findings (sentences with numbers), per-condition summary, every run
- runs.csv       one row per (condition, seed)
- summary.csv    one row per condition
- poles_polar.png, loss_curves.png, summary.png

Usage:  python demos/teacher_student_spectra.py [--fast] [--out out/teacher_student] [--seed 0]
The full study takes a few minutes; --fast (order 3, 6 seeds) about 20 s.
"""

import sys

from rrnn_net.teacher.experiment import main

if __name__ == "__main__":
    sys.exit(main())
