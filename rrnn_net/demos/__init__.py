"""Reproducible demos: each writes PNG figures and a metrics JSON into an output folder.

``DEMOS`` maps a demo name to ``"module:function"``; the function takes
``(out_dir: Path, *, seed: int, fast: bool)`` and returns the metrics dict.
Adding a demo is one entry here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

__all__ = ["DEMOS", "get_demo", "run_demo"]

DEMOS: dict[str, str] = {
    "decoding": "rrnn_net.demos.decoding:run",
    "kinematics": "rrnn_net.demos.kinematics:run",
    "noise": "rrnn_net.demos.noise:run",
    "teacher_student": "rrnn_net.demos.teacher_student:run",
    "topology": "rrnn_net.demos.topology:run",
    "initial_conditions": "rrnn_net.demos.initial_conditions:run",
    "predictive_coding": "rrnn_net.demos.predictive_coding:run",
    "lesions": "rrnn_net.demos.lesions:run",
}


def get_demo(name: str) -> Callable[..., dict]:
    """The run function of demo ``name``; raises KeyError listing the known demos."""
    if name not in DEMOS:
        raise KeyError(f"unknown demo {name!r}; known demos: {', '.join(sorted(DEMOS))}")
    module_name, function_name = DEMOS[name].split(":")
    return getattr(importlib.import_module(module_name), function_name)


def run_demo(name: str, out_dir: str | Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run demo ``name`` writing into ``out_dir`` (created if needed); returns its metrics."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return get_demo(name)(out_dir, seed=seed, fast=fast)
