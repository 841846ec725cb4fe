"""_validation: the one check of observed sequences in each layout the package reads, and one error per event."""

import numpy as np
import pytest

from rrnn_net._validation import check_observations
from rrnn_net.errors import NonFiniteError, ParameterError, ShapeError


def test_layouts():
    y, batched = check_observations(np.zeros((7, 2)), 2)
    assert y.shape == (1, 7, 2) and not batched and y.dtype == np.float64
    y, batched = check_observations([[[1, 2]], [[3, 4]]])
    assert y.shape == (2, 1, 2) and batched
    assert check_observations(np.zeros((4, 7)), two_d="channel")[0].shape == (4, 7, 1)
    assert check_observations(np.zeros((4, 2, 7)), 2, channels_first=True, two_d=None)[0].shape == (4, 2, 7)


@pytest.mark.parametrize(("values", "options", "message"), [
    (np.zeros(5), {}, r"\(T, m\) or \(B, T, m\) with no empty axis, got \(5,\)"),
    (np.zeros((0, 3, 2)), {}, "no empty axis"),
    (np.zeros((5, 3)), {"n_channels": 2}, r"\(T, 2\) or \(B, T, 2\), got \(5, 3\) \(3 channel\(s\) per sample\)"),
    (np.zeros((4, 7)), {"two_d": None, "channels_first": True, "name": "X"},
     r"X must have shape \(n_samples, n_channels, n_timepoints\)"),
    (np.zeros((4, 3, 7)), {"n_channels": 2, "channels_first": True, "name": "X"}, r"\(n_samples, 2, n_timepoints\)"),
])
def test_wrong_shapes_name_the_accepted_ones(values, options, message):
    with pytest.raises(ShapeError, match=message):
        check_observations(values, **options)


def test_nan_is_a_missing_sample_unless_refused_and_infinity_always_is():
    values = np.array([[0.0, np.nan]])
    assert np.isnan(check_observations(values)[0]).sum() == 1
    with pytest.raises(NonFiniteError, match="NaN"):
        check_observations(values, allow_nan=False)
    with pytest.raises(NonFiniteError, match="infinite"):
        check_observations(np.array([[0.0, np.inf]]))


def test_one_error_per_event():
    from rrnn_net import UKF, ContinuousFilter, compile_rrnn
    from rrnn_net.errors import DivergenceError, ModelTypeError, NonFiniteError, UnstableSettingError

    for build in (UKF, ContinuousFilter, compile_rrnn):
        for value in ("not a model", None):
            with pytest.raises(ModelTypeError, match="must be a GenerativeRNN"):
                build(value)
    assert issubclass(ModelTypeError, TypeError) and issubclass(ModelTypeError, ParameterError)
    assert issubclass(DivergenceError, UnstableSettingError) and issubclass(DivergenceError, NonFiniteError)


def test_recorded_outputs_names_what_can_be_recorded():
    from rrnn_net._validation import recorded_outputs

    assert recorded_outputs(("covariance",), {"covariance"}) == {"covariance"}
    with pytest.raises(ParameterError, match=r"\['cov'\].*allowed: \['covariance'\]"):
        recorded_outputs("cov", {"covariance"})


# ------------------------------------------------------------------ issue 13: silent wrong results, bare crashes
@pytest.fixture(scope="module")
def small():
    from rrnn_net import GenerativeRNN

    model = GenerativeRNN.oscillator(2, 1, seed=0)
    return model, model.simulate(8, seed=1)[1][0]


def _consumers():
    """Every public entry point that takes observations: the numpy filters, decode, the classifier, a backend."""
    from rrnn_net import EKF, UKF, ContinuousFilter, RRNNClassifier, compile_rrnn
    from rrnn_net.backends import run
    from rrnn_net.decoding import decode

    return {
        "UKF": lambda model, y: UKF(model).filter(y),
        "EKF": lambda model, y: EKF(model).filter(y),
        "ContinuousFilter": lambda model, y: ContinuousFilter(model).filter(y),
        "decode": lambda model, y: decode(model, y),
        "classifier": lambda model, y: RRNNClassifier.from_models([model, model], [0, 1]).predict(y.T[None]),
        "reference backend": lambda model, y: run(compile_rrnn(model, gain_mode="fixed"), y, backend="reference"),
    }


@pytest.mark.parametrize("consumer", sorted(_consumers()))
def test_complex_observations_are_refused_not_cast_to_their_real_part(small, consumer):
    model, y = small
    with pytest.raises(ParameterError, match=r"must be real numbers \(Complex data not supported\): got \(.*\+1j\)"):
        _consumers()[consumer](model, y + 1j)


@pytest.mark.parametrize("consumer", sorted(_consumers()))
def test_observations_too_large_for_float64_are_a_divergence_naming_the_data(small, consumer):
    from rrnn_net.errors import DivergenceError

    model, y = small
    huge = y.copy()
    huge[5] = 1e200
    with pytest.raises(DivergenceError, match=r"log-likelihood of sample 5 is not finite .* reach \|y\| = 1e\+200"):
        _consumers()[consumer](model, huge)


