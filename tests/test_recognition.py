import numpy as np
import pytest

from rrnn_net import GenerativeRNN
from rrnn_net.datasets import class_sequences
from rrnn_net.errors import NonFiniteError, ParameterError, ShapeError
from rrnn_net.recognition import NotFittedError, RRNNClassifier, softmax_posterior


@pytest.fixture(scope="module")
def two_class_data():
    models = [GenerativeRNN.oscillator(4, 2, seed=seed, frequency=f) for seed, f in ((0, 6.0), (1, 9.0))]
    X, y = class_sequences(models, 6, 120, seed=0)
    return models, X, y


def test_bank_with_true_models_recognises_and_gets_more_confident(two_class_data):
    models, X, y = two_class_data
    clf = RRNNClassifier.from_models(models, classes=np.array(["slow", "fast"]))
    labels = np.array(["slow", "fast"])[y]
    assert clf.score(X, labels) == 1.0
    online = clf.predict_proba_online(X)
    assert online.shape == (12, 120, 2)
    np.testing.assert_allclose(online.sum(axis=-1), 1.0)
    truth_index = y
    confidence = online[np.arange(12), :, truth_index]
    assert confidence[:, -1].mean() > confidence[:, 5].mean()


def test_evidence_equals_sum_of_ukf_logliks(two_class_data):
    from rrnn_net import UKF

    models, X, _ = two_class_data
    clf = RRNNClassifier.from_models(models, classes=[0, 1], prior_variance=0.3)
    evidence = clf.log_evidence_online(X[:3])
    expected = UKF(models[1]).filter(np.swapaxes(X[:3], 1, 2), cov0=0.3 * np.eye(4)).evidence
    np.testing.assert_allclose(evidence[..., 1], expected)


def test_missing_samples_and_unequal_lengths(two_class_data):
    models, X, y = two_class_data
    clf = RRNNClassifier.from_models(models, classes=[0, 1])
    X = X.copy()
    X[0, :, 100:] = np.nan  # a shorter sequence (NaN padding)
    X[1, 0, ::3] = np.nan  # a channel with gaps
    online = clf.log_evidence_online(X)
    np.testing.assert_array_equal(online[0, 100:], np.repeat(online[0, 99:100], 20, axis=0))
    assert np.all(np.isfinite(online))
    assert clf.score(X, y) == 1.0


def test_decision_time(two_class_data):
    models, X, _ = two_class_data
    clf = RRNNClassifier.from_models(models, classes=[0, 1])
    times = clf.decision_time(X, threshold=0.99)
    assert times.shape == (12,) and np.all((times >= 1) & (times <= 120))
    proba = clf.predict_proba_online(X)
    first = int(times[0]) - 1
    assert proba[0, first].max() >= 0.99 and (first == 0 or proba[0, first - 1].max() < 0.99)


def test_save_load_round_trip(tmp_path, two_class_data):
    models, X, _ = two_class_data
    clf = RRNNClassifier.from_models(models, classes=np.array(["a", "b"]), channel_mean=[0.1, -0.2],
                                     channel_std=[1.5, 0.5], prior_variance=0.2)
    path = clf.save(tmp_path / "clf.npz")
    loaded = RRNNClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba_online(X), clf.predict_proba_online(X))
    assert loaded.get_params()["prior_variance"] == 0.2


def test_fit_uses_the_fitter_per_class_on_standardised_data(two_class_data):
    models, X, y = two_class_data
    calls = []

    def oracle_fitter(sequences, n_hidden, *, dt, tau, seed):
        calls.append((sequences.shape, dt, tau, seed, np.nanmean(sequences)))
        return models[len(calls) - 1]

    clf = RRNNClassifier(4, sample_interval=0.005, tau=0.02, fitter=oracle_fitter).fit(X * 3.0 + 1.0, y)
    assert [c[0] for c in calls] == [(6, 120, 2), (6, 120, 2)]
    assert calls[0][1:4] == (0.005, 0.02, 0)
    assert np.isclose(np.mean([c[4] for c in calls]), 0.0, atol=1e-12)
    np.testing.assert_array_equal(clf.classes_, [0, 1])


def test_sklearn_protocol_and_errors(two_class_data):
    _, X, y = two_class_data
    clf = RRNNClassifier(6, decoder="ekf")
    assert clf.get_params()["n_hidden"] == 6
    assert clf.set_params(n_hidden=3) is clf and clf.n_hidden == 3
    with pytest.raises(ParameterError, match="invalid parameter"):
        clf.set_params(bogus=1)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    with pytest.raises(ParameterError, match="decoder"):
        RRNNClassifier(decoder="magic").fit(X, y)
    with pytest.raises(ShapeError, match="y must have shape"):
        RRNNClassifier().fit(X, y[:3])
    with pytest.raises(ShapeError, match="n_samples, n_channels"):
        RRNNClassifier().fit(X[0], y)
    bad = X.copy()
    bad[0, 0, 0] = np.inf
    with pytest.raises(NonFiniteError):
        RRNNClassifier().fit(bad, y)


def test_softmax_posterior_is_stable():
    posterior = softmax_posterior(np.array([[1e4, 1e4 - np.log(3)]]))
    np.testing.assert_allclose(posterior, [[0.75, 0.25]])


def test_added_noise_raises_every_models_observation_noise(two_class_data):
    models, _, _ = two_class_data
    clf = RRNNClassifier.from_models(models, classes=[0, 1], channel_std=[2.0, 0.5])
    noisier = clf.with_added_noise([0.4, 0.1])
    for before, after in zip(clf.models_, noisier.models_, strict=True):
        np.testing.assert_allclose(after.R - before.R, np.diag([0.1, 0.4]))
    assert clf.models_[0].R[0, 0] == models[0].R[0, 0], "the original stays unchanged"
    with pytest.raises(ParameterError):
        clf.with_added_noise(-1.0)


@pytest.mark.slow
def test_brian2_bank_recognises_like_the_ukf_bank(two_class_data):
    models, X, y = two_class_data
    models = [model.replace(substeps=4) for model in models]
    clf = RRNNClassifier.from_models(models, classes=[0, 1], decoder="brian2")
    assert clf.score(X[:, :, :60], y) >= 0.9
