"""Reproducible demos: each writes PNG figures and a metrics JSON into an output folder.

``DEMOS`` maps a demo name to ``"module:function"``; the function takes
``(out_dir: Path, *, seed: int, fast: bool)``, writes its files through
:func:`rrnn_net._files.write_atomically` with ``metrics.json`` last, and
returns the metrics dict. Adding a demo is one entry here. :func:`run_demo`
keeps each output folder to one run (:mod:`rrnn_net.demos.outputs`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from .outputs import prepare_folder, run_marker

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
    "circuit": "rrnn_net.demos.circuit:run",
}


def get_demo(name: str) -> Callable[..., dict]:
    """The run function of demo ``name``; raises KeyError listing the known demos."""
    if name not in DEMOS:
        raise KeyError(f"unknown demo {name!r}; known demos: {', '.join(sorted(DEMOS))}")
    module_name, function_name = DEMOS[name].split(":")
    return getattr(importlib.import_module(module_name), function_name)


def run_demo(name: str, out_dir: str | Path, *, seed: int = 0, fast: bool = False, force: bool = False) -> dict:
    """Run demo ``name`` writing into ``out_dir``; returns its metrics.

    Parameters
    ----------
    name : str
        A key of :data:`DEMOS`.
    out_dir : str or Path
        The output folder: new, empty, or holding this same run (same demo,
        seed and ``fast``), whose files are replaced. Created where missing.
    seed : int
        Random seed (a Python or numpy integer).
    fast : bool
        The small, quick variant.
    force : bool
        Delete the files of another run in ``out_dir`` first instead of refusing.

    Raises
    ------
    KeyError
        Unknown demo.
    ParameterError
        ``seed`` is not an integer.
    OutputConflictError
        ``out_dir`` holds another run's files (without ``force``) or files
        ``rrnn demo`` did not write (see :func:`~rrnn_net.demos.outputs.prepare_folder`).
    """
    run = get_demo(name)
    out_dir = Path(out_dir)
    marker = run_marker(name, seed=seed, fast=fast)
    prepare_folder(out_dir, marker, force=force)
    return run(out_dir, seed=marker["seed"], fast=marker["fast"])
