"""Decode a recording with a recognizing RNN: a numpy filter in time chunks, or the compiled network in Brian2.

:func:`decode` is what ``rrnn decode`` runs, without files or arguments.

Stability policy: the continuous filter and the adaptive network integrate the
Riccati equation by forward Euler (see :mod:`rrnn_net.filters.stability`).
Their default prior is the broadest isotropic one that Euler integrates
stably; a prior that is too broad is refused before the run, and a Brian2
run whose covariance leaves the stable range on the way warns
(:class:`RuntimeWarning`), since the network cannot repair it. A network's
checks read the graph alone, so an edited or lesioned graph — one that is no
single model's filter (:func:`~rrnn_net.graph.consistency`) — decodes too.
"""

from __future__ import annotations

import logging
import sys
import warnings
from dataclasses import dataclass

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike

from ._validation import check_observations, choice, positive_scalar
from .errors import DecodeError, ParameterError
from .filters import EKF, NOISE_MODES, UKF, ContinuousFilter, FilterResult, filter_in_chunks
from .filters.stability import default_prior_variance, graph_riccati_euler_factor, riccati_euler_factor
from .graph import compile_rrnn, validate_graph
from .model import GenerativeRNN

__all__ = ["DECODERS", "Decoding", "decode"]

logger = logging.getLogger(__name__)

DECODERS = ("ukf", "ekf", "continuous", "brian2")
_NUMPY_DECODERS = {"ukf": UKF, "ekf": EKF, "continuous": ContinuousFilter}
_PROGRESS_UPDATES = 20  # the numpy decoders run in this many time chunks, one progress step each


@dataclass(frozen=True)
class Decoding:
    """What :func:`decode` returns.

    Attributes
    ----------
    result : FilterResult
        Means, predictions, prediction errors and evidence per sample
        (``cov`` and ``innovation_cov`` are None).
    decoder : str
        The decoder that ran, one of :data:`DECODERS`.
    prior_variance : float or None
        The variance c of the prior N(0, c·I) at t = 0; None when a graph
        file's own prior was used or the network has no covariance (fixed gain).
    gain_mode : {"adaptive", "fixed"} or None
        The network form that ran in Brian2; None for the numpy decoders.
    sample_interval : float
        Δ, seconds between samples.
    """

    result: FilterResult
    decoder: str
    prior_variance: float | None
    gain_mode: str | None
    sample_interval: float


