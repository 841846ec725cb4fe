"""Teacher–student demo: does BPTT recover an IIR teacher's poles? (see :mod:`rrnn_net.teacher.experiment`).

Adapter to the demo registry; the study itself lives in the teacher package.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

from ..teacher.experiment import FAST_CONFIG, StudyConfig, run_study, write_outputs


def run(out_dir: Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run the spectral-bias study; returns the metrics written to ``out_dir/metrics.json``."""
    config = replace(FAST_CONFIG if fast else StudyConfig(), base_seed=seed)
    start = time.perf_counter()
    rows, summary, curves = run_study(config)
    write_outputs(rows, summary, curves, config, out_dir, time.perf_counter() - start)
    return json.loads((out_dir / "metrics.json").read_text())