def test_text_is_refused_where_numbers_are_expected_even_when_it_would_parse():
    from rrnn_net._validation import as_float_array

    with pytest.raises(ParameterError, match=r"sample_interval must be numeric, not text: '0\.1'"):
        as_float_array("0.1", "sample_interval")
    with pytest.raises(ParameterError, match="not text: 'x'"):
        as_float_array([1.0, "x"], "observations")  # the offending item, not the first
    np.testing.assert_array_equal(as_float_array([1, None], "y"), [1.0, np.nan])  # None stays a missing sample


def test_a_seed_numpy_refuses_is_a_parameter_error_in_every_generator():
    from rrnn_net import GenerativeRNN
    from rrnn_net.baseline import InputDrivenRNN
    from rrnn_net.datasets import class_sequences

    models = [GenerativeRNN.oscillator(2, 1, seed=0)]
    for make in (lambda seed: class_sequences(models, 1, 5, seed=seed),
                 lambda seed: GenerativeRNN.random(2, 1, seed=seed),
                 lambda seed: InputDrivenRNN.reservoir(1, 2, 1, tau=0.02, sample_interval=0.005, seed=seed)):
        for seed in (-3, "seven"):
            with pytest.raises(ParameterError, match="seed must be None, an integer >= 0 or a numpy Generator"):
                make(seed)


def test_steps_per_sample_are_bounded_so_a_typo_cannot_hang_a_run(small):
    from rrnn_net import ContinuousFilter
    from rrnn_net._validation import MAX_STEPS_PER_SAMPLE

    model, _ = small
    with pytest.raises(ParameterError, match=f"gives {10**9} Euler steps .* at most {MAX_STEPS_PER_SAMPLE}"):
        ContinuousFilter(model, step=model.sample_interval / 10**9)


# --------------------------------------------- found by the fuzz suite (tests/fuzz)
@pytest.mark.parametrize("value", [np.array([]), np.array(["fixed"]), 3, None])
def test_an_option_that_is_not_one_of_its_strings_is_refused_by_name(value):
    from rrnn_net._validation import choice

    with pytest.raises(ParameterError, match="noise must be one of"):
        choice(value, ("fixed", "adaptive"), "noise")


def test_an_empty_complex_array_is_refused_like_a_full_one():
    from rrnn_net._validation import as_float_array

    with pytest.raises(ParameterError, match="must be real numbers"):
        as_float_array(np.array([], dtype=complex), "R")


def test_a_subnormal_step_is_refused_as_too_many_steps_not_an_overflow():
    from rrnn_net._validation import steps_per_interval

    with pytest.raises(ParameterError, match="at most"):
        steps_per_interval(0.01, 5e-324)


# ------------------------------------------------------------ Brian2 units
def test_times_and_rates_accept_brian2_quantities_and_refuse_other_dimensions():
    from brian2 import Hz, ms, mV, second

    from rrnn_net import ContinuousFilter, GenerativeRNN, UnitError

    model = GenerativeRNN.oscillator(3, 2, tau=20 * ms, frequency=8 * Hz, sample_interval=5 * ms, seed=0)
    plain = GenerativeRNN.oscillator(3, 2, tau=0.02, frequency=8.0, sample_interval=0.005, seed=0)
    np.testing.assert_array_equal(model.W, plain.W)
    assert isinstance(model.tau, float) and model.tau == 0.02
    assert ContinuousFilter(model, step=2.5 * ms).step == 0.0025
    with pytest.raises(UnitError, match=r"tau must be a time .* got 20\. \* mvolt"):
        GenerativeRNN.oscillator(3, 2, tau=20 * mV)
    with pytest.raises(UnitError, match="frequency must be a rate"):
        GenerativeRNN.oscillator(3, 2, frequency=8 * second)
    with pytest.raises(UnitError, match="R is a pure number"):
        GenerativeRNN(W=np.eye(2), M=np.eye(2), R=0.1 * mV)


def test_a_classifier_takes_its_sampling_interval_as_a_brian2_quantity():
    from brian2 import ms

    from rrnn_net import GenerativeRNN, RRNNClassifier
    from rrnn_net.datasets import class_sequences

    models = [GenerativeRNN.oscillator(3, 2, seed=s) for s in (0, 1)]
    X, y = class_sequences(models, 3, 20, seed=0)
    received = {}

    def recording_fitter(sequences, n_hidden, *, sample_interval, tau, seed):
        received.update(sample_interval=sample_interval, tau=tau)
        return models[0]

    RRNNClassifier(3, sample_interval=5 * ms, fitter=recording_fitter).fit(X, y)
    assert received == {"sample_interval": 0.005, "tau": 0.01}
