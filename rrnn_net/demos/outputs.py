"""A demo's output folder holds the files of one run: a run marker first, ``metrics.json`` last.

Before a demo runs, :func:`prepare_folder` writes ``run.json`` (the run
marker: demo name, seed, fast) into the folder and removes any
``metrics.json`` there; each demo writes ``metrics.json`` last, so a folder
whose marker has no ``metrics.json`` beside it holds an interrupted run.
Every file is written through a temporary file renamed into place
(:func:`rrnn_net._files.write_atomically`), so none is ever truncated.

A folder may be run into again by the same run (same demo, seed and fast
setting: the same files, replaced). A folder holding another run's files is
refused, or with ``force`` emptied of its files first; a folder holding files
but no marker was not written by ``rrnn demo`` and is always refused (nothing
would tell its files from a user's, so none is deleted).

Examples
--------
>>> import shutil, tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> prepare_folder(folder, run_marker("decoding", seed=0, fast=True), force=False)
>>> prepare_folder(folder, run_marker("decoding", seed=1, fast=True), force=False)  # doctest: +ELLIPSIS
Traceback (most recent call last):
rrnn_net.errors.OutputConflictError: ... holds demo decoding (seed 0, fast), not demo decoding (seed 1, fast): ...
>>> shutil.rmtree(folder)
"""

from __future__ import annotations

import json
from pathlib import Path

from .._files import write_atomically
from .._validation import check_seed
from ..errors import OutputConflictError

__all__ = ["METRICS", "RUN_MARKER", "prepare_folder", "run_marker"]

#: Written last by every demo: a run is complete when its folder holds it.
METRICS = "metrics.json"
#: Written first: which run the folder's files belong to.
RUN_MARKER = "run.json"
_FORMAT = "rrnn_net.demo_run"
_VERSION = 1


def run_marker(demo: str, *, seed: int, fast: bool) -> dict:
    """What identifies a run: the files of two runs with equal markers have the same names and meaning."""
    seed = check_seed(seed)  # ints and numpy integers, as JSON writes and reads them back
    return {"format": _FORMAT, "version": _VERSION, "demo": demo, "seed": seed, "fast": bool(fast)}


def prepare_folder(folder: Path, marker: dict, *, force: bool) -> None:
    """Make ``folder`` ready for the run ``marker``: created, checked, marked, its old ``metrics.json`` gone.

    Parameters
    ----------
    folder : Path
        The output folder (created with its parents where missing).
    marker : dict
        :func:`run_marker` of the run about to write there.
    force : bool
        Delete the files (not subfolders) of another run in ``folder`` instead of refusing.

    Raises
    ------
    OutputConflictError
        ``folder`` holds another run's files (without ``force``), or files without a run marker.
    """
    folder.mkdir(parents=True, exist_ok=True)
    previous = _read_marker(folder / RUN_MARKER)
    if previous is None and any(folder.iterdir()):
        raise OutputConflictError(f"{folder} holds files but no run marker ({RUN_MARKER}): not an rrnn demo folder "
                                  "(or one from a version before run markers); choose a new or empty folder")
    if previous is not None and previous != marker:
        if not force:
            raise OutputConflictError(f"{folder} holds {_describe(previous)}, not {_describe(marker)}: its files "
                                      "would mix with this run's; choose another folder, or --force to delete them")
        for entry in folder.iterdir():
            if not entry.is_dir():
                entry.unlink()
    # Before anything else is written: an interrupted rerun must not look complete by the old run's metrics.
    (folder / METRICS).unlink(missing_ok=True)
    write_atomically(folder / RUN_MARKER, json.dumps(marker, indent=2, sort_keys=True) + "\n")


def _read_marker(path: Path) -> dict | None:
    """The run marker at ``path``; None when there is none, or the file there is not one written here."""
    if not path.is_file():
        return None
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return None
    return marker if isinstance(marker, dict) and marker.get("format") == _FORMAT else None


def _describe(marker: dict) -> str:
    return f"demo {marker.get('demo')} (seed {marker.get('seed')}, {'fast' if marker.get('fast') else 'full'})"
