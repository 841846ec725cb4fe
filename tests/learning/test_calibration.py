"""Expected calibration error and the evidence-scale search."""

import numpy as np
import pytest

from rrnn_net.errors import ParameterError, ShapeError
from rrnn_net.learning import expected_calibration_error
from rrnn_net.learning.bank import SCALE_BOUNDS, calibrated_log_posterior


def _random_scores(seed: int, *, n_sequences: int, lead: float, offset_sd: float, observed: int):
    """Evidence increments (3, B, 10) of 3 classes whose true class leads by ``lead`` per step, a random offset of
    s.d. ``offset_sd``, and 80 % of the prefixes sampled (step ``observed`` always): codes, values, offset, sampled."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, size=n_sequences)
    values = rng.standard_normal((3, n_sequences, 10))
    values[codes, np.arange(n_sequences)] += lead
    offset = offset_sd * rng.standard_normal((3, n_sequences, 10))
    sampled = rng.random((n_sequences, 10)) < 0.8
    sampled[:, observed] = True
    return codes, values, offset, sampled


def test_ece_by_hand():
    # Bin (0.8, 0.9]: confidences 0.9, 0.85 -> one right -> |0.5 - 0.875|; bin (0.5, 0.6]: 0.6 right -> 0.4.
    proba = np.array([[0.9, 0.1], [0.15, 0.85], [0.6, 0.4]])
    expected = 2 / 3 * abs(0.5 - 0.875) + 1 / 3 * abs(1.0 - 0.6)
    assert expected_calibration_error(proba, [0, 0, 0]) == pytest.approx(expected)
    assert expected_calibration_error(np.eye(3), [0, 1, 2]) == 0.0


def test_ece_rejects_bad_input():
    with pytest.raises(ShapeError):
        expected_calibration_error(np.ones(3), [0, 0, 0])
    with pytest.raises(ParameterError):
        expected_calibration_error([[0.5, 0.5]], [2])
    with pytest.raises(ParameterError):
        expected_calibration_error([[np.nan, 0.5]], [0])


def test_evidence_scale_maximises_the_mean_log_posterior():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, size=40)
    # Overconfident evidence: the right class leads by 3 nats per step, but every fifth sequence is misleading.
    values = rng.standard_normal((3, 40, 12))
    values[codes, np.arange(40)] += 3.0
    values[(codes[::5] + 1) % 3, np.arange(40)[::5]] += 6.0
    sampled = np.ones((40, 12), dtype=bool)
    score, scale = calibrated_log_posterior(values, codes, sampled)
    grid = np.exp(np.linspace(np.log(1e-3), np.log(10.0), 400))
    scores = [calibrated_log_posterior(values * g, codes, sampled, fit_scale=False)[0] for g in grid]
    assert scale < 1.0, "overconfident evidence must be tempered"
    assert score == pytest.approx(max(scores), abs=1e-4)
    assert scale == pytest.approx(grid[int(np.argmax(scores))], rel=0.05)


def test_an_offset_is_added_after_the_scale():
    from scipy.special import log_softmax

    rng = np.random.default_rng(1)
    codes = rng.integers(0, 2, size=30)
    values = rng.standard_normal((2, 30, 8))
    values[codes, np.arange(30)] += 2.0
    offset = rng.standard_normal((2, 30, 8))
    sampled = rng.random((30, 8)) < 0.8
    score, scale = calibrated_log_posterior(values, codes, sampled, offset=offset)
    # Direct: mean over sampled prefixes of log softmax(β ℓ + offset) of the true class
    def direct(beta):
        log_post = log_softmax(beta * np.cumsum(values, axis=-1) + offset, axis=0)
        return log_post[codes, np.arange(30)][sampled].mean()
    assert score == pytest.approx(direct(scale), rel=1e-10)
    grid = np.exp(np.linspace(np.log(1e-3), np.log(10.0), 400))
    assert score == pytest.approx(max(direct(g) for g in grid), abs=1e-4)


def test_better_than_chance_is_a_t_test_over_sequences_of_their_mean_posterior():
    from scipy.special import log_softmax
    from scipy.stats import t as student_t

    from rrnn_net.learning.bank import better_than_chance_p_value

    codes, values, offset, sampled = _random_scores(2, n_sequences=9, lead=1.0, offset_sd=0.3, observed=0)
    p_value = better_than_chance_p_value(values, codes, sampled, scale=0.7, offset=offset)
    # Direct: each sequence's mean posterior over its sampled prefixes, then Student's t against 1/3
    posterior = np.exp(log_softmax(0.7 * np.cumsum(values, axis=-1) + offset, axis=0))[codes, np.arange(9)]
    per_sequence = np.array([row[mask].mean() for row, mask in zip(posterior, sampled, strict=True)])
    t = (per_sequence.mean() - 1 / 3) / (per_sequence.std(ddof=1) / 3.0)
    assert p_value == pytest.approx(student_t.sf(t, df=8), rel=1e-10)
    assert 0.0 < p_value < 0.5  # the true class leads, on average
    # Evidence that favours the wrong class is not better than chance
    assert better_than_chance_p_value(-values, codes, sampled, scale=0.7) > 0.5


def test_equal_evidence_is_no_better_than_chance_and_a_constant_lead_is():
    from rrnn_net.learning.bank import better_than_chance_p_value

    codes = np.array([0, 1, 0, 1])
    sampled = np.ones((4, 5), dtype=bool)
    assert better_than_chance_p_value(np.zeros((2, 4, 5)), codes, sampled, scale=1.0) == 1.0
    lead = np.zeros((2, 4, 5))
    lead[codes, np.arange(4)] = 1.0  # every sequence scores the same, above 1/2: no spread, no t statistic
    assert better_than_chance_p_value(lead, codes, sampled, scale=1.0) == 0.0


def test_better_than_chance_rejects_bad_input():
    from rrnn_net.errors import NonFiniteError
    from rrnn_net.learning.bank import better_than_chance_p_value

    values, codes, sampled = np.zeros((2, 3, 4)), np.array([0, 1, 0]), np.ones((3, 4), dtype=bool)
    cases = [
        (ShapeError, "B >= 2", dict(values=np.zeros((2, 1, 4)), codes=codes[:1], sampled=sampled[:1])),
        (ShapeError, "codes must be 3 integer", dict(codes=codes.astype(float))),
        (ParameterError, r"codes must lie in \[0, 2\)", dict(codes=np.array([0, 2, 1]))),
        (ShapeError, "sampled must be a boolean", dict(sampled=sampled.astype(int))),
        (ParameterError, "at least one sampled prefix", dict(sampled=np.array([[True] * 4, [False] * 4, [True] * 4]))),
        (NonFiniteError, "values contains NaN", dict(values=np.full((2, 3, 4), np.nan))),
        (ShapeError, "offset must have shape", dict(offset=np.zeros((2, 3, 3)))),
        (ParameterError, "scale", dict(scale=0.0)),
    ]
    for error, message, bad in cases:
        arguments = dict(values=values, codes=codes, sampled=sampled, scale=1.0) | bad
        with pytest.raises(error, match=message):
            better_than_chance_p_value(arguments.pop("values"), arguments.pop("codes"), arguments.pop("sampled"),
                                       **arguments)


def _contaminated_score(values, codes, sampled, offset, scale, contamination):
    """Mean over sampled prefixes of log((1 − ε) softmax(β ℓ + offset) + ε / K) of the true class, by scipy."""
    from scipy.special import softmax

    posterior = softmax(scale * np.cumsum(values, axis=-1) + (0.0 if offset is None else offset), axis=0)
    mixed = (1.0 - contamination) * posterior + contamination / values.shape[0]
    return np.log(mixed[codes, np.arange(codes.size)][sampled]).mean()


@pytest.mark.parametrize("with_offset", [False, True])
def test_calibration_maximises_the_contaminated_log_posterior_over_scale_and_contamination(with_offset):
    from rrnn_net.learning.bank import fitted_calibration

    codes, values, offset, sampled = _random_scores(3, n_sequences=30, lead=2.0, offset_sd=0.5, observed=-1)
    values[(codes[:3] + 1) % 3, np.arange(3)] += 8.0  # three sequences the bank gets badly wrong
    offset = offset if with_offset else None
    score, scale, contamination = fitted_calibration(values, codes, sampled, offset=offset)
    assert score == pytest.approx(_contaminated_score(values, codes, sampled, offset, scale, contamination),
                                  rel=1e-10)
    scales, contaminations = np.geomspace(*SCALE_BOUNDS, 161), np.linspace(0.0, 1.0, 201)
    grid = np.array([[_contaminated_score(values, codes, sampled, offset, b, e) for e in contaminations]
                     for b in scales])
    assert score >= grid.max() - 1e-9, "no point of a fine 2-D grid beats the search"
    assert score <= grid.max() + 2e-3, "and the search's optimum is the grid's, to the grids' spacing"
    best_scale, best_contamination = np.unravel_index(np.argmax(grid), grid.shape)
    assert scale == pytest.approx(scales[best_scale], rel=0.1)
    assert contamination == pytest.approx(contaminations[best_contamination], abs=0.01)
    assert 0.0 < contamination < 0.5


def test_a_few_catastrophic_sequences_no_longer_push_the_scale_to_its_bound():
    from rrnn_net.learning.bank import fitted_calibration

    rng = np.random.default_rng(4)
    codes = np.repeat([0, 1, 2], 6)
    values = 0.3 * rng.standard_normal((3, 18, 20))
    values[codes, np.arange(18)] += 0.5  # the true class leads by 0.5 nats per sample ...
    sampled = np.ones((18, 20), dtype=bool)
    # ... and where every sequence is right, nothing is contaminated: β and the score are the log score's
    log_score, log_scale = calibrated_log_posterior(values, codes, sampled)
    score, scale, contamination = fitted_calibration(values, codes, sampled)
    assert contamination == 0.0 and score == pytest.approx(log_score, abs=1e-6)
    assert scale == pytest.approx(log_scale, rel=0.01)
    values[(codes[:2] + 1) % 3, np.arange(2)] += 50.0  # two sequences lost by 50 nats per sample
    assert calibrated_log_posterior(values, codes, sampled)[1] < 1.01 * SCALE_BOUNDS[0]
    score, scale, contamination = fitted_calibration(values, codes, sampled)
    assert scale > 0.1, "the 16 sequences the bank gets right keep their confidence"
    assert 0.05 < contamination < 0.3, "about the 2 of 18 that no class model describes"


def test_a_bank_that_carries_nothing_scores_chance():
    from rrnn_net.learning.bank import fitted_calibration

    codes, sampled = np.array([0, 1, 2, 0, 1, 2]), np.ones((6, 5), dtype=bool)
    score, _, contamination = fitted_calibration(np.zeros((3, 6, 5)), codes, sampled)  # equal evidence
    assert score == pytest.approx(np.log(1 / 3), abs=1e-12)
    wrong = np.zeros((3, 6, 5))
    wrong[codes, np.arange(6)] -= 1.0  # the true class always trails: only a uniform posterior is better
    score, _, contamination = fitted_calibration(wrong, codes, sampled)
    assert contamination == 1.0 and score == pytest.approx(np.log(1 / 3), abs=1e-12)


def test_calibration_rejects_bad_input():
    from rrnn_net.errors import NonFiniteError
    from rrnn_net.learning.bank import fitted_calibration

    codes, sampled = np.array([0, 1, 0]), np.ones((3, 4), dtype=bool)
    with pytest.raises(NonFiniteError, match="values contains"):
        fitted_calibration(np.full((2, 3, 4), np.inf), codes, sampled)
    with pytest.raises(ParameterError, match=r"codes must lie in \[0, 2\)"):
        fitted_calibration(np.zeros((2, 3, 4)), np.array([0, 2, 1]), sampled)
    with pytest.raises(ShapeError, match="sampled must be a boolean"):
        fitted_calibration(np.zeros((2, 3, 4)), codes, sampled[:, :2])
    with pytest.raises(ShapeError, match=r"shape \(K, B, T\)"):
        fitted_calibration(np.zeros((2, 3)), codes, sampled)
    with pytest.raises(NonFiniteError, match="offset"):
        fitted_calibration(np.zeros((2, 3, 4)), codes, sampled, offset=np.full((2, 3, 4), np.nan))
    _, scale, contamination = fitted_calibration(np.ones((2, 1, 4)), codes[:1], sampled[:1])
    assert SCALE_BOUNDS[0] <= scale <= SCALE_BOUNDS[1] and 0.0 <= contamination <= 1.0


def test_the_kept_calibration_is_the_fitted_one_where_the_evidence_is_finite():
    from rrnn_net.learning.bank import _calibration, fitted_calibration

    rng = np.random.default_rng(5)
    codes = np.array([0, 1, 0, 1])
    values = rng.standard_normal((2, 4, 6))
    sampled = np.ones((4, 6), dtype=bool)
    assert _calibration(values, codes, sampled) == fitted_calibration(values, codes, sampled)
    assert _calibration(values, codes, sampled, calibrate=False) == (*calibrated_log_posterior(
        values, codes, sampled, fit_scale=False), 0.0)
    values[1, 1, 3] = -np.inf  # the true class's model rules a sample out: no error, a score that ranks last
    score, _, contamination = _calibration(values, codes, sampled)
    assert not np.isfinite(score) and contamination == 0.0


def test_an_unscored_prefix_lost_without_bound_changes_nothing():
    import warnings

    from rrnn_net.learning.bank import fitted_calibration

    codes, values, _, sampled = _random_scores(6, n_sequences=12, lead=1.0, offset_sd=0.0, observed=-1)
    sampled[0, 0] = False
    before = fitted_calibration(values, codes, sampled)
    values[(codes[0] + 1) % 3, 0, 0] += 1e6  # the first, unscored prefix of sequence 0: p(true) underflows to 0 ...
    values[(codes[0] + 1) % 3, 0, 1] -= 1e6  # ... and the sequence's later prefixes are as before
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 × inf on the way
        after = fitted_calibration(values, codes, sampled)
    assert after == pytest.approx(before, rel=1e-9)
