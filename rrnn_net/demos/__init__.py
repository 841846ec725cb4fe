"""Reproducible demos: each writes PNG figures and a metrics JSON into an output folder.

``DEMOS`` maps a demo name to ``"module:function"``; the function takes
``(out_dir: Path, *, seed: int, fast: bool)``, writes its files through
:func:`rrnn_net._files.write_atomically` with ``metrics.json`` last, and
returns the metrics dict. ``HEADLINES`` names the metrics (dotted paths into
that dict) that :func:`summary` puts in the one line ``rrnn demo`` prints.
Adding a demo is one entry in each. :func:`run_demo` keeps each output
folder to one run (:mod:`rrnn_net.demos.outputs`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .outputs import prepare_folder, run_marker

__all__ = ["DEMOS", "HEADLINES", "get_demo", "run_demo", "summary"]

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


#: Each demo's claim in a few numbers: dotted paths into its metrics (list items by index).
HEADLINES: dict[str, tuple[str, ...]] = {
    "decoding": ("ukf_rmse_after_settling", "open_loop_rmse_after_settling"),
    "kinematics": ("rrnn_accuracy_at_100pct", "reservoir_accumulated_accuracy_at_100pct"),
    "noise": ("recognition_bank_grid_accuracy", "recognition_reservoir_accuracy"),
    "teacher_student": ("summary.0.condition", "summary.0.dominant_recovery_rate", "summary.0.median_test_nmse"),
    "topology": ("graphs.rrnn_adaptive.n_units", "graphs.rrnn_adaptive.n_locality_violations"),
    "initial_conditions": ("claim_holds", "ekf_median_time_to_tolerance_tau"),
    "predictive_coding": ("bank_leaky_median_crossover_latency_s", "network_leaky_median_crossover_latency_s"),
    "lesions": ("intact.rmse", "intact.evidence_accuracy"),
    "circuit": ("rate_circuit_rmse", "downstream_rate_error_correlation"),
}


def summary(name: str, metrics: Mapping[str, Any]) -> str:
    """One line of demo ``name``'s headline metrics, e.g. ``rrnn_accuracy_at_100pct=0.975, ...``.

    Raises
    ------
    KeyError
        A headline path that the metrics lack (a test runs every demo's).

    Examples
    --------
    >>> summary("lesions", {"intact": {"rmse": 0.2293, "evidence_accuracy": 1.0}})
    'intact.rmse=0.229, intact.evidence_accuracy=1'
    """
    return ", ".join(f"{path}={_compact(_lookup(metrics, path))}" for path in HEADLINES.get(name, ()))


def _lookup(metrics: Any, path: str) -> Any:
    value = metrics
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def _compact(value: Any) -> str:
    """Numbers to three significant digits, mappings as {key: value}; short enough for one line."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {_compact(item)}" for key, item in value.items()) + "}"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


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
