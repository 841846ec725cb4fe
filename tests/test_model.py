import copy
import json
import pickle

import numpy as np
import pytest

from rrnn_net import (
    CovarianceError,
    GenerativeRNN,
    NonFiniteError,
    OutOfMemoryError,
    ParameterError,
    ShapeError,
    UnstableSettingError,
)


def numerical_jacobian(function, x, eps=1e-6):
    columns = []
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = eps
        columns.append((function(x + step) - function(x - step)) / (2 * eps))
    return np.stack(columns, axis=-1)


def test_simulate_shapes_and_seed(tanh_model):
    states, observations = tanh_model.simulate(50, batch=4, seed=7)
    assert states.shape == (4, 50, 6)
    assert observations.shape == (4, 50, 3)
    again_states, again_obs = tanh_model.simulate(50, batch=4, seed=7)
    np.testing.assert_array_equal(states, again_states)
    np.testing.assert_array_equal(observations, again_obs)
    other, _ = tanh_model.simulate(50, batch=4, seed=8)
    assert not np.allclose(states, other)


def test_simulate_noise_statistics():
    """Observation residuals have covariance R; one-step state increments have covariance Q h."""
    model = GenerativeRNN.random(3, 2, seed=1, process_noise=[0.02, 0.05, 0.1], observation_noise=[0.01, 0.04])
    states, observations = model.simulate(400, batch=200, seed=2)
    residual = observations - model.observe(states)
    np.testing.assert_allclose(np.cov(residual.reshape(-1, 2).T), model.R, atol=2e-3)
    increments = states[:, 1:] - model.transition(states[:, :-1])
    np.testing.assert_allclose(np.cov(increments.reshape(-1, 3).T), model.Q * model.sample_interval, atol=3e-5)


def test_oscillator_keeps_moving():
    model = GenerativeRNN.oscillator(8, 3, seed=4)
    trajectory = model.run_open_loop(np.full(8, 0.1), 2000)
    late = trajectory[-400:]
    assert late.std(axis=0).mean() > 0.3, "the limit cycle should not decay to a fixed point"


def test_jacobians_match_finite_differences(tanh_model):
    x = np.random.default_rng(0).standard_normal(6)
    np.testing.assert_allclose(tanh_model.drift_jacobian(x), numerical_jacobian(tanh_model.drift, x), atol=1e-7)
    np.testing.assert_allclose(tanh_model.observation_jacobian(x), numerical_jacobian(tanh_model.observe, x),
                               atol=1e-8)
    model = tanh_model.replace(substeps=3)
    np.testing.assert_allclose(model.transition_jacobian(x), numerical_jacobian(model.transition, x), atol=1e-7)


def test_batched_jacobians_match_single(tanh_model):
    x = np.random.default_rng(1).standard_normal((5, 6))
    batched = tanh_model.drift_jacobian(x)
    for trial in range(5):
        np.testing.assert_array_equal(batched[trial], tanh_model.drift_jacobian(x[trial]))


def test_save_load_round_trip(tmp_path, tanh_model):
    path = tanh_model.save(tmp_path / "model.npz")
    loaded = GenerativeRNN.load(path)
    for name in ("W", "M", "b", "c", "Q", "R"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(tanh_model, name))
    assert (loaded.tau, loaded.sample_interval, loaded.substeps, loaded.activation) == (
        tanh_model.tau, tanh_model.sample_interval, tanh_model.substeps, tanh_model.activation)


def test_save_without_suffix_adds_npz_and_returns_the_file_written(tmp_path, tanh_model):
    path = tanh_model.save(tmp_path / "model")
    assert path == tmp_path / "model.npz" and [entry.name for entry in tmp_path.iterdir()] == ["model.npz"]


def test_save_refuses_another_suffix_and_a_folder(tmp_path, tanh_model):
    with pytest.raises(ParameterError, match=r"written as \.npz, not \.graphml"):
        tanh_model.save(tmp_path / "x.graphml")
    folder = tmp_path / "models"
    folder.mkdir()
    with pytest.raises(ParameterError, match="is a folder"):
        tanh_model.save(folder)
    assert [entry.name for entry in tmp_path.iterdir()] == ["models"] and not any(folder.iterdir())


def test_save_replaces_an_existing_file(tmp_path, tanh_model):
    path = tmp_path / "model.npz"
    path.write_bytes(b"older")
    assert GenerativeRNN.load(tanh_model.save(path)).tau == tanh_model.tau


