"""Running a built network on Brian2's targets: numpy and Cython (runtime device) and C++ standalone.

Runtime targets build the network with the numpy code generator (the one-off
``connect`` code then costs no compilation) and switch to the requested
target for the run, so Cython compiles only the per-step code objects. The
Cython extension cache lives where Brian2 puts it (``~/.cython/brian_extensions``,
``$CYTHON_CACHE_DIR`` or ``prefs.codegen.runtime.cython.cache_dir``) unless
a ``build_dir`` is given; objects have fixed names, so a later process with
the same network structure reuses every compiled object. Within a process
the last runtime network stays built: a call with the same code structure,
input shape and options restores its initial state and loads the new
weights, unit parameters and observations into it instead of building again.

C++ standalone holds one project per process. The last project stays loaded:
a run with the same graph, options and input shape only calls its compiled
binary again, passing the new observations as ``run_args`` (no code
generation, no compilation). Any other network re-initialises the device and
writes its project into a directory named by the code-shaping structure, in
the per-user cache (``$XDG_CACHE_HOME/rrnn_net/standalone`` or
``~/.cache/rrnn_net/standalone``), so ``make`` recompiles no code object when
that structure was built there before (new weights only change the data
files). Only ``main.o`` may be recompiled: Brian2 writes the resets of the
network's two clocks into ``main.cpp`` in the iteration order of a set of
clocks, which follows their memory addresses, so that order can differ
between builds.
Project directories are private (see :func:`standalone_directory`).

One network is kept per process, runtime or standalone: building either
releases the other, whose live objects would otherwise rename the new code
objects (``_release_loaded``). Alternating targets therefore rebuilds, from
the caches above.
"""

from __future__ import annotations

import gc
import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import brian2
import numpy as np
from brian2 import Network, TimedArray, get_device, set_device
from brian2.devices.cpp_standalone.device import cpp_standalone_device
from brian2.devices.device import reset_device
from brian2.utils.filelock import FileLock

from .._files import private_directory, user_cache_directory, write_atomically
from ..errors import ParameterError
from .brian2_build import check_schedule, preferences
from .brian2_circuit import RRNNCircuit
from .layout import GraphLayout, SampledInputs

__all__ = [
    "REPORT_STREAMS",
    "TARGETS",
    "Target",
    "TargetRun",
    "check_report",
    "digest",
    "run_runtime",
    "run_standalone",
    "standalone_directory",
]

#: Progress reports every target accepts; runtime targets also take a callable. Brian2 would compile any
#: other string into the standalone binary as C++ code, so none is passed on.
REPORT_STREAMS = ("text", "stdout", "stderr")
#: A progress report: None, one of :data:`REPORT_STREAMS`, or ``report(elapsed, completed, start, duration)``.
Report: TypeAlias = str | Callable[[float, float, float, float], object] | None


@dataclass
class TargetRun:
    """What a target returns.

    Attributes
    ----------
    recordings : dict
        :meth:`RRNNCircuit.recordings` of the run.
    build_seconds : float
        Network construction, code generation and compilation (zero compilation on a warm cache).
    run_seconds : float
        The simulation loop as Brian2 times it (standalone: inside the binary, which also spends
        time loading its arrays and writing results).
    rebuilt : bool
        False when the loaded network (runtime) or binary (standalone) was reused.
    project_directory : Path or None
        Standalone: the project directory that was built or reused; None for runtime targets.
    """

    recordings: dict[str, dict]
    build_seconds: float
    run_seconds: float
    rebuilt: bool
    project_directory: Path | None = None


def check_report(report: object, target: str) -> None:
    """Raise :class:`ParameterError` unless ``report`` is None, a stream name or (runtime targets) a callable."""
    if report is None or (isinstance(report, str) and report in REPORT_STREAMS):
        return
    callable_report = TARGETS[target].callable_report
    if callable(report) and callable_report:
        return
    allowed = f"None, {', '.join(map(repr, REPORT_STREAMS))}" + (" or a callable" if callable_report else "")
    raise ParameterError(f"report must be {allowed} on target {target!r}, got {report!r}")


def network_of(circuit: RRNNCircuit) -> Network:
    """The network that runs ``circuit`` alone, its schedule checked against Brian2's own."""
    network = Network(circuit, name=f"{circuit.name}_network")
    check_schedule(network, circuit.depends_on)
    return network


@dataclass
class _Loaded:
    """A built network kept for the next call with the same key."""

    key: str
    network: Network
    circuit: RRNNCircuit
    numbers: str  # the built graph's numbers, which restoring the stored state brings back


