import numpy as np
import pytest

from rrnn_net import GenerativeRNN
from rrnn_net.datasets import (
    MissingExtraError,
    chaotic_model,
    class_sequences,
    largest_lyapunov_exponent,
    load_aeon_recordings,
    load_basic_motions,
    load_observations,
    observed_lengths,
    pad_sequences,
    switching_sequences,
    to_batch_first,
)
from rrnn_net.errors import DecodeError, ParameterError, ShapeError


def test_basic_motions_shapes_and_classes():
    pytest.importorskip("aeon")
    data = load_basic_motions()
    assert data.X_train.shape == (40, 6, 100) and data.X_test.shape == (40, 6, 100)
    assert set(data.classes) == {"badminton", "running", "standing", "walking"}
    assert data.sample_rate_hz == 10.0 and len(data.channel_names) == 6
    assert np.isfinite(data.X_train).all()


def test_missing_aeon_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_aeon(name, *args, **kwargs):
        if name.startswith("aeon"):
            raise ImportError("no aeon here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_aeon)
    with pytest.raises(MissingExtraError, match=r"rrnn_net\[data\]"):
        load_basic_motions()


def test_unknown_recording_set():
    with pytest.raises(ParameterError, match="unknown recording set"):
        load_aeon_recordings("NotADataset")


def test_to_batch_first():
    X = np.arange(24.0).reshape(2, 3, 4)
    converted = to_batch_first(X)
    assert converted.shape == (2, 4, 3)
    assert converted[1, 2, 0] == X[1, 0, 2]
    with pytest.raises(ShapeError):
        to_batch_first(X[0])


def test_chaotic_model_separates_nearby_trajectories():
    model = chaotic_model(40, 3, seed=0)
    start = np.random.default_rng(1).standard_normal(40)
    a = model.run_open_loop(start, 3000)
    b = model.run_open_loop(start + 1e-8, 3000)
    assert np.abs(a[-1] - b[-1]).max() > 1e-2, "chaos: a 1e-8 perturbation must grow"
    assert a[-300:].std(axis=0).mean() > 0.1


def test_lyapunov_exponent_of_contracting_and_oscillating_models():
    """A linear contraction x ← a x has exponent log(a)/Δ; a limit cycle's largest exponent is ~0."""
    contraction = GenerativeRNN(W=np.zeros((2, 2)), M=np.ones((1, 2)), tau=0.05, sample_interval=0.01,
                                activation="linear")
    expected = np.log(1 - 0.01 / 0.05) / 0.01
    assert largest_lyapunov_exponent(contraction, np.ones(2), transient=0, n_steps=50) == pytest.approx(expected)
    cycle = GenerativeRNN.oscillator(4, 2, seed=0)
    assert abs(largest_lyapunov_exponent(cycle, np.full(4, 0.5))) < 0.5


def test_class_sequences_labels_follow_models():
    models = [GenerativeRNN.oscillator(4, 2, seed=s) for s in (0, 1)]
    X, y = class_sequences(models, 3, 50, seed=0)
    assert X.shape == (6, 2, 50)
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1, 1])


def test_switching_sequences_switch_dynamics_and_keep_state():
    first = GenerativeRNN.oscillator(4, 2, seed=0, process_noise=0.0)
    second = GenerativeRNN.oscillator(4, 2, seed=1, process_noise=0.0)
    states, observations, active = switching_sequences(first, second, 100, 40, batch=2, seed=3)
    assert states.shape == (2, 100, 4) and observations.shape == (2, 100, 2)
    assert active[39] == 0 and active[40] == 1
    np.testing.assert_allclose(states[:, 40], second.transition(states[:, 39]))
    with pytest.raises(ParameterError):
        switching_sequences(first, second, 100, 100)


def test_pad_sequences_stacks_unequal_lengths_with_nan():
    from rrnn_net.datasets import pad_sequences

    padded = pad_sequences([np.ones((2, 3)), np.zeros((2, 1))])
    assert padded.shape == (2, 2, 3)
    np.testing.assert_array_equal(padded[1, :, 0], [0.0, 0.0])
    assert np.isnan(padded[1, :, 1:]).all() and not np.isnan(padded[0]).any()
    with pytest.raises(ShapeError, match="channels"):
        pad_sequences([np.ones((2, 3)), np.ones((3, 3))])
    with pytest.raises(ShapeError, match="time point"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 0))])
    with pytest.raises(ShapeError):
        pad_sequences([])


