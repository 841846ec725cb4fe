"""Fuzz the public API: model constructors, decoders, the compiler, the classifier and sweeps.

Each test draws arguments that are mostly valid but often junk (wrong types,
shapes, dtypes, non-finite or extreme numbers) and asserts the package's
contract: a valid result, finite where documented, or an RRNNError.
"""

from __future__ import annotations

import inspect

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from rrnn_net import EKF, UKF, ContinuousFilter, FilterResult, GenerativeRNN, RRNNClassifier, RRNNError
from rrnn_net.graph import compile_baseline, compile_rrnn
from rrnn_net.graph.schema import validate_graph
from rrnn_net.sweep import SweepResult, sweep

from .strategies import argument, junk, special_floats

N_HIDDEN, N_OBS = 3, 2
OSCILLATOR = GenerativeRNN.oscillator(N_HIDDEN, N_OBS, observation_noise=0.05, seed=0)
LINEAR = GenerativeRNN.random(N_HIDDEN, N_OBS, activation="linear", spectral_radius=0.5, seed=1)
# Drawn by name: Hypothesis's printer would read the deprecated ``dt`` property of a drawn model.
MODEL = {"oscillator": OSCILLATOR, "linear": LINEAR}
MODELS = st.sampled_from(sorted(MODEL))


def outcome(call, *args, **kwargs):
    """``call``'s result, or None where it raised an RRNNError; any other exception fails the test."""
    try:
        return call(*args, **kwargs)
    except RRNNError:
        return None


def assert_valid_model(model: GenerativeRNN) -> None:
    for name in ("W", "M", "b", "c", "Q", "R"):
        value = getattr(model, name)
        assert value.dtype == np.float64 and np.isfinite(value).all(), name
    np.testing.assert_array_equal(model.Q, model.Q.T)
    assert np.linalg.eigvalsh(model.Q).min() >= -1e-9 * max(1.0, np.abs(model.Q).max())
    assert np.linalg.eigvalsh(model.R).min() > 0
    assert model.tau > 0 and model.sample_interval > 0 and model.substeps >= 1


# ------------------------------------------------------------------ models
@st.composite
def model_arguments(draw) -> dict:
    base = MODEL[draw(MODELS)]
    n, m = base.n_hidden, base.n_obs
    return {
        "W": draw(argument(base.W, (n, n))), "M": draw(argument(base.M, (m, n))),
        "b": draw(argument(base.b, (n,))), "c": draw(argument(base.c, (m,))),
        "tau": draw(argument(base.tau)), "sample_interval": draw(argument(base.sample_interval)),
        "Q": draw(argument(base.Q, (n, n))), "R": draw(argument(base.R, (m, m))),
        "substeps": draw(argument(base.substeps)), "activation": draw(argument(base.activation)),
    }


@given(model_arguments())
def test_model_constructor_gives_a_valid_model_or_an_rrnn_error(arguments):
    model = outcome(GenerativeRNN, **arguments)
    if model is not None:
        assert_valid_model(model)


def keyword_options(function) -> st.SearchStrategy[dict]:
    """Up to two of ``function``'s own keyword parameters set to junk."""
    names = [name for name, parameter in inspect.signature(function).parameters.items()
             if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name != "dt"]
    return st.dictionaries(st.sampled_from(names), junk(), max_size=2)


@given(st.data(), st.sampled_from([GenerativeRNN.random, GenerativeRNN.oscillator]), argument(3), argument(2))
def test_model_factories_give_a_valid_model_or_an_rrnn_error(data, factory, n_hidden, n_obs):
    model = outcome(factory, n_hidden, n_obs, **data.draw(keyword_options(factory)))
    if model is not None:
        assert_valid_model(model)


@given(MODELS, argument(5), argument(2), argument(0))
def test_simulate_gives_finite_samples_or_an_rrnn_error(model_name, n_steps, batch, seed):
    model = MODEL[model_name]
    simulated = outcome(model.simulate, n_steps, batch=batch, seed=seed)
    if simulated is not None:
        states, observations = simulated
        assert np.isfinite(states).all() and np.isfinite(observations).all()


# ---------------------------------------------------------------- decoders
DECODERS = {
    "ukf": lambda model, noise, option: UKF(model, alpha=option, noise=noise),
    "ekf": lambda model, noise, option: EKF(model, noise=noise),
    "continuous": lambda model, noise, option: ContinuousFilter(model, step=option, noise=noise),
}


@st.composite
def observations(draw, model: GenerativeRNN) -> object:
    """Observations of the model's width with missing, extreme or non-finite entries, or anything else."""
    clean = model.simulate(6, batch=2, seed=0)[1]
    mask = draw(st.lists(st.sampled_from([None, np.nan, 1e200, np.inf, -np.inf, 1e8]), min_size=clean.size,
                         max_size=clean.size))
    values = clean.ravel().copy()
    for index, replacement in enumerate(mask):
        if replacement is not None and draw(st.integers(0, 3)) == 0:
            values[index] = replacement
    return draw(st.one_of(st.just(values.reshape(clean.shape)), st.just(values.reshape(clean.shape)[0]),
                          argument(clean, clean.shape)))


def assert_valid_filtering(result: FilterResult, observed) -> None:
    for name in ("predicted_state", "predicted_obs", "mean", "loglik", "state_prediction_error"):
        assert np.isfinite(getattr(result, name)).all(), name
    missing = np.isnan(np.asarray(observed, dtype=float))
    np.testing.assert_array_equal(np.isnan(result.prediction_error), missing)
    if result.noise_variance is not None:
        assert np.all(result.noise_variance > 0) and np.isfinite(result.noise_variance).all()