def decode(source: GenerativeRNN | nx.DiGraph, observations: ArrayLike, decoder: str | None = None, *,
           prior_variance: float | None = None, gain_mode: str = "adaptive", noise: str = "fixed",
           target: str = "numpy", progress: bool = False) -> Decoding:
    """Decode observations with the recognizing RNN of a model, or with a compiled rRNN graph.

    Parameters
    ----------
    source : GenerativeRNN or networkx.DiGraph
        A generative model, or a compiled recognizing-RNN graph (which runs
        only as a Brian2 network and carries its own prior), also one edited
        or lesioned (:func:`~rrnn_net.graph.lesion`).
    observations : array_like, shape (T, m) or (B, T, m)
        NaN marks a missing sample.
    decoder : {"ukf", "ekf", "continuous", "brian2"}, optional
        ``"continuous"`` is the numpy Kalman–Bucy filter the network runs;
        ``"brian2"`` the compiled network. Default: ``"ukf"`` for a model,
        ``"brian2"`` for a graph.
    prior_variance : float, optional
        Variance c of the prior N(0, c·I) at t = 0. Default 1 for ukf/ekf;
        for continuous/brian2 1 or, where forward Euler would not integrate
        that stably, the broadest c it does
        (:func:`~rrnn_net.filters.stability.default_prior_variance`).
    gain_mode : {"adaptive", "fixed"}
        Network form compiled from a model for ``decoder="brian2"``; a graph
        keeps its own.
    noise : {"fixed", "adaptive"}
        ``"adaptive"``: each channel's observation noise is estimated online
        (``result.noise_variance``): by the UKF's or EKF's variational update,
        by the continuous filter's equations of it, or by the precision units
        of the network compiled from the model (adaptive gain). A graph keeps
        its own form.
    target : {"numpy", "cython", "cpp_standalone"}
        Brian2 code-generation target.
    progress : bool
        Report progress on stderr.

    Returns
    -------
    Decoding
        The result has no batch axis when ``observations`` was (T, m).

    Raises
    ------
    DecodeError
        Options that do not fit the source, or a prior too broad for forward
        Euler.
    GraphSchemaError
        A graph source that is not a valid compiled graph.
    ShapeError, NonFiniteError, ParameterError
        Observations or options with wrong values.

    Warns
    -----
    RuntimeWarning
        An adaptive network's covariance left forward Euler's stable range
        during the run: its estimates are unreliable.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> model = GenerativeRNN.oscillator(3, 2, seed=0)
    >>> _, y = model.simulate(50, batch=2, seed=1)
    >>> decoding = decode(model, y)
    >>> decoding.decoder, decoding.prior_variance, decoding.result.mean.shape
    ('ukf', 1.0, (2, 50, 3))
    """
    graph = source if isinstance(source, nx.DiGraph) else None
    if graph is None and not isinstance(source, GenerativeRNN):
        raise ParameterError(f"source must be a GenerativeRNN or a compiled graph, got {type(source).__name__}")
    decoder = decoder or ("brian2" if graph is not None else "ukf")
    choice(decoder, DECODERS, "decoder")
    choice(gain_mode, ("adaptive", "fixed"), "gain_mode")
    choice(noise, NOISE_MODES, "noise")
    if noise != "fixed" and graph is not None:
        raise DecodeError("a graph estimates the noise online only if compiled so (rrnn compile --noise adaptive); "
                          "it carries its own form")
    if noise != "fixed" and decoder == "brian2" and gain_mode != "adaptive":
        raise DecodeError("noise='adaptive' runs in the adaptive-gain network only (a fixed gain holds the model's R)")
    if prior_variance is not None:
        prior_variance = positive_scalar(prior_variance, "prior_variance")
    if graph is not None:
        _check_graph(graph, decoder, prior_variance)
    n_obs = graph.graph["n_obs"] if graph is not None else source.n_obs
    y, batched = check_observations(observations, n_obs)
    if progress:
        trials = f"{y.shape[0]} trial(s) × " if batched else ""
        print(f"decoding {trials}{y.shape[1]} samples × {y.shape[2]} channel(s) with {decoder}", file=sys.stderr)
    observations = y if batched else y[0]
    sample_interval = graph.graph["sample_interval"] if graph is not None else source.sample_interval
    if decoder != "brian2":
        model = source
        variance = prior_variance or (default_prior_variance(model) if decoder == "continuous" else 1.0)
        cov0 = variance * np.eye(model.n_hidden)
        if decoder == "continuous":
            factor = float(riccati_euler_factor(model, np.zeros(model.n_hidden), cov0))
            _require_euler_stable(factor, model.step, variance)
        if noise == "adaptive":
            # One pass: the noise belief lives inside it, and time chunks would restart it from the prior.
            result = _NUMPY_DECODERS[decoder](model, noise=noise).filter(observations, cov0=cov0)
        else:
            result = filter_in_chunks(_NUMPY_DECODERS[decoder](model), observations, n_chunks=_PROGRESS_UPDATES,
                                      cov0=cov0, progress=progress)
        logger.info("decoded with the %s (prior N(0, %g·I), noise %s)", decoder, variance, noise)
        return Decoding(result, decoder, variance, None, sample_interval)
    network_variance = None
    if graph is None:
        graph, network_variance = _compile_network(source, gain_mode, prior_variance, noise)
    gain_mode = graph.graph["gain_mode"]
    if gain_mode == "adaptive":
        step = graph.graph["integration_step"]
        _require_euler_stable(float(graph_riccati_euler_factor(graph, step)), step, network_variance)
    result = _run_network(graph, observations, target, progress)
    logger.info("decoded with the %s-gain network in Brian2 (%s prior)", gain_mode,
                "the graph's" if network_variance is None else f"N(0, {network_variance:g}·I)")
    return Decoding(result, decoder, network_variance, gain_mode, sample_interval)


