import numpy as np
import pytest

from rrnn_net.decimation import (
    MIN_BLOCKS,
    block_ends,
    block_means,
    choose_decimation,
    choose_phases,
    lost_variance,
    periodic_share,
    phase_channels,
)
from rrnn_net.errors import NonFiniteError, ParameterError, ShapeError


def _sequences_with_gaps(seed=0, n=3, length=23, channels=2):
    rng = np.random.default_rng(seed)
    sequences = rng.normal(size=(n, length, channels))
    sequences[rng.random(sequences.shape) < 0.2] = np.nan
    sequences[1, 17:] = np.nan  # a shorter sequence, NaN-padded
    return sequences


@pytest.mark.parametrize("factor", [1, 2, 3, 5, 23, 40, 10**12])
def test_block_means_are_the_means_of_the_observed_samples_of_each_block(factor):
    sequences = _sequences_with_gaps()
    means = block_means(sequences, factor)
    n_blocks = -(-sequences.shape[1] // factor)
    assert means.shape == (3, n_blocks, 2)
    for i in range(3):
        for j in range(n_blocks):
            for c in range(2):
                block = sequences[i, j * factor:(j + 1) * factor, c]
                block = block[~np.isnan(block)]
                expected = block.mean() if block.size else np.nan
                np.testing.assert_allclose(means[i, j, c], expected, rtol=1e-14)


def test_block_ends_stop_at_each_sequences_last_observed_sample():
    sequences = _sequences_with_gaps()
    ends = block_ends(sequences, 5)
    assert ends.tolist()[0] == [4, 9, 14, 19, 22]
    assert ends.tolist()[1] == [4, 9, 14, 16, 16], "the padded sequence's last block ends with it"


def test_lost_variance_against_a_direct_computation():
    sequences = _sequences_with_gaps(seed=1)
    factor = 4
    lost = total = 0.0
    for i in range(3):
        for c in range(2):
            series = sequences[i, :, c]
            observed = ~np.isnan(series)
            total += np.sum((series[observed] - series[observed].mean()) ** 2)
            for start in range(0, series.size, factor):
                block = series[start:start + factor]
                block = block[~np.isnan(block)]
                lost += np.sum((block - block.mean()) ** 2) if block.size else 0.0
    np.testing.assert_allclose(lost_variance(sequences, factor), lost / total, rtol=1e-12)
    assert lost_variance(sequences, 1) == 0.0
    assert lost_variance(np.ones((2, 8, 1)), 2) == 0.0


def test_an_oversampled_recording_is_decimated_and_white_noise_is_not():
    t = np.arange(256.0)
    slow = np.stack([np.sin(2 * np.pi * t / 128 + phase) for phase in (0.0, 1.0)])[:, :, None]
    assert choose_decimation(slow) == 4  # 8 loses 2 % of the variance
    assert choose_decimation(slow, max_lost_variance=0.05) == 8
    assert choose_decimation(slow, (1, 2)) == 2
    assert choose_decimation(slow[:, :40]) == 2, "factor 4 would leave 10 blocks, fewer than MIN_BLOCKS"
    noise = np.random.default_rng(0).normal(size=(4, 256, 2))
    assert choose_decimation(noise) == 1
    np.testing.assert_allclose(lost_variance(noise, 4), 0.75, atol=0.02)  # (k − 1)/k for white noise


@pytest.mark.parametrize("phases", [1, 2, 3, 5, 23, 40])
def test_phase_channels_hold_every_sample_once_in_its_phase(phases):
    sequences = _sequences_with_gaps()
    observed = phase_channels(sequences, phases)
    n_blocks = -(-sequences.shape[1] // phases)
    assert observed.shape == (3, n_blocks, 2 * phases)
    for i in range(3):
        for j in range(n_blocks):
            for c in range(2):
                for p in range(phases):
                    t = j * phases + p
                    expected = sequences[i, t, c] if t < sequences.shape[1] else np.nan
                    np.testing.assert_array_equal(observed[i, j, c * phases + p], expected)


def test_periodic_share_against_a_direct_computation():
    sequences = _sequences_with_gaps(seed=2)
    period = 3
    carried = total = 0.0
    for i in range(3):
        for c in range(2):
            series = sequences[i, :, c]
            observed = ~np.isnan(series)
            centre = series[observed].mean()
            total += np.sum((series[observed] - centre) ** 2)
            for p in range(period):
                phase = series[p::period]
                phase = phase[~np.isnan(phase)]
                carried += phase.size * (phase.mean() - centre) ** 2 if phase.size else 0.0
    np.testing.assert_allclose(periodic_share(sequences, period), carried / total, rtol=1e-12)
    assert periodic_share(sequences, 1) == 0.0
    assert periodic_share(np.ones((2, 8, 1)), 2) == 0.0


def test_periodic_share_of_classes_against_a_direct_computation():
    sequences, classes = _sequences_with_gaps(seed=3), np.array(["b", "a", "b"])
    period = 3
    carried = total = 0.0
    centred = sequences - np.nanmean(sequences, axis=1, keepdims=True)
    total = np.nansum(centred**2)
    for label in ("a", "b"):
        for c in range(2):
            for p in range(period):
                phase = centred[classes == label, p::period, c]
                phase = phase[~np.isnan(phase)]
                carried += phase.size * phase.mean() ** 2 if phase.size else 0.0
    np.testing.assert_allclose(periodic_share(sequences, period, classes), carried / total, rtol=1e-12)
    # One class per sequence is the default.
    assert periodic_share(sequences, period, [0, 1, 2]) == pytest.approx(periodic_share(sequences, period), 1e-12)


def test_a_waveform_counts_only_where_it_is_aligned_across_a_classes_recordings():
    rng = np.random.default_rng(1)
    t = np.arange(256)
    waveform = np.array([1.0, -0.2, 0.4, -1.3])
    offsets = rng.integers(0, 4, size=8)
    shifted = waveform[(t + offsets[:, None]) % 4][:, :, None] + 0.1 * rng.normal(size=(8, 256, 1))
    classes = np.arange(8) % 2
    assert choose_phases(shifted) == 4, "each recording repeats a waveform"
    assert choose_phases(shifted, classes=classes) == 1, "but the phase channels mean different things in each"
    aligned = shifted.copy()
    aligned[:] = waveform[t % 4][None, :, None] + 0.1 * rng.normal(size=(8, 256, 1))
    assert choose_phases(aligned, classes=classes) == 4


def test_a_repeated_waveform_is_observed_in_phases_and_smooth_recordings_and_noise_are_not():
    rng = np.random.default_rng(0)
    t = np.arange(256)
    waveform = np.array([1.0, -0.2, 0.4, -1.3])
    periodic = (1 + 0.2 * np.sin(2 * np.pi * t / 256))[None, :, None] * waveform[t % 4][None, :, None]
    periodic = periodic + 0.1 * rng.normal(size=(3, 256, 1))
    assert periodic_share(periodic, 4) > 0.95 and 0.5 < periodic_share(periodic, 2) < 0.75
    assert choose_phases(periodic) == 4, "period 2 carries most of the variance, but not nearly all 4 carries"
    assert choose_phases(periodic, (2, 8)) == 8  # a multiple of the period carries it too
    assert choose_phases(periodic, (2, 3)) == 2
    assert choose_phases(periodic, min_share=0.999) == 1
    short = periodic[:, :4 * (MIN_BLOCKS - 1)]
    assert choose_phases(short, (4, 8)) == 1, "4 would leave fewer than MIN_BLOCKS observations"
    assert choose_phases(short) == 2, "of the periods left, 2 carries most of the variance"
    gappy = periodic.copy()
    gappy[:, 1::4] = np.nan  # phase 1 never observed: nothing to learn its channel from
    assert choose_phases(gappy, (4,)) == 1
    smooth = np.sin(2 * np.pi * t / 128)[None, :, None]
    noise = rng.normal(size=(4, 256, 2))
    assert choose_phases(smooth) == choose_phases(noise) == 1
    many = rng.normal(size=(200, 256, 1))
    np.testing.assert_allclose(periodic_share(many, 4), 3 / 255, rtol=0.15)  # (k − 1)/(T − 1) for white noise


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: phase_channels(np.zeros((1, 4, 1)), 0), ParameterError, "phases must be a positive integer"),
    (lambda: phase_channels(np.zeros((4, 1)), 2), ShapeError, r"\(n_sequences, n_timepoints, n_channels\)"),
    (lambda: periodic_share(np.full((1, 4, 1), np.inf), 2), NonFiniteError, "inf"),
    (lambda: periodic_share(np.zeros((1, 4, 1)), 1.5), ParameterError, "period must be a positive integer"),
    (lambda: choose_phases(np.zeros((1, 4, 1)), min_share=0.0), ParameterError, r"\(0, 1\]"),
    (lambda: choose_phases(np.zeros((1, 4, 1)), (2, 0)), ParameterError, "candidates"),
    (lambda: choose_phases(np.zeros((1, 4, 1)), 4), ParameterError, "candidates must be a sequence"),
    (lambda: choose_phases(np.zeros((1, 4, 1)), min_share="a"), ParameterError, r"\(0, 1\]"),
    (lambda: choose_phases(np.zeros((1, 4, 1)), min_share=True), ParameterError, r"\(0, 1\]"),
    (lambda: periodic_share(np.zeros((2, 4, 1)), 2, classes=[0]), ShapeError, "one label per sequence"),
    (lambda: block_means(np.zeros((2, 5)), 2), ShapeError, r"\(n_sequences, n_timepoints, n_channels\)"),
    (lambda: block_means(np.zeros((2, 0, 1)), 2), ShapeError, "non-empty"),
    (lambda: block_means(np.full((1, 4, 1), np.inf), 2), NonFiniteError, "inf"),
    (lambda: block_means(np.zeros((1, 4, 1)), 0), ParameterError, "factor must be a positive integer"),
    (lambda: block_ends(np.zeros((1, 4, 1)), 2.0), ParameterError, "factor must be a positive integer"),
    (lambda: choose_decimation(np.zeros((1, 4, 1)), max_lost_variance=1.0), ParameterError, r"\[0, 1\)"),
    (lambda: choose_decimation(np.zeros((1, 4, 1)), (1, -2)), ParameterError, "candidates"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