@given(st.data(), MODELS, st.sampled_from(sorted(DECODERS)), argument("fixed"), argument(None))
def test_decoders_give_finite_estimates_or_an_rrnn_error(data, model_name, name, noise, option):
    model = MODEL[model_name]
    decoder = outcome(DECODERS[name], model, noise, option)
    if decoder is None:
        return
    y = data.draw(observations(model))
    mean0 = data.draw(argument(None, (model.n_hidden,)))
    cov0 = data.draw(argument(None, (model.n_hidden, model.n_hidden)))
    result = outcome(decoder.filter, y, mean0=mean0, cov0=cov0)
    if result is not None:
        assert_valid_filtering(result, y)


@given(st.data(), MODELS, st.sampled_from([UKF, EKF]))
def test_smoothers_give_finite_estimates_or_an_rrnn_error(data, model_name, decoder):
    model = MODEL[model_name]
    y = data.draw(observations(model))
    smoothed = outcome(decoder(model).smooth, y)
    if smoothed is not None:
        assert np.isfinite(smoothed.mean).all() and np.isfinite(smoothed.cov).all()


# ---------------------------------------------------------------- compiler
@given(MODELS, argument("adaptive"), argument("fixed"), argument(None), argument(None))
def test_compile_rrnn_gives_a_valid_graph_or_an_rrnn_error(model_name, gain_mode, noise, mean0, cov0):
    model = MODEL[model_name]
    graph = outcome(compile_rrnn, model, gain_mode=gain_mode, noise=noise, mean0=mean0, cov0=cov0)
    if graph is not None:
        validate_graph(graph)


@given(argument(LINEAR.W, (N_HIDDEN, N_HIDDEN)), argument(None, (N_HIDDEN, N_OBS)), argument(None),
       argument(0.05), argument("tanh"), argument(None, (N_HIDDEN,)))
def test_compile_baseline_gives_a_valid_graph_or_an_rrnn_error(W, U, C, tau, activation, x0):
    graph = outcome(compile_baseline, W, U, C, tau=tau, activation=activation, x0=x0)
    if graph is not None:
        validate_graph(graph)


# -------------------------------------------------------------- classifier
def fixed_fitter(sequences, n_hidden, *, sample_interval, tau, seed):
    """A stand-in for learning: the classifier's own checks run, the fit costs nothing."""
    return OSCILLATOR.replace(sample_interval=sample_interval, tau=tau)


TRAINING = np.concatenate([OSCILLATOR.simulate(12, batch=3, seed=s)[1] for s in (0, 1)]).transpose(0, 2, 1)
LABELS = np.array([0, 0, 0, 1, 1, 1])
CLASSIFIER = RRNNClassifier.from_models([OSCILLATOR, LINEAR.replace(sample_interval=OSCILLATOR.sample_interval)],
                                        classes=["a", "b"])


@given(argument(TRAINING, TRAINING.shape), argument(LABELS, (6,)), argument(0.01), argument(None),
       argument("fixed"), argument("ukf"), argument(0), argument("auto"), argument("auto"))
def test_classifier_fit_gives_a_working_classifier_or_an_rrnn_error(X, y, sample_interval, tau, noise, decoder,
                                                                     seed, phases, decimation):
    classifier = RRNNClassifier(sample_interval=sample_interval, tau=tau, noise=noise, decoder=decoder, seed=seed,
                                phases=phases, decimation=decimation, fitter=fixed_fitter)
    if outcome(classifier.fit, X, y) is not None:
        # Data far outside what the classifier was fitted on may be refused (DivergenceError), never misread.
        proba = outcome(classifier.predict_proba, TRAINING)
        if proba is not None:
            assert np.isfinite(proba).all()
            np.testing.assert_allclose(proba.sum(axis=-1), 1.0)


@given(st.one_of(argument(TRAINING, TRAINING.shape), st.lists(argument(TRAINING[0], TRAINING[0].shape),
                                                               min_size=1, max_size=3)))
def test_classifier_predictions_are_probabilities_or_an_rrnn_error(X):
    proba = outcome(CLASSIFIER.predict_proba_online, X)
    if proba is not None:
        assert np.isfinite(proba).all() and np.all(proba >= 0)
        np.testing.assert_allclose(proba.sum(axis=-1), 1.0)


# ------------------------------------------------------------------- sweep
def metrics(seed: int, **params) -> dict:
    """Fails for grid values it cannot take, like a user's function would."""
    return {"total": float(sum(float(value) for value in params.values())) + seed}


@given(st.dictionaries(st.text(min_size=1, max_size=3),
                       st.one_of(st.lists(special_floats(), max_size=3), junk(), st.text(max_size=3)), max_size=3),
       st.one_of(st.just([0]), st.lists(junk(), max_size=2)), st.sampled_from(["synchronous", "threads", "x"]))
def test_sweep_gives_every_record_or_an_rrnn_error(grid, seeds, scheduler):
    result = outcome(sweep, metrics, grid, seeds=seeds, scheduler=scheduler)
    if result is not None:
        assert isinstance(result, SweepResult)
        expected = len(seeds) * int(np.prod([len(list(values)) for values in grid.values()]))
        assert len(result.records) == expected
