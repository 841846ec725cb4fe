import numpy as np
import pytest
from scipy.stats import lognorm

from rrnn_net.duration import LOG_STD_FLOOR, DurationModel, fit_duration_model
from rrnn_net.errors import NonFiniteError, ParameterError, ShapeError


def test_online_terms_are_the_log_normal_survival_before_the_end_and_its_density_from_it_on():
    model = DurationModel(log_mean=np.log([30.0, 80.0, 200.0]), log_std=0.3)
    lengths = np.array([25, 90])
    online = model.log_prob_online(lengths, 100)
    assert online.shape == (2, 100, 3)
    # scipy's log-normal: shape s, scale e^μ
    laws = [lognorm(0.3, scale=np.exp(mu)) for mu in model.log_mean]
    for row, length in enumerate(lengths):
        for k, law in enumerate(laws):
            t = np.arange(1, length)
            np.testing.assert_allclose(online[row, :length - 1, k], law.logsf(t - 0.5), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(online[row, length - 1:, k], law.logpdf(length), rtol=1e-10)
    np.testing.assert_allclose(model.log_prob(lengths), online[:, -1], rtol=1e-12)


def test_fit_recovers_the_class_means_and_the_pooled_spread_of_log_lengths():
    rng = np.random.default_rng(0)
    codes = np.repeat([0, 1, 2], 400)
    true_mean, true_std = np.log([40.0, 120.0, 300.0]), 0.2
    lengths = np.maximum(np.round(np.exp(rng.normal(true_mean[codes], true_std))), 1)
    model = fit_duration_model(lengths, codes, 3)
    np.testing.assert_allclose(model.log_mean, true_mean, atol=0.03)
    assert model.log_std == pytest.approx(true_std, rel=0.05)
    # The pooled estimate itself, computed directly, widened for the estimated means
    pooled = np.sqrt(sum(np.sum((np.log(lengths[codes == k]) - np.log(lengths[codes == k]).mean()) ** 2)
                         for k in range(3)) / (lengths.size - 3))
    assert model.log_std == pytest.approx(pooled * np.sqrt(1 + 3 / lengths.size), rel=1e-12)


def test_equal_lengths_give_every_class_the_same_term_at_the_floor():
    model = fit_duration_model([50] * 6, [0, 0, 1, 1, 2, 2], 3)
    assert model.log_std == pytest.approx(LOG_STD_FLOOR * np.sqrt(1 + 3 / 6))
    online = model.log_prob_online([20, 50, 70], 70)
    np.testing.assert_array_equal(online, online[..., :1].repeat(3, axis=-1))
    assert np.all(np.isfinite(online))


def test_a_length_far_outside_every_class_stays_finite():
    model = DurationModel(log_mean=np.log([10.0, 20.0]), log_std=LOG_STD_FLOOR)
    assert np.all(np.isfinite(model.log_prob_online([5000], 5000)))


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: fit_duration_model([10, 0], [0, 1], 2), ParameterError, "whole numbers of samples >= 1"),
    (lambda: fit_duration_model([10, 2.5], [0, 1], 2), ParameterError, "whole numbers of samples >= 1"),
    (lambda: fit_duration_model([10, np.nan], [0, 1], 2), ParameterError, "whole numbers of samples >= 1"),
    (lambda: fit_duration_model([[10, 20]], [0, 1], 2), ShapeError, "one length per sequence"),
    (lambda: fit_duration_model([10, 20], [0], 2), ShapeError, "one class index per length"),
    (lambda: fit_duration_model([10, 20], [0, 2], 2), ParameterError, r"class indices in \[0, 2\)"),
    (lambda: fit_duration_model([10, 20], [0.0, 1.0], 2), ParameterError, "class indices"),
    (lambda: fit_duration_model([10, 20], [0, 0], 2), ParameterError, r"class\(es\) \[1\] have none"),
    (lambda: DurationModel(log_mean=np.zeros(2), log_std=0.0), ParameterError, "log_std must be a finite number > 0"),
    (lambda: DurationModel(log_mean=np.zeros(2), log_std=np.nan), ParameterError, "log_std must be a finite"),
    (lambda: DurationModel(log_mean=np.array([0.0, np.inf]), log_std=1.0), NonFiniteError, "log_mean must be finite"),
    (lambda: DurationModel(log_mean=np.zeros((2, 2)), log_std=1.0), ShapeError, "one mean log length per class"),
    (lambda: DurationModel(log_mean=np.zeros(2), log_std=1.0).log_prob_online([5], 4), ShapeError,
     "at most n_timepoints = 4"),
    (lambda: DurationModel(log_mean=np.zeros(2), log_std=1.0).log_prob_online([5], 0), ParameterError,
     "n_timepoints"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
