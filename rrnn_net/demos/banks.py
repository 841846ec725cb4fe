"""The learned recognition bank of the demos: the defaults in a full run, a small one in the tests' fast run."""

from __future__ import annotations

from typing import Any

FAST_STEPS = {"evidence_steps": 40, "conditional_steps": 20, "init_epochs": 30}


def bank_options(fast: bool) -> dict[str, Any]:
    """Keyword arguments of :class:`~rrnn_net.RRNNClassifier` for a demo's bank.

    A full run keeps the classifier's defaults (three banks) and learns the banks in worker processes, one per
    CPU. The fast run (the tests' run) learns one bank, with fewer steps, in its own process: no workers to start.

    Examples
    --------
    >>> bank_options(fast=True)["n_members"]
    1
    >>> bank_options(fast=False)
    {'n_jobs': -1}
    """
    if fast:
        return {"n_members": 1, "fit_options": dict(FAST_STEPS), "n_jobs": None}
    return {"n_jobs": -1}