@pytest.mark.parametrize("content", ["truncated", "npy", "empty"])
def test_load_reports_a_broken_archive_as_not_a_saved_model(tmp_path, tanh_model, content):
    path = tanh_model.save(tmp_path / "model.npz")
    saved = path.read_bytes()
    if content == "npy":
        with path.open("wb") as handle:
            np.save(handle, np.eye(2))
    else:
        path.write_bytes(saved[:len(saved) // 2] if content == "truncated" else b"")
    with pytest.raises(ParameterError, match="not a saved GenerativeRNN"):
        GenerativeRNN.load(path)


def test_load_rejects_foreign_files(tmp_path, tanh_model):
    bogus = tmp_path / "bogus.npz"
    np.savez(bogus, W=np.eye(2))
    with pytest.raises(ParameterError, match="not a saved GenerativeRNN"):
        GenerativeRNN.load(bogus)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, W=np.array([object()], dtype=object))
    with pytest.raises(ParameterError):
        GenerativeRNN.load(pickled)
    wrong_version = tmp_path / "wrong.npz"
    arrays = {name: getattr(tanh_model, name) for name in ("W", "M", "b", "c", "Q", "R")}
    np.savez(wrong_version, **arrays, metadata=np.array(json.dumps({"format": "rrnn_net.GenerativeRNN",
                                                                      "version": 99})))
    with pytest.raises(ParameterError, match="version"):
        GenerativeRNN.load(wrong_version)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"W": np.ones((2, 3))}, ShapeError, "W must be"),
        ({"M": np.ones((3, 5))}, ShapeError, "M must have shape"),
        ({"b": np.ones(2)}, ShapeError, "b must have shape"),
        ({"W": np.full((6, 6), np.nan)}, NonFiniteError, "W contains"),
        ({"tau": -1.0}, ParameterError, "tau must be positive"),
        ({"tau": np.inf}, NonFiniteError, "tau must be finite"),
        ({"sample_interval": 0.1}, UnstableSettingError, "below 2\\*tau"),
        ({"substeps": 0}, ParameterError, "substeps"),
        ({"substeps": 1.5}, ParameterError, "substeps"),
        ({"Q": np.array([[1.0, 0.5], [0.0, 1.0]])}, ShapeError, "Q must be"),
        ({"Q": -np.eye(6)}, CovarianceError, "Q must be positive semidefinite"),
        ({"R": np.zeros(3)}, CovarianceError, "R must be positive definite"),
        ({"R": np.array([[1.0, 0.2, 0], [0.0, 1.0, 0], [0, 0, 1]])}, CovarianceError, "R must be symmetric"),
        ({"activation": "relu"}, ParameterError, "activation"),
        ({"W": "abc"}, ParameterError, "W must be numeric"),
        ({"sample_interval": "0.01"}, ParameterError, "sample_interval must be numeric, not text: '0.01'"),
        ({"W": np.eye(6) * (1 + 1j)}, ParameterError, "W must be real numbers"),
        ({"substeps": 10**9}, ParameterError, "substeps must be at most 10000"),
    ],
)
def test_constructor_rejects_bad_parameters(tanh_model, changes, error, message):
    with pytest.raises(error, match=message):
        tanh_model.replace(**changes)


def test_scalar_and_vector_noise_are_expanded():
    model = GenerativeRNN(W=np.zeros((2, 2)), M=np.ones((1, 2)), Q=[0.1, 0.2], R=0.3)
    np.testing.assert_array_equal(model.Q, np.diag([0.1, 0.2]))
    np.testing.assert_array_equal(model.R, [[0.3]])


def test_simulate_rejects_bad_arguments(tanh_model):
    with pytest.raises(ParameterError):
        tanh_model.simulate(0)
    with pytest.raises(ShapeError, match="x0"):
        tanh_model.simulate(5, batch=2, x0=np.zeros(3))
    with pytest.raises(NonFiniteError):
        tanh_model.simulate(5, x0=np.full(6, np.nan))


def test_the_old_name_of_the_sample_interval_still_works_with_a_warning(tanh_model):
    with pytest.warns(DeprecationWarning, match="sample_interval"):
        assert tanh_model.dt == tanh_model.sample_interval
    with pytest.warns(DeprecationWarning, match="sample_interval"):
        old = GenerativeRNN(W=tanh_model.W, M=tanh_model.M, dt=0.02)
    assert old.sample_interval == 0.02 and old.step == 0.02
    with pytest.warns(DeprecationWarning, match="sample_interval"):
        assert GenerativeRNN.oscillator(3, 2, dt=0.004).sample_interval == 0.004


