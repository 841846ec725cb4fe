"""Parameter sweeps and ensembles on Dask.

A sweep runs ``fn(**params, seed=seed)`` for every point of a parameter grid
and every seed as one Dask task each, and collects one tidy record per run
(parameters, seed, and the metrics ``fn`` returned). The local threaded
scheduler is the default; pass a ``dask.distributed.Client`` and the same call
runs on a cluster. Nothing here schedules work itself.

Examples
--------
>>> def noisy_mean(scale, seed):
...     import numpy as np
...     return {"mean": float(np.random.default_rng(seed).normal(0, scale, 100).mean())}
>>> result = sweep(noisy_mean, {"scale": [0.1, 1.0]}, seeds=[0, 1])
>>> len(result.records), sorted(result.records[0])
(4, ['mean', 'scale', 'seed'])
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._files import write_atomically
from ._validation import choice
from .errors import ParameterError, SweepError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["sweep", "SweepError", "SweepResult", "parameter_grid"]

SCHEDULERS = ("threads", "processes", "synchronous")


def parameter_grid(grid: Mapping[str, Iterable]) -> list[dict]:
    """All combinations of a grid ``{name: values}``, in a fixed order (last name varies fastest).

    Each value collection is read once, so a generator or any other one-pass iterable works as a list does.

    >>> parameter_grid({"a": [1, 2], "b": ["x"]})
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    >>> parameter_grid({"a": (2 * i for i in range(2))})
    [{'a': 0}, {'a': 2}]
    """
    if not isinstance(grid, Mapping) or not grid:
        raise ParameterError("grid must be a non-empty mapping {parameter name: list of values}")
    axes: dict[str, tuple[Any, ...]] = {}
    for name, values in grid.items():
        if name == "seed":
            raise ParameterError("'seed' is reserved; pass seeds=... instead")
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ParameterError(f"grid[{name!r}] must be a list of values, got {values!r}")
        axes[name] = tuple(values)  # read once: a generator would be empty the second time
        if not axes[name]:
            raise ParameterError(f"grid[{name!r}] is empty")
    return [dict(zip(axes, combination, strict=True)) for combination in itertools.product(*axes.values())]


@dataclass
class SweepResult:
    """Tidy records of a sweep: one dict per (grid point, seed), in grid-then-seed order."""

    records: list[dict]

    def to_json(self, path: str | Path) -> Path:
        """Write the records as a JSON list (replacing ``path`` through a temporary file renamed into place)."""
        return write_atomically(path, json.dumps(self.records, indent=2, sort_keys=True) + "\n")

    def to_csv(self, path: str | Path) -> Path:
        """Write the records as CSV with the union of their keys as columns (replacing ``path`` atomically)."""
        columns = sorted({key for record in self.records for key in record})
        table = io.StringIO(newline="")
        writer = csv.DictWriter(table, fieldnames=columns)
        writer.writeheader()
        writer.writerows(self.records)
        return write_atomically(path, table.getvalue())

    def column(self, name: str) -> list:
        """The values of one field across all records."""
        return [record.get(name) for record in self.records]


def sweep(
    fn: Callable[..., Mapping],
    grid: Mapping[str, Iterable],
    *,
    seeds: Sequence[int] = (0,),
    client: Client | None = None,
    scheduler: str = "threads",
) -> SweepResult:
    """Run ``fn`` over a parameter grid × seeds as Dask tasks and collect tidy records.

    Parameters
    ----------
    fn : callable
        Called as ``fn(**params, seed=seed)``; must return a mapping of metrics
        (JSON-serialisable scalars). It must derive all randomness from ``seed``
        so that reruns give identical records.
    grid : mapping of str to iterable
        Parameter values to combine (see :func:`parameter_grid`; generators work).
    seeds : sequence of int
        Seeds run for every grid point.
    client : dask.distributed.Client, optional
        Run on this client (local or remote cluster) instead of a local scheduler.
    scheduler : {"threads", "processes", "synchronous"}
        Local Dask scheduler used when ``client`` is None. Use "processes" for
        pure-Python-heavy functions (with a picklable, module-level ``fn``).

    Returns
    -------
    SweepResult
        One record per run: the parameters, ``seed``, and the returned metrics.

    Raises
    ------
    SweepError
        ``fn`` raised for some runs. Every run is still attempted; the error
        names the failed grid points and seeds (the first one's exception is
        its cause) and carries the finished runs' records in ``records`` and
        each failure in ``failures``.
    ParameterError
        Bad arguments, or ``fn`` returned something other than a mapping of
        metrics whose names differ from the parameters' (the run is named).
    """
    import dask

    if not callable(fn):
        raise ParameterError(f"fn must be callable, got {type(fn).__name__}")
    choice(scheduler, SCHEDULERS, "scheduler")
    seeds = list(seeds)
    if not seeds or not all(isinstance(seed, int) and not isinstance(seed, bool) for seed in seeds):
        raise ParameterError(f"seeds must be a non-empty list of integers, got {seeds!r}")
    runs = [(params, seed) for params in parameter_grid(grid) for seed in seeds]
    tasks = [dask.delayed(_run_one)(fn, params, seed) for params, seed in runs]
    if client is not None:
        outcomes = client.gather(client.compute(tasks))
    else:
        outcomes = dask.compute(*tasks, scheduler=scheduler)
    records: list[dict] = []
    failures: list[tuple[dict, int, BaseException]] = []
    for (params, seed), outcome in zip(runs, outcomes, strict=True):
        if isinstance(outcome, _Failure):
            failures.append((params, seed, outcome.error))
        else:
            records.append(_record(params, seed, outcome))
    if failures:
        params, seed, error = failures[0]
        more = f" and {len(failures) - 1} more run(s)" if len(failures) > 1 else ""
        raise SweepError(f"fn raised {type(error).__name__}: {error} at {_point(params, seed)}{more}; "
                         f"{len(records)} of {len(runs)} run(s) finished (their records are in .records)",
                         records, failures) from error
    return SweepResult(records=records)


@dataclass(frozen=True)
class _Failure:
    """What a run whose function raised returns instead, so that the other runs' results are kept."""

    error: BaseException


def _run_one(fn: Callable[..., Mapping], params: dict, seed: int) -> Mapping | _Failure:
    try:
        return fn(**params, seed=seed)
    except Exception as error:  # reported with its grid point by sweep, which raises it after the other runs
        return _Failure(error)


def _record(params: dict, seed: int, metrics: object) -> dict:
    if not isinstance(metrics, Mapping):
        raise ParameterError(f"the swept function must return a mapping of metrics, got {type(metrics).__name__} "
                             f"at {_point(params, seed)}")
    clash = set(metrics) & (set(params) | {"seed"})
    if clash:
        raise ParameterError(f"metric names clash with parameter names: {sorted(clash)} (at {_point(params, seed)})")
    return {**params, "seed": seed, **metrics}


def _point(params: dict, seed: int) -> str:
    """``"a=2, seed=0"``: one run's grid point and seed, for messages."""
    return ", ".join(f"{name}={value!r}" for name, value in {**params, "seed": seed}.items())