def _check_graph(graph: nx.DiGraph, decoder: str, prior_variance: float | None) -> None:
    validate_graph(graph)  # before any attribute is read: an empty or foreign graph is named, not a KeyError
    if decoder != "brian2":
        raise DecodeError(f"a graph runs only as a Brian2 network (decoder 'brian2'), not {decoder}; "
                          "use the model for the numpy decoders")
    if prior_variance is not None:
        raise DecodeError("a graph carries its own prior (mean0, cov0); recompile the model to change it "
                          "(rrnn compile MODEL --prior-variance C)")
    if graph.graph["graph_type"] != "rrnn":
        raise DecodeError(f"the graph is a {graph.graph['graph_type']} graph, not a recognizing RNN")


def _compile_network(model: GenerativeRNN, gain_mode: str, prior_variance: float | None,
                     noise: str) -> tuple[nx.DiGraph, float | None]:
    """The model's rRNN graph in the form ``gain_mode`` asks for, and the prior variance of an adaptive one."""
    if gain_mode == "fixed":
        if prior_variance is not None:
            raise DecodeError("a prior variance has no effect with a fixed gain (that network has no covariance)")
        return compile_rrnn(model, gain_mode="fixed"), None
    variance = prior_variance or default_prior_variance(model)
    return compile_rrnn(model, gain_mode="adaptive", cov0=variance * np.eye(model.n_hidden), noise=noise), variance


def _require_euler_stable(factor: float, step: float, variance: float | None) -> None:
    """Refuse a prior (variance·I, or the graph's cov0 when None) whose Euler factor h·λ_max(P Gᵀ R_c⁻¹ G) is ≥ 1."""
    if factor >= 1.0:
        # The factor is linear in P, so factor 1 sits at variance / factor.
        prior, cure = ((f"the prior variance {variance:g}", f"a prior variance below {variance / factor:.3g}")
                       if variance is not None else
                       ("the graph's prior covariance cov0", f"a cov0 more than {factor:.3g} times smaller "
                        "(rrnn compile MODEL --prior-variance C)"))
        raise DecodeError(
            f"{prior} is too broad for forward Euler on the Riccati equation at step h = {step:g} s "
            f"(h·λ_max(P Gᵀ R_c⁻¹ G) = {factor:.3g} ≥ 1): use {cure}, or a model with more substeps")


def _run_network(graph: nx.DiGraph, observations: np.ndarray, target: str, progress: bool) -> FilterResult:
    """Run the graph in Brian2; for an adaptive graph, warn if forward Euler left its stable range."""
    from .backends import run_brian2  # Brian2 is slow to import; only this decoder needs it

    adaptive = graph.graph["gain_mode"] == "adaptive"
    result = run_brian2(graph, observations, target=target, record="covariance" if adaptive else (),
                        report="stderr" if progress else None)
    assert isinstance(result, FilterResult)  # what an rRNN graph gives (decode checked the graph type)
    if adaptive:
        factor = float(np.max(graph_riccati_euler_factor(graph, graph.graph["integration_step"], result.mean,
                                                         result.cov)))
        if factor >= 1.0:
            warnings.warn(f"the covariance left forward Euler's stable range during the run "
                          f"(h·λ_max(P Gᵀ R_c⁻¹ G) reached {factor:.3g} ≥ 1); the estimates are unreliable",
                          RuntimeWarning, stacklevel=3)
        result.cov = None  # recorded for the check above; not part of the output
    return result