def test_a_model_saved_by_version_one_loads(tanh_model, tmp_path):
    """Format 1 called the sample interval "dt"."""
    import json

    path = tanh_model.save(tmp_path / "model.npz")
    with np.load(path) as data:
        arrays = dict(data)
    metadata = json.loads(str(arrays["metadata"]))
    metadata["version"] = 1
    metadata["dt"] = metadata.pop("sample_interval")
    arrays["metadata"] = np.array(json.dumps(metadata))
    np.savez(tmp_path / "old.npz", **arrays)
    assert GenerativeRNN.load(tmp_path / "old.npz").sample_interval == tanh_model.sample_interval


def test_giving_the_sample_interval_and_its_deprecated_name_is_refused(tanh_model):
    with pytest.raises(ParameterError, match=r"sample_interval=0\.02, dt=0\.01"):
        GenerativeRNN(W=tanh_model.W, M=tanh_model.M, sample_interval=0.02, dt=0.01)
    with pytest.raises(ParameterError, match="once"):
        GenerativeRNN.oscillator(3, 2, sample_interval=0.005, dt=0.004)
    with pytest.raises(ParameterError, match="once"):
        GenerativeRNN.random(3, 2, sample_interval=0.01, dt=0.01)


@pytest.mark.parametrize("seed", [-1, "a", 1.5])
def test_a_negative_or_non_integer_seed_is_a_parameter_error(tanh_model, seed):
    with pytest.raises(ParameterError, match="seed must be None, an integer >= 0"):
        tanh_model.simulate(3, seed=seed)
    with pytest.raises(ParameterError, match="seed"):
        GenerativeRNN.oscillator(3, 2, seed=seed)


def test_simulate_names_the_size_it_cannot_allocate_before_allocating(tanh_model):
    with pytest.raises(OutOfMemoryError, match=r"batch=1000000000000\) .* needs [0-9.]+ TiB of float64 arrays; "
                                               r"this machine has"):
        tanh_model.simulate(10, batch=10**12)


def test_non_numeric_oscillator_settings_are_parameter_errors():
    with pytest.raises(ParameterError, match="growth must be numeric"):
        GenerativeRNN.oscillator(3, 2, growth="a")
    with pytest.raises(ParameterError, match="background_radius must be >= 0"):
        GenerativeRNN.oscillator(3, 2, background_radius=-1.0)


@pytest.mark.parametrize("change", ["drop substeps", "substeps text", "not an object"])
def test_load_refuses_metadata_missing_or_mistyping_a_setting(tanh_model, tmp_path, change):
    path = tanh_model.save(tmp_path / "model.npz")
    with np.load(path) as data:
        arrays = dict(data)
    metadata = json.loads(str(arrays["metadata"]))
    if change == "drop substeps":
        del metadata["substeps"]  # a default would load another model
    elif change == "substeps text":
        metadata["substeps"] = "x"
    else:
        metadata = [metadata]
    arrays["metadata"] = np.array(json.dumps(metadata))
    np.savez(tmp_path / "edited.npz", **arrays)
    message = {"drop substeps": r"edited\.npz is not a complete saved GenerativeRNN: its metadata lacks \['substeps'\]",
               "substeps text": r"edited\.npz: substeps must be a positive integer",
               "not an object": "metadata is a JSON list"}[change]
    with pytest.raises(ParameterError, match=message):
        GenerativeRNN.load(tmp_path / "edited.npz")


@pytest.mark.parametrize("factory", [GenerativeRNN.random, GenerativeRNN.oscillator])
def test_factories_refuse_a_size_beyond_memory_before_allocating(factory):
    with pytest.raises(OutOfMemoryError, match="needs"):
        factory(10**7, 2)


def test_pretty_printers_show_the_repr_without_touching_the_deprecated_dt():
    import warnings

    from hypothesis.vendor.pretty import pretty

    model = GenerativeRNN.oscillator(3, 2, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pretty(model) == repr(model)


@pytest.mark.parametrize("duplicate", [copy.copy, copy.deepcopy, lambda model: pickle.loads(pickle.dumps(model))],
                         ids=["copy", "deepcopy", "pickle"])
def test_copies_are_equal_and_stay_read_only(tanh_model, duplicate):
    twin = duplicate(tanh_model)
    for name in ("W", "M", "b", "c", "Q", "R"):
        assert np.array_equal(getattr(twin, name), getattr(tanh_model, name))
        assert not getattr(twin, name).flags.writeable, name
    assert (twin.tau, twin.sample_interval, twin.substeps, twin.activation) == (
        tanh_model.tau, tanh_model.sample_interval, tanh_model.substeps, tanh_model.activation)
    y = tanh_model.simulate(20, seed=1)[1]
    assert np.array_equal(twin.simulate(20, seed=1)[1], y)