_STORED = "built"
_runtime_loaded: _Loaded | None = None


def run_runtime(build: Callable[[], RRNNCircuit], layout: GraphLayout, inputs: SampledInputs, *, key: str,
                target: str, report: Report, build_dir: Path | None) -> TargetRun:
    """Build with the numpy generator (or reuse the last network of the same ``key``), run on ``target``.

    ``build_dir`` (Cython only) replaces the extension cache directory for this run.
    """
    global _runtime_loaded
    start = time.perf_counter()
    loaded = _runtime_loaded
    rebuilt = loaded is None or loaded.key != key
    if loaded is not None and not rebuilt:
        loaded.network.restore(_STORED)
        loaded.circuit.reload(layout, inputs, numbers=layout.numbers_digest != loaded.numbers)
    else:
        loaded = None  # no reference may keep the old network alive while the new one is named
        _release_loaded()
        if report is not None and target != "numpy":
            _notice(f"brian2 {target}: generating the network's code and compiling what the cache lacks "
                    "(the first run of a network takes longest; cached afterwards)")
        with preferences({"codegen.target": "numpy"}):
            circuit = build()
            loaded = _Loaded(key, network_of(circuit), circuit, layout.numbers_digest)
        loaded.network.store(_STORED)
        _runtime_loaded = loaded
    run_prefs: dict[str, object] = {"codegen.target": target}
    if build_dir is not None:
        # Compiled extensions are loaded from there: as for standalone, only from a folder of the user's own.
        run_prefs["codegen.runtime.cython.cache_dir"] = str(private_directory(build_dir))
    with preferences(run_prefs):
        loaded.network.run(loaded.circuit.duration, report=report)
    total = time.perf_counter() - start
    simulated = get_device()._last_run_time  # Brian2's timing of the step loop, after code generation
    return TargetRun(loaded.circuit.recordings(), total - simulated, simulated, rebuilt=rebuilt)


@dataclass
class _StandaloneProject:
    key: str
    directory: Path
    circuit: RRNNCircuit


_loaded: _StandaloneProject | None = None
_STAMP = "rrnn_net_project_key.txt"
_LOCK = "rrnn_net_project.lock"


def standalone_directory(structure_key: str, build_dir: Path | None) -> Path:
    """The project directory, created (mode 0700) where missing and checked before every use.

    Brian2 rewrites only the sources that changed and ``make`` rebuilds only
    what changed, so a ``main`` binary planted in a project directory would
    be run. A directory another user owns or can write to is refused.

    Parameters
    ----------
    structure_key : str
        Digest of what shapes the generated code; its first 16 characters name the default directory.
    build_dir : Path, optional
        The directory to use instead of ``standalone/KEY`` in the per-user cache
        (:func:`~rrnn_net._files.user_cache_directory`); checked the same way.

    Raises
    ------
    UnsafeDirectoryError
        The directory, or a cache folder above the default one, belongs to
        another user or is writable by group or others.
    """
    if build_dir is not None:
        return private_directory(build_dir)
    root = user_cache_directory()
    return private_directory(root / "standalone" / structure_key[:16], root=root)


def run_standalone(build: Callable[[], RRNNCircuit], inputs: SampledInputs, *, structure_key: str, key: str,
                   report: Report, build_dir: Path | None) -> TargetRun:
    """Run on C++ standalone, reusing the loaded binary when ``key`` is unchanged.

    The project directory may be shared by processes (the default one is named
    by the structure alone): a file lock inside it serialises builds and runs
    there, and a stamp of ``key`` written after each build tells a process
    whether the project on disk still holds its graph's numbers or another's.

    Parameters
    ----------
    build : callable
        Builds the network on the current device (called only for a new project).
    inputs : SampledInputs
        Observations of this run, passed to the binary as TimedArray ``run_args``.
    structure_key : str
        Digest of everything that shapes the generated code; names the default directory.
    key : str
        Digest of the structure, the graph's numbers and the options: an equal key reuses the loaded binary.
    report : str or None
        Brian2 progress report (``"text"``, ``"stdout"``, ``"stderr"``), compiled into the binary
        (so it belongs in ``key``).
    build_dir : Path, optional
        Project directory instead of the default.

    Raises
    ------
    UnsafeDirectoryError
        See :func:`standalone_directory`.
    """
    global _loaded
    start = time.perf_counter()
    directory = standalone_directory(structure_key, build_dir)
    stamp = directory / _STAMP
    with FileLock(str(directory / _LOCK)):
        project = _loaded
        current = stamp.is_file() and stamp.read_text() == key
        rebuilt = project is None or project.key != key or project.directory != directory or not current
        if rebuilt:
            project = None
            _release_loaded()  # re-initialising the device invalidates the loaded project anyway
            if report is not None:
                _notice(f"brian2 cpp_standalone: building the project in {directory} (first run of this network "
                        "structure takes longest; make reuses the compiled files afterwards)")
            project = _StandaloneProject(key, directory, _build_project(build, directory, report))
            write_atomically(stamp, key)
            _loaded = project
        assert project is not None  # built above, or the loaded one reused
        built_at = time.perf_counter()
        # The binary's stdout carries the progress report; without one it goes to a file.
        cpp_standalone_device.run(directory=str(directory), with_output=report is not None,
                                  run_args=built_inputs(project.circuit, inputs))
        recordings = project.circuit.recordings()
    return TargetRun(recordings, built_at - start, cpp_standalone_device._last_run_time, rebuilt, directory)


