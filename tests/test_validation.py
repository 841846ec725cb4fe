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
        with pytest.raises(ModelTypeError, match="must be a GenerativeRNN"):
            build("not a model")
    assert issubclass(ModelTypeError, TypeError) and issubclass(ModelTypeError, ParameterError)
    assert issubclass(DivergenceError, UnstableSettingError) and issubclass(DivergenceError, NonFiniteError)


def test_recorded_outputs_names_what_can_be_recorded():
    from rrnn_net._validation import recorded_outputs

    assert recorded_outputs(("covariance",), {"covariance"}) == {"covariance"}
    with pytest.raises(ParameterError, match=r"\['cov'\].*allowed: \['covariance'\]"):
        recorded_outputs("cov", {"covariance"})
