"""Backends that execute compiled graphs: one entry point, a registry of backends, one result type.

``run(graph, observations, backend="brian2", **options)`` builds the network
of a graph from the graph alone — one object per node kind and per edge kind,
through the backend's template registry — runs it, and returns what the numpy
decoders return (:class:`~rrnn_net.filters.FilterResult`, or
:class:`BaselineResult` for a baseline graph). Backends:

``"reference"``
    :func:`~rrnn_net.backends.reference.run_reference`, a plain numpy Euler
    evaluation from the kind records (no options but ``step``, ``record``, ``progress``).
``"brian2"``
    :func:`~rrnn_net.backends.brian2_run.run_brian2`, Brian2 rate-neuron
    equations on a registered Brian2 target (``target="numpy"``, ``"cython"``,
    ``"cpp_standalone"``; see :data:`~rrnn_net.backends.brian2_targets.TARGETS`),
    built on :class:`~rrnn_net.backends.brian2_circuit.RRNNCircuit`, the
    graph as one Brian2 object for one's own network.

A backend is a function ``run_x(graph, observations, *, step=None, record=(), **options)``
registered with :func:`register_backend`; it is imported when first used (Brian2 is slow to import).

Examples
--------
>>> from rrnn_net import GenerativeRNN
>>> from rrnn_net.graph import compile_rrnn
>>> model = GenerativeRNN.oscillator(3, 2, substeps=2, seed=0)
>>> _, y = model.simulate(20, seed=1)
>>> run(compile_rrnn(model, gain_mode="fixed"), y[0], backend="reference").loglik.shape
(20,)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import networkx as nx
from numpy.typing import ArrayLike

from .._validation import check_keyword_options, choice
from ..errors import ParameterError
from .layout import BaselineResult
from .registry import MissingTemplateError, TemplateRegistry

if TYPE_CHECKING:  # for type checkers; at run time these come from __getattr__ below
    from ..filters.result import FilterResult
    from .brian2_circuit import RRNNCircuit
    from .brian2_run import run_brian2
    from .reference import run_reference

__all__ = [
    "BACKENDS",
    "BaselineResult",
    "MissingTemplateError",
    "RRNNCircuit",
    "TemplateRegistry",
    "backend_function",
    "register_backend",
    "run",
    "run_brian2",
    "run_reference",
]

#: Backend name -> ``"module:function"`` (imported on first use) or the function itself.
BACKENDS: dict[str, str | Callable] = {
    "reference": "rrnn_net.backends.reference:run_reference",
    "brian2": "rrnn_net.backends.brian2_run:run_brian2",
}


def register_backend(name: str, function: str | Callable) -> None:
    """Register backend ``name``: a callable or a ``"module:function"`` path (each name once)."""
    if name in BACKENDS:
        raise ParameterError(f"backend {name!r} is already registered")
    BACKENDS[name] = function


def backend_function(name: str) -> Callable:
    """The run function of backend ``name`` (imported now if registered by path).

    Raises
    ------
    ParameterError
        If no backend of that name is registered.
    """
    choice(name, sorted(BACKENDS), "backend")
    function = BACKENDS[name]
    if isinstance(function, str):
        module, attribute = function.split(":")
        function = getattr(importlib.import_module(module), attribute)
    return function


def run(graph: nx.DiGraph, observations: ArrayLike, *, backend: str = "brian2",
        **options: Any) -> FilterResult | BaselineResult:
    """Run a compiled graph on ``backend`` and return what the numpy decoders return.

    Parameters
    ----------
    graph : networkx.DiGraph
        A compiled rRNN or baseline graph (validated by the backend before anything is built).
    observations : array_like, shape (T, m) or (B, T, m)
        Samples y_1..y_T, each held over the interval before its time t_k = kΔ;
        NaN marks a missing sample. For a baseline graph, the inputs u (no NaN).
    backend : str
        A name in :data:`BACKENDS`.
    **options
        The backend's options: every backend takes ``step`` (Euler step h in
        seconds; default the graph's ``integration_step``) and ``record``
        (node kinds recorded besides the defaults; ``"covariance"`` fills
        ``result.cov``) and ``progress`` (a progress report on stderr);
        Brian2 adds ``target``, ``report``, ``build_dir``.

    Returns
    -------
    FilterResult or BaselineResult
        For an rRNN: the fields of :meth:`rrnn_net.ContinuousFilter.filter`
        at the same step: ``mean`` μ(t_k) (B, T, N); ``predicted_obs`` ŷ when
        y_k arrives (B, T, m); ``prediction_error`` (NaN where missing);
        ``state_prediction_error`` ∫ error-driven dμ/dt over the interval;
        ``predicted_state``; ``loglik`` −½∫ξᵀε dt per sample (B, T); ``cov``
        (B, T, N, N) when recorded; ``n_psd_repairs`` zeros (a network never
        repairs P). Leading batch axes are dropped for (T, m) observations.

    Raises
    ------
    ParameterError
        Unknown backend, an option the backend does not take, or a bad option value.
    GraphSchemaError, ShapeError, NonFiniteError, UnstableSettingError, MissingTemplateError
        As the backend finds them.
    """
    function = backend_function(backend)
    options = check_keyword_options(options, function, name="options", what=f"the {backend!r} backend",
                                    positional=2)
    return function(graph, observations, **options)


def __getattr__(name: str) -> object:
    # The backends' own entry points, imported on first use.
    if name == "run_brian2":
        return backend_function("brian2")
    if name == "run_reference":
        return backend_function("reference")
    if name == "RRNNCircuit":
        from .brian2_circuit import RRNNCircuit

        return RRNNCircuit
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