def _release_loaded() -> None:
    """Forget the loaded runtime network and standalone project, and collect their Brian2 objects.

    Called before a network is built. Brian2 numbers a code object's name (``…_codeobject_1``) while
    another object of that name is alive, so a network built beside the last one, of either kind, would
    get other names than in a fresh process: new source files, and a standalone project recompiled
    although its structure was built there before. Brian2 objects form reference cycles, hence the
    collection.
    """
    global _runtime_loaded, _loaded
    _runtime_loaded = _loaded = None
    gc.collect()


def _notice(message: str) -> None:
    """A line on stderr before a long, silent step (code generation, compilation), when progress is shown."""
    print(message + "…", file=sys.stderr, flush=True)


def built_inputs(circuit: RRNNCircuit, inputs: SampledInputs) -> dict[TimedArray, np.ndarray]:
    """``run_args`` mapping each input TimedArray of ``circuit`` to this run's values."""
    return dict(zip(circuit.input_arrays, circuit.input_values(inputs), strict=True))


def _build_project(build: Callable[[], RRNNCircuit], directory: Path, report: Report) -> RRNNCircuit:
    """Generate and compile a standalone project without running it; the runtime device is restored after."""
    cpp_standalone_device.reinit()
    set_device(cpp_standalone_device, build_on_run=False)
    try:
        circuit = build()
        network_of(circuit).run(circuit.duration, report=report)
        cpp_standalone_device.build(directory=str(directory), compile=True, run=False, with_output=False)
    finally:
        reset_device()
    return circuit


def digest(*parts: object) -> str:
    """Stable hex digest of ``parts`` (their ``repr``) and the Brian2 version."""
    return hashlib.sha256(repr((brian2.__version__, *parts)).encode()).hexdigest()


# ------------------------------------------------------------------ registry
@dataclass(frozen=True)
class Target:
    """A Brian2 code-generation target.

    Attributes
    ----------
    name : str
    run : callable
        ``run(build, layout, inputs, options, report, build_dir) -> TargetRun``; ``build()`` builds
        the network on the current device, ``options`` is what else shapes the generated code.
    callable_report : bool
        Whether a Python callable may report progress (not inside a compiled binary).
    """

    name: str
    run: Callable[..., TargetRun]
    callable_report: bool


def _runtime(target: str) -> Callable[..., TargetRun]:
    def run(build: Callable[[], RRNNCircuit], layout: GraphLayout, inputs: SampledInputs, options: tuple,
            report: Report, build_dir: Path | None) -> TargetRun:
        # The report is not part of the generated code on runtime targets.
        key = digest(layout.code_structure(), inputs.observations.shape, options[:-1])
        return run_runtime(build, layout, inputs, key=key, target=target, report=report, build_dir=build_dir)

    return run


def _standalone(build: Callable[[], RRNNCircuit], layout: GraphLayout, inputs: SampledInputs, options: tuple,
                report: Report, build_dir: Path | None) -> TargetRun:
    """Standalone run keyed by what its code depends on (structure, input shape, options) and by the numbers."""
    structure = (layout.code_structure(), inputs.observations.shape, *options)
    key = digest(structure, layout.numbers_digest)
    return run_standalone(build, inputs, structure_key=digest(structure), key=key, report=report, build_dir=build_dir)


#: Target name -> :class:`Target`.
TARGETS: dict[str, Target] = {
    target.name: target for target in (
        Target("numpy", _runtime("numpy"), callable_report=True),
        Target("cython", _runtime("cython"), callable_report=True),
        Target("cpp_standalone", _standalone, callable_report=False),
    )
}