def test_check_sequences_takes_numpys_container_of_unequal_sequences_and_names_univariate_lists():
    from rrnn_net.datasets import check_sequences

    unequal = [np.ones((1, 5)), np.zeros((1, 7))]
    container = np.empty(2, dtype=object)
    container[:] = unequal
    np.testing.assert_array_equal(check_sequences(container), check_sequences(unequal))
    with pytest.raises(ShapeError, match=r"a list of \(n_channels, n_timepoints_i\) arrays; a univariate series x is "
                                         r"x\[None\]"):
        check_sequences([np.ones(5), np.zeros(7)])
    assert check_sequences([np.ones(5), np.zeros(5)]).shape == (2, 1, 5)  # equal lengths: 2-D, univariate


def test_unequal_length_gestures_load_padded():
    pytest.importorskip("aeon")
    data = load_aeon_recordings("PickupGestureWiimoteZ")
    assert data.X_train.shape[:2] == (50, 1) and len(data.classes) == 10
    lengths = (~np.isnan(data.X_train[:, 0])).sum(axis=1)
    assert lengths.min() < lengths.max() == data.X_train.shape[2]


def test_a_csv_that_is_not_utf8_is_a_decode_error_naming_the_file(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("température\n0.5\n".encode("latin-1"))
    with pytest.raises(DecodeError, match=r"latin1\.csv: not UTF-8 text"):
        load_observations(path)


def test_a_byte_order_mark_does_not_turn_the_first_row_into_a_header(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeff0.5,1.0\n0.7,2.0\n".encode())
    np.testing.assert_array_equal(load_observations(path), [[0.5, 1.0], [0.7, 2.0]])


def test_a_first_row_with_a_typo_is_an_error_naming_the_line_not_a_header(tmp_path):
    path = tmp_path / "typo.csv"
    path.write_text("0.5,O.3\n0.7,2.0\n")  # the letter O: a typo, not a channel name
    with pytest.raises(DecodeError, match=r"typo\.csv: .*line 1, column 2: 'O\.3' is not a number; the row also "
                                          r"holds numbers"):
        load_observations(path)


def test_a_header_holds_names_only_and_later_errors_name_the_file_line(tmp_path):
    path = tmp_path / "named.csv"
    path.write_text("left,,right\n0.5,1,2\n\n0.7,x,2.0\n")  # an unnamed column; a blank line still counts
    with pytest.raises(DecodeError, match=r"line 4, column 2: 'x' is not a number\)"):
        load_observations(path)
    path.write_text("left,,right\n0.5,1,2\n")
    np.testing.assert_array_equal(load_observations(path), [[0.5, 1.0, 2.0]])
    path.write_text('"' + "9" * 200_000 + '"\n')  # beyond the csv module's field limit: a broken file
    with pytest.raises(DecodeError, match=r"not a CSV table .*field limit"):
        load_observations(path)


def test_an_empty_npy_file_is_a_decode_error(tmp_path):
    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(DecodeError, match=r"not a numeric \.npy array"):
        load_observations(tmp_path / "empty.npy")


def test_a_complex_npy_recording_is_refused_not_cast(tmp_path):
    from rrnn_net.datasets import load_observations

    path = tmp_path / "complex.npy"
    np.save(path, np.zeros((0, 2), dtype=complex))
    with pytest.raises(ParameterError, match="real numbers"):
        load_observations(path)


def test_observed_lengths_of_a_padded_list_are_its_lengths_and_other_input_is_named():
    padded = np.swapaxes(pad_sequences([np.ones((2, 4)), np.ones((2, 1)), np.ones((2, 7))]), 1, 2)
    padded[0, 1] = np.nan  # a missing sample inside does not shorten a sequence
    np.testing.assert_array_equal(observed_lengths(padded), [4, 1, 7])
    for bad in (np.ones((3, 4)), [[[1.0]]], np.ones((1, 2, 1), dtype=int)):
        with pytest.raises(ShapeError, match=r"float array \(n_sequences, n_timepoints, n_channels\)"):
            observed_lengths(bad)
