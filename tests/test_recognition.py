import copy
import warnings
from pathlib import Path

import numpy as np
import pytest

from rrnn_net import GenerativeRNN, recognition
from rrnn_net.datasets import check_sequences, class_sequences
from rrnn_net.errors import NonFiniteError, ParameterError, ShapeError
from rrnn_net.recognition import MEMBER_SEED_STRIDE, NotFittedError, RRNNClassifier, softmax_posterior


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


def test_save_refuses_another_suffix_and_load_names_a_truncated_file(tmp_path, two_class_data):
    models, _, _ = two_class_data
    clf = RRNNClassifier.from_models(models, classes=np.array(["a", "b"]))
    with pytest.raises(ParameterError, match=r"written as \.npz, not \.json"):
        clf.save(tmp_path / "clf.json")
    saved = clf.save(tmp_path / "clf").read_bytes()
    (tmp_path / "clf.npz").write_bytes(saved[:len(saved) // 2])
    with pytest.raises(ParameterError, match="not a saved RRNNClassifier"):
        RRNNClassifier.load(tmp_path / "clf.npz")


def test_fit_uses_the_fitter_per_class_on_standardised_data(two_class_data):
    models, X, y = two_class_data
    calls = []

    def oracle_fitter(sequences, n_hidden, *, sample_interval, tau, seed):
        calls.append((sequences.shape, sample_interval, tau, seed, np.nanmean(sequences)))
        return models[len(calls) - 1]

    clf = RRNNClassifier(4, n_members=1, sample_interval=0.005, tau=0.02, fitter=oracle_fitter).fit(X * 3.0 + 1.0, y)
    assert [c[0] for c in calls] == [(6, 120, 2), (6, 120, 2)]
    assert calls[0][1:4] == (0.005, 0.02, 0)
    assert np.isclose(np.mean([c[4] for c in calls]), 0.0, atol=1e-12)
    np.testing.assert_array_equal(clf.classes_, [0, 1])


def test_sklearn_protocol_and_errors(two_class_data):
    _, X, y = two_class_data
    clf = RRNNClassifier(6, decoder="ekf")
    assert clf.get_params()["n_hidden"] == 6
    assert clf.set_params(n_hidden=3) is clf and clf.n_hidden == 3
    with pytest.raises(ParameterError, match="Invalid parameter 'bogus'"):
        clf.set_params(bogus=1)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    with pytest.raises(ParameterError, match="decoder"):
        RRNNClassifier(decoder="magic").fit(X, y)
    with pytest.raises(ParameterError, match="objective"):
        RRNNClassifier(objective="adversarial").fit(X, y)
    with pytest.raises(ShapeError, match="y must have shape"):
        RRNNClassifier().fit(X, y[:3])
    with pytest.raises(ShapeError, match="n_samples, n_channels"):
        RRNNClassifier().fit(X[0, 0], y)  # one sequence of one channel: not a batch
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


@pytest.fixture(scope="module")
def learned(two_class_data):
    """A bank learned with the default objective (small and quick: EKF evidence, few steps)."""
    _, X, y = two_class_data
    options = {"evidence_steps": 40, "conditional_steps": 20, "init_epochs": 20}
    return RRNNClassifier(3, n_members=1, sample_interval=0.005, tau=0.02, decoder="ekf", fit_options=options).fit(X, y)


def test_default_fit_learns_priors_and_an_evidence_scale(learned, two_class_data):
    models, _, _ = two_class_data
    pytest.importorskip("jax")
    assert learned.mean0_.shape == (2, 3) and learned.cov0_.shape == (2, 3, 3)
    assert 0 < learned.evidence_scale_ <= 10 and learned.fit_result_.curves["conditional"].best_step >= 0
    assert 0 <= learned.contamination_ <= 1 and learned.contamination_ == learned.fit_result_.contamination
    fresh, labels = class_sequences(models, 10, 120, seed=5)
    assert learned.score(fresh, labels) >= 0.9
    online = learned.predict_proba_online(fresh)
    expected = softmax_posterior(learned.evidence_scale_ * learned.log_evidence_online(fresh))
    np.testing.assert_allclose(online, (1 - learned.contamination_) * expected + learned.contamination_ / 2)


def test_a_contaminated_posterior_mixes_in_a_uniform_one_and_survives_save_and_noise(tmp_path, two_class_data):
    models, X, _ = two_class_data
    exact = RRNNClassifier.from_models(models, classes=[0, 1], evidence_scale=0.5)
    mixed = RRNNClassifier.from_models(models, classes=[0, 1], evidence_scale=0.5, contamination=0.2)
    np.testing.assert_allclose(mixed.predict_proba_online(X), 0.8 * exact.predict_proba_online(X) + 0.1)
    np.testing.assert_array_equal(mixed.predict(X), exact.predict(X))
    assert mixed.predict_proba(X).max() <= 0.9 + 1e-12, "no class is ever more certain than 1 − ε + ε/K"
    loaded = RRNNClassifier.load(mixed.save(tmp_path / "mixed.npz"))
    assert loaded.contamination_ == 0.2
    np.testing.assert_array_equal(loaded.predict_proba_online(X), mixed.predict_proba_online(X))
    assert mixed.with_added_noise(0.1).contamination_ == 0.2
    uniform = RRNNClassifier.from_models(models, classes=[0, 1], contamination=1)
    np.testing.assert_array_equal(uniform.predict_proba_online(X), 0.5)
    for bad in (-0.1, 1.5, np.nan, True, "0.1", [0.1]):
        with pytest.raises(ParameterError, match="contamination must be a number in"):
            RRNNClassifier.from_models(models, classes=[0, 1], contamination=bad)


def test_unequal_lengths_in_aeons_list_format(learned, two_class_data):
    _, X, _ = two_class_data
    series = [X[0, :, :70], X[1], X[2, :, :5]]
    padded = np.full((3, 2, 120), np.nan)
    for index, item in enumerate(series):
        padded[index, :, :item.shape[1]] = item
    np.testing.assert_array_equal(learned.predict_proba_online(series), learned.predict_proba_online(padded))
    np.testing.assert_array_equal(learned.predict(series), learned.predict(padded))
    with pytest.raises(ShapeError, match="channels"):
        learned.predict([X[0], X[1, :1]])


def test_learned_classifier_round_trips_with_its_priors_and_scale(tmp_path, learned, two_class_data):
    _, X, _ = two_class_data
    loaded = RRNNClassifier.load(learned.save(tmp_path / "bank.npz"))
    np.testing.assert_array_equal(loaded.mean0_, learned.mean0_)
    assert loaded.evidence_scale_ == learned.evidence_scale_ and loaded.get_params()["objective"] == "conditional"
    assert loaded.contamination_ == learned.contamination_
    np.testing.assert_array_equal(loaded.predict_proba_online(X), learned.predict_proba_online(X))
    noisier = learned.with_added_noise(0.1)
    np.testing.assert_array_equal(noisier.cov0_, learned.cov0_)
    assert noisier.evidence_scale_ == learned.evidence_scale_


@pytest.mark.parametrize("version", [1, 3, 4, 5, 6, 7])
def test_an_older_file_loads_as_it_was_saved(tmp_path, two_class_data, version):
    import json

    models, X, _ = two_class_data
    clf = RRNNClassifier.from_models(models, classes=[0, 1], prior_variance=0.3)
    path = clf.save(tmp_path / "new.npz")
    with np.load(path) as data:
        dropped = ("mean0", "cov0", "metadata") if version == 1 else ("metadata",)
        arrays = {name: data[name] for name in data.files if name not in dropped}
        metadata = json.loads(str(data["metadata"]))
    metadata["version"] = version
    del metadata["contamination"]  # version 8's
    if version < 7:
        del metadata["phases"], metadata["params"]["phases"]  # version 7's
    if version < 6:
        del metadata["params"]["n_members"]  # version 6's
    if version < 5:
        del metadata["duration_log_std"], metadata["params"]["duration"]  # version 5's
    if version < 4:
        del metadata["decimation"], metadata["params"]["decimation"]  # version 4's
    if version == 1:  # no learned prior, no evidence scale
        del metadata["evidence_scale"]
    old = tmp_path / "old.npz"
    np.savez(old, metadata=np.array(json.dumps(metadata)), **arrays)
    loaded = RRNNClassifier.load(old)
    assert loaded.decimation_ == 1 and loaded.phases_ == 1 and loaded.get_params()["n_members"] == 1
    np.testing.assert_array_equal(loaded.predict_proba_online(X), clf.predict_proba_online(X))


def test_several_sizes_keep_the_one_validation_prefers(two_class_data):
    _, X, y = two_class_data
    options = {"evidence_steps": 10, "conditional_steps": 5, "init_epochs": 10}
    clf = RRNNClassifier((2, 3), n_members=1, sample_interval=0.005, tau=0.02, decoder="ekf",
                         fit_options=options).fit(X, y)
    assert set(clf.validation_scores_) == {2, 3}
    assert clf.validation_scores_[clf.n_hidden_] == max(clf.validation_scores_.values())
    assert clf.models_[0].n_hidden == clf.n_hidden_ == clf.mean0_.shape[1]
    with pytest.raises(ParameterError, match="n_hidden"):
        RRNNClassifier((), sample_interval=0.005).fit(X, y)


def test_n_init_keeps_the_restart_with_the_best_validation_score(two_class_data):
    from rrnn_net.learning import fit_bank

    _, X, y = two_class_data
    options = {"evidence_steps": 10, "conditional_steps": 5, "init_epochs": 10}
    clf = RRNNClassifier(2, n_members=1, n_init=2, sample_interval=0.005, tau=0.02, decoder="ekf", fit_options=options,
                         seed=1).fit(X, y)
    sequences = np.swapaxes((X - clf.channel_mean_[:, None]) / clf.channel_std_[:, None], 1, 2)
    scores = [fit_bank(sequences, y, 2, sample_interval=0.005, tau=0.02, filter="ekf", seed=1, restart=restart,
                       progress=False, **options).validation_score for restart in (0, 1)]
    assert scores[0] != scores[1]
    assert clf.validation_scores_ == {2: max(scores)} and clf.fit_result_.validation_score == max(scores)
    with pytest.raises(ParameterError, match="n_init must be a positive integer"):
        RRNNClassifier(2, n_init=0).fit(X, y)
    with pytest.raises(ParameterError, match=r"fit_options \['restart'\]: these are already passed"):
        RRNNClassifier(2, fit_options={"restart": 1}).fit(X, y)


def test_weight_decay_reaches_the_bank_learning(two_class_data):
    from rrnn_net.learning import fit_bank

    _, X, y = two_class_data
    options = {"evidence_steps": 10, "conditional_steps": 5, "init_epochs": 10}
    clf = RRNNClassifier(2, n_members=1, sample_interval=0.005, tau=0.02, decoder="ekf", weight_decay=0.5,
                         fit_options=options, seed=1).fit(X, y)
    sequences = np.swapaxes((X - clf.channel_mean_[:, None]) / clf.channel_std_[:, None], 1, 2)
    bank = fit_bank(sequences, y, 2, sample_interval=0.005, tau=0.02, filter="ekf", weight_decay=0.5, seed=1,
                    progress=False, **options)
    for model, expected in zip(clf.models_, bank.models, strict=True):
        np.testing.assert_allclose(model.W, expected.W, rtol=0, atol=1e-12)
    with pytest.raises(ParameterError, match="weight_decay must be a finite number >= 0"):
        RRNNClassifier(2, weight_decay=-1.0).fit(X, y)
    with pytest.raises(ParameterError, match=r"fit_options \['weight_decay'\]: these are already passed"):
        RRNNClassifier(2, fit_options={"weight_decay": 1.0}).fit(X, y)


def test_online_noise_estimation_scores_with_the_adaptive_filter(two_class_data, tmp_path):
    from rrnn_net import UKF

    models, X, y = two_class_data
    adaptive = RRNNClassifier.from_models(models, classes=[0, 1], noise="adaptive")
    noisy = X + np.random.default_rng(8).normal(0.0, 0.5, X.shape)
    sequences = np.swapaxes(noisy, 1, 2)  # from_models: no standardisation
    expected = np.stack([np.cumsum(UKF(model, noise="adaptive").filter(sequences, cov0=0.5 * np.eye(4)).loglik,
                                   axis=1) for model in models], axis=-1)
    np.testing.assert_allclose(adaptive.log_evidence_online(noisy), expected)
    assert adaptive.score(X, y) >= 0.9
    adaptive.save(tmp_path / "adaptive.npz")
    assert RRNNClassifier.load(tmp_path / "adaptive.npz").noise == "adaptive"
    with pytest.raises(ParameterError, match="noise must be"):
        RRNNClassifier.from_models(models, classes=[0, 1], noise="learned")
    with pytest.raises(ParameterError, match="Brian2"):
        RRNNClassifier.from_models(models, classes=[0, 1], noise="adaptive", decoder="brian2")


# ------------------------------------------------------------------ issue 13: refusals instead of guesses
def test_from_models_refuses_mismatched_sizes_and_a_standardisation_that_cannot_divide(two_class_data):
    models, _, _ = two_class_data
    with pytest.raises(ShapeError, match=r"same n_hidden, got \[4, 3\]"):
        RRNNClassifier.from_models([models[0], GenerativeRNN.oscillator(3, 2, seed=2)], classes=[0, 1])
    for std, error, message in (([1.0, 0.0], ParameterError, "channel_std must be positive"),
                                ([1.0, np.nan], NonFiniteError, "channel_std contains NaN")):
        with pytest.raises(error, match=message):  # NaN or 0 would give uniform posteriors, not an error
            RRNNClassifier.from_models(models, classes=[0, 1], channel_std=std)
    with pytest.raises(ShapeError, match=r"channel_mean must have shape \(2,\)"):
        RRNNClassifier.from_models(models, classes=[0, 1], channel_mean=[0.0])


@pytest.mark.parametrize(("bad", "message"), [(np.nan, "contains NaN"), (np.inf, "contains infinity")])
def test_labels_that_are_not_finite_are_refused_without_a_warning(two_class_data, bad, message):
    _, X, y = two_class_data
    labels = y.astype(float)
    labels[3] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn's own check would cast NaN to int first, with a warning
        with pytest.raises(ParameterError, match=f"y: Input y {message}"):
            RRNNClassifier(2, sample_interval=0.005, objective="multistep").fit(X, labels)


@pytest.mark.parametrize(("labels", "message"), [
    (None, "classes must hold one label per sequence|the target y is None"),
    ([0, "walk"], r"all numbers or all text, got \['number', 'text'\]"),
    ([0, None], r"all numbers or all text, got \['NoneType', 'number'\]"),
])
def test_labels_that_are_none_or_of_mixed_types_are_refused(two_class_data, labels, message):
    models, X, y = two_class_data
    with pytest.raises(ParameterError, match=message):
        RRNNClassifier.from_models(models, classes=labels)
    fit_labels = None if labels is None else np.resize(np.array(labels, dtype=object), y.shape)
    with pytest.raises(ParameterError, match=message):
        RRNNClassifier(2, sample_interval=0.005, objective="multistep").fit(X, fit_labels)


@pytest.mark.parametrize(("settings", "message"), [
    ({"sample_interval": "a"}, "sample_interval must be numeric, not text"),
    ({"seed": "x"}, "seed must be an integer >= 0"),
    ({"n_hidden": "x"}, "n_hidden must be a positive integer"),
    ({"fit_options": {"bogus": 1}}, r"fit_options \['bogus'\]: not taken by fit_bank, which takes \[.*'window'"),
    ({"fit_options": {"seed": 1}}, r"fit_options \['seed'\]: these are already passed to fit_bank"),
    ({"fitter": lambda sequences, n_hidden, *, sample_interval, tau, seed: None, "fit_options": {"bogus": 1}},
     r"fit_options \['bogus'\]: not taken by the fitter, which takes \[\]"),
])
def test_bad_settings_are_named_before_any_fitting(two_class_data, settings, message):
    _, X, y = two_class_data
    with pytest.raises(ParameterError, match=message):
        RRNNClassifier(**{"n_hidden": 2, "sample_interval": 0.005, **settings}).fit(X, y)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda metadata, arrays: metadata["models"][0].pop("tau"), r"class model 0 lacks \['tau'\]"),
    (lambda metadata, arrays: metadata["models"][1].update(substeps=10**9), "substeps must be at most 10000"),
    (lambda metadata, arrays: metadata["params"].update(n_hidden="x"), "n_hidden must be a positive integer"),
    (lambda metadata, arrays: arrays.update(channel_std=np.array([1.0, np.nan])), "channel_std contains NaN"),
    (lambda metadata, arrays: metadata.pop("params"), "KeyError 'params'"),
    (lambda metadata, arrays: metadata.update(decimation="auto"), "decimation must be a positive integer"),
    (lambda metadata, arrays: metadata.update(duration_log_std=0.2), "KeyError 'duration_log_mean'"),
    (lambda metadata, arrays: (metadata.update(duration_log_std=0.0), arrays.update(duration_log_mean=np.zeros(2))),
     "log_std must be a finite number > 0"),
])
def test_a_saved_classifier_with_a_lost_or_impossible_setting_is_refused(tmp_path, two_class_data, edit, message):
    import json

    models, _, _ = two_class_data
    path = RRNNClassifier.from_models(models, classes=["a", "b"]).save(tmp_path / "saved.npz")
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files if name != "metadata"}
        metadata = json.loads(str(data["metadata"]))
    edit(metadata, arrays)
    np.savez(tmp_path / "edited.npz", metadata=np.array(json.dumps(metadata)), **arrays)
    with pytest.raises(ParameterError, match=r"edited\.npz is not a (valid )?saved RRNNClassifier: .*" + message):
        RRNNClassifier.load(tmp_path / "edited.npz")


def test_from_models_takes_the_sampling_from_the_models_and_refuses_it_as_a_parameter():
    models = [GenerativeRNN.oscillator(3, 2, seed=s) for s in (0, 1)]
    with pytest.raises(ParameterError, match="takes sample_interval from the models"):
        RRNNClassifier.from_models(models, classes=[0, 1], sample_interval=0.01)
    with pytest.raises(ParameterError, match="share one sample_interval"):
        RRNNClassifier.from_models([models[0], models[1].replace(sample_interval=0.01)], classes=[0, 1])
    with pytest.raises(ParameterError, match="Invalid parameter 'n_hiden'"):
        RRNNClassifier.from_models(models, classes=[0, 1], n_hiden=3)


# ------------------------------------------------------------------ issue 12: the noise level marginalised
def test_grid_noise_is_the_exact_marginal_over_banks_told_each_level(two_class_data, tmp_path):
    from scipy.special import logsumexp

    models, X, _ = two_class_data
    levels = [0.0, 0.3, 1.2]
    std = np.array([2.0, 0.5])
    grid = RRNNClassifier.from_models(models, classes=[0, 1], channel_std=std, noise="grid", noise_levels=levels)
    fixed = RRNNClassifier.from_models(models, classes=[0, 1], channel_std=std)
    # Each level is an added variance in units of the channel's variance: with_added_noise takes data units.
    told = [fixed.with_added_noise(level * std**2).log_evidence_online(X) for level in levels]
    np.testing.assert_allclose(grid.log_evidence_online(X), logsumexp(told, axis=0) - np.log(3), rtol=1e-12)
    grid.save(tmp_path / "grid.npz")
    loaded = RRNNClassifier.load(tmp_path / "grid.npz")
    assert loaded.noise == "grid" and list(loaded.noise_levels) == levels
    np.testing.assert_array_equal(loaded.predict_proba(X), grid.predict_proba(X))


def test_grid_noise_recognises_noisy_recordings_as_well_as_being_told_where_online_estimation_fails():
    models = [GenerativeRNN.oscillator(4, 2, seed=seed, frequency=f) for seed, f in ((0, 6.0), (1, 6.5))]
    X, y = class_sequences(models, 10, 120, seed=0)
    noisy = X + 2.0 * np.random.default_rng(5).standard_normal(X.shape)  # 4× the signal's variance, unannounced
    bank = RRNNClassifier.from_models(models, classes=[0, 1])
    told = bank.with_added_noise(4.0).score(noisy, y)
    grid = bank.set_params(noise="grid").score(noisy, y)
    adaptive = bank.set_params(noise="adaptive").score(noisy, y)
    assert grid == told == 1.0 and adaptive < 0.8


@pytest.mark.parametrize(("settings", "message"), [
    ({"noise": "grid", "noise_levels": [0.0, -1.0]}, "variances >= 0"),
    ({"noise": "grid", "noise_levels": []}, "non-empty"),
    ({"noise": "fixed", "noise_levels": [0.0, 1.0]}, "levels of noise='grid'"),
    ({"noise": "grid", "decoder": "brian2"}, "Brian2"),
])
def test_bad_noise_grids_are_refused(two_class_data, settings, message):
    models, _, _ = two_class_data
    with pytest.raises(ParameterError, match=message):
        RRNNClassifier.from_models(models, classes=[0, 1], **settings)


# ------------------------------------------------------------------ decimation: class models observe block means
def test_decimated_evidence_is_the_models_evidence_of_block_means_at_each_blocks_last_sample(two_class_data):
    from rrnn_net import UKF
    from rrnn_net.decimation import block_means

    models, X, _ = two_class_data
    X = X[:3].copy()
    X[2, :, 101:] = np.nan  # ends inside a block of 3
    clf = RRNNClassifier.from_models(models, classes=[0, 1], decimation=3, prior_variance=0.3)
    assert clf.decimation_ == 3 and clf.sample_interval == pytest.approx(models[0].sample_interval / 3)
    online = clf.log_evidence_online(X)
    assert online.shape == (3, 120, 2)
    blocks = block_means(np.swapaxes(X, 1, 2), 3)  # (3, 40, 2)
    expected = UKF(models[1]).filter(blocks, cov0=0.3 * np.eye(4)).evidence
    np.testing.assert_allclose(online[:2, 2::3, 1], expected[:2], rtol=1e-12)
    np.testing.assert_array_equal(online[:, 0:2], 0.0)  # no block complete yet
    np.testing.assert_array_equal(online[:, 3:5], np.repeat(online[:, 2:3], 2, axis=1))
    # The shorter sequence's last block (samples 99-101) arrives at its last sample, 101.
    np.testing.assert_allclose(online[2, 101, 1], expected[2, 33], rtol=1e-12)
    np.testing.assert_array_equal(online[2, 101:], np.repeat(online[2, 101:102], 19, axis=0))


@pytest.mark.parametrize("decimation", [1, 2])
def test_added_noise_reaches_block_means_with_a_share_of_its_variance(two_class_data, decimation):
    from scipy.special import logsumexp

    models, X, _ = two_class_data
    std = np.array([2.0, 0.5])
    clf = RRNNClassifier.from_models(models, classes=[0, 1], channel_std=std, decimation=decimation)
    noisier = clf.with_added_noise([0.4, 0.1])
    assert noisier.decimation_ == decimation
    for before, after in zip(clf.models_, noisier.models_, strict=True):
        np.testing.assert_allclose(after.R - before.R, np.diag([0.1, 0.4]) / decimation)
    levels = [0.0, 0.3]
    grid = RRNNClassifier.from_models(models, classes=[0, 1], channel_std=std, noise="grid", noise_levels=levels,
                                      decimation=decimation)
    told = [clf.with_added_noise(level * std**2).log_evidence_online(X) for level in levels]
    np.testing.assert_allclose(grid.log_evidence_online(X), logsumexp(told, axis=0) - np.log(2), rtol=1e-12)


def test_fit_decimates_oversampled_recordings_within_the_stable_steps(two_class_data, tmp_path):
    models, X, y = two_class_data
    oversampled = np.repeat(X, 4, axis=2)  # 480 samples; a block of 4 loses nothing
    calls = []

    def recording_fitter(sequences, n_hidden, *, sample_interval, tau, seed):
        calls.append((sequences.shape, sample_interval, tau))
        return models[len(calls) % 2 - 1].replace(sample_interval=sample_interval, tau=tau)

    clf = RRNNClassifier(4, n_members=1, sample_interval=0.00125, fitter=recording_fitter).fit(oversampled, y)
    assert clf.decimation_ >= 4
    assert calls[0] == ((6, 480 // clf.decimation_, 2), pytest.approx(0.00125 * clf.decimation_),
                        pytest.approx(0.0025 * clf.decimation_))
    loaded = RRNNClassifier.load(clf.save(tmp_path / "decimated.npz"))
    assert loaded.decimation_ == clf.decimation_ and loaded.decimation == "auto"
    np.testing.assert_array_equal(loaded.predict_proba_online(oversampled), clf.predict_proba_online(oversampled))
    calls.clear()
    # A given τ = 3Δ bounds the models' Euler step k·Δ below 2τ = 6Δ: factor 4 at most.
    clf = RRNNClassifier(4, n_members=1, sample_interval=0.00125, tau=0.00375,
                         fitter=recording_fitter).fit(oversampled, y)
    assert clf.decimation_ == 4 and calls[0][1:] == (pytest.approx(0.005), 0.00375)
    clf = RRNNClassifier(4, n_members=1, sample_interval=0.00125, decimation=1,
                         fitter=recording_fitter).fit(oversampled, y)
    assert clf.decimation_ == 1
    with pytest.raises(ParameterError, match="decimation must be 'auto' or a positive integer, got 'most'"):
        RRNNClassifier(4, decimation="most").fit(X, y)
    with pytest.raises(ParameterError, match=r"\('auto' × 120\) must be below the longest training recording's 120"):
        RRNNClassifier(4, decimation=120, fitter=recording_fitter).fit(X, y)  # one block: nothing to learn from


# ------------------------------------------------------------------ phases: class models observe polyphase channels
def test_phase_channel_evidence_is_the_models_evidence_of_every_phases_samples_at_their_last(two_class_data):
    from rrnn_net import UKF
    from rrnn_net.decimation import phase_channels

    models, X, _ = two_class_data  # models of 2 outputs observe 2 phases of one channel
    X = X[:3, :1].copy()
    X[2, :, 101:] = np.nan  # ends inside an observation of 2
    X[1, 0, 7] = np.nan  # a missing sample: one phase of observation 3
    clf = RRNNClassifier.from_models(models, classes=[0, 1], phases=2, prior_variance=0.3)
    assert (clf.phases_, clf.decimation_, clf.n_features_in_) == (2, 1, 1)
    assert clf.sample_interval == pytest.approx(models[0].sample_interval / 2)
    online = clf.log_evidence_online(X)
    assert online.shape == (3, 120, 2)
    observations = phase_channels(np.swapaxes(X, 1, 2), 2)  # (3, 60, 2)
    np.testing.assert_array_equal(observations[1, 3], [X[1, 0, 6], np.nan])
    expected = UKF(models[1]).filter(observations, cov0=0.3 * np.eye(4)).evidence
    np.testing.assert_allclose(online[:2, 1::2, 1], expected[:2], rtol=1e-12)
    np.testing.assert_array_equal(online[:, 0], 0.0)  # no observation complete yet
    np.testing.assert_array_equal(online[:2, 2::2], online[:2, 1:-1:2])
    # The shorter sequence's last observation (sample 100, phase 1 missing) arrives at its last sample, 100.
    np.testing.assert_allclose(online[2, 100, 1], expected[2, 50], rtol=1e-12)
    np.testing.assert_array_equal(online[2, 100:], np.repeat(online[2, 100:101], 20, axis=0))
    with pytest.raises(ShapeError, match="n_obs must be a multiple of phases"):
        RRNNClassifier.from_models(models, classes=[0, 1], phases=3)


@pytest.mark.slow
@pytest.mark.parametrize("decimation", [1, 2])
def test_brian2_bank_observes_the_phase_channels_as_the_numpy_fixed_gain_network_does(two_class_data, decimation):
    """The Brian2 decoder sees what the UKF sees: block means of the phase channels, evidence at each block's end."""
    from rrnn_net.decimation import block_means, phase_channels
    from rrnn_net.graph import compile_rrnn, to_matrices

    from .backends.reference import fixed_gain_filter

    models, X, _ = two_class_data  # models of 2 outputs observe 2 phases of one channel
    models = [model.replace(substeps=4) for model in models]  # a stable Euler step for the network
    X = X[:3, :1, :48].copy()
    X[1, 0, 7] = np.nan  # a missing sample: one phase of one observation
    clf = RRNNClassifier.from_models(models, classes=[0, 1], phases=2, decimation=decimation, decoder="brian2")
    online = clf.log_evidence_online(X)
    observations = block_means(phase_channels(np.swapaxes(X, 1, 2), 2), decimation)  # (3, 24 / decimation, 2)
    per_block = 2 * decimation  # samples of a recording per observation
    for index, model in enumerate(clf.models_):
        matrices = to_matrices(compile_rrnn(model, gain_mode="fixed"))
        increments = fixed_gain_filter(matrices, observations, matrices["step"])["loglik"]
        # The network leaves out the normaliser −½ log(2π R_jj) of each observed value; the bank adds it.
        increments = increments + ~np.isnan(observations) @ (-0.5 * np.log(2 * np.pi * np.diag(model.R)))
        np.testing.assert_allclose(online[:, per_block - 1::per_block, index], np.cumsum(increments, axis=1),
                                   rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(online[:, :per_block - 1], 0.0)  # no observation complete yet


@pytest.mark.parametrize("decimation", [1, 2])
def test_added_noise_reaches_every_phase_of_its_channel(two_class_data, decimation):
    _, X, _ = two_class_data
    four = [GenerativeRNN.oscillator(4, 4, seed=seed, frequency=f) for seed, f in ((0, 6.0), (1, 9.0))]
    clf = RRNNClassifier.from_models(four, classes=[0, 1], channel_std=[2.0, 0.5], phases=2, decimation=decimation)
    noisier = clf.with_added_noise([0.4, 0.1])
    assert (noisier.phases_, noisier.decimation_, noisier.phases) == (2, decimation, 2)
    for before, after in zip(clf.models_, noisier.models_, strict=True):
        np.testing.assert_allclose(after.R - before.R, np.diag([0.1, 0.1, 0.4, 0.4]) / decimation)
    assert noisier.predict_proba_online(X).shape == (12, 120, 2)


def _periodic_recordings(period=4, n=8, length=240, seed=0, starts=None):
    """Two classes repeating their own waveform of ``period`` samples, scaled slowly, in noise; (n, 1, length).

    ``starts``: each recording's first sample's phase in its waveform (default 0: aligned to the sample index).
    """
    rng = np.random.default_rng(seed)
    shapes = np.array([[1.0, 0.2, -0.4, -0.8, 0.3, 0.0, 0.5, -0.3], [0.1, 1.0, 0.1, -1.2, -0.2, 0.6, -0.1, 0.4]])
    y = np.arange(n) % 2
    t = np.arange(length) + (np.zeros((n, 1), int) if starts is None else np.asarray(starts)[:, None])
    scale = 1.0 + 0.3 * np.sin(2 * np.pi * t / length + rng.uniform(0, 2 * np.pi, (n, 1)))
    X = scale * shapes[y[:, None], t % period] + 0.05 * rng.normal(size=(n, length))
    return X[:, None, :], y


def test_fit_observes_phases_of_recordings_that_repeat_a_waveform(tmp_path):
    X, y = _periodic_recordings()
    calls = []

    def recording_fitter(sequences, n_hidden, *, sample_interval, tau, seed):
        calls.append((sequences.shape, sample_interval, tau))
        return GenerativeRNN.oscillator(n_hidden, sequences.shape[2], seed=seed).replace(
            sample_interval=sample_interval, tau=tau)

    clf = RRNNClassifier(4, n_members=1, sample_interval=0.01, fitter=recording_fitter).fit(X, y)
    assert (clf.phases_, clf.decimation_) == (4, 1)
    assert calls[0] == ((4, 60, 4), pytest.approx(0.04), pytest.approx(0.08))
    loaded = RRNNClassifier.load(clf.save(tmp_path / "phases.npz"))
    assert loaded.phases_ == 4 and loaded.phases == "auto"
    np.testing.assert_array_equal(loaded.predict_proba_online(X), clf.predict_proba_online(X))
    assert clf.predict_proba_online(X).shape == (8, 240, 2)
    # Recordings of period 3 are observed in 3 phases (their waveforms' means at 2 carry little).
    X3, y3 = _periodic_recordings(period=3)
    assert RRNNClassifier(4, n_members=1, sample_interval=0.01, fitter=recording_fitter).fit(X3, y3).phases_ == 3
    calls.clear()
    # A given τ bounds the models' Euler step p·Δ below 2τ: τ = Δ leaves no period of PHASES.
    assert RRNNClassifier(4, n_members=1, sample_interval=0.01, tau=0.01,
                          fitter=recording_fitter).fit(X, y).phases_ == 1
    assert RRNNClassifier(4, n_members=1, sample_interval=0.01, phases=1,
                          fitter=recording_fitter).fit(X, y).phases_ == 1
    clf = RRNNClassifier(4, n_members=1, sample_interval=0.01, phases=2, fitter=recording_fitter).fit(X, y)
    assert clf.phases_ == 2 and calls[-1][0] == (4, 120, 2)
    # Recordings that start at different phases of their class's waveform: phase channels would mean different
    # things in each, and no class-mean waveform carries their variance.
    shifted, y = _periodic_recordings(starts=[0, 1, 2, 3, 2, 3, 0, 1])
    assert RRNNClassifier(4, n_members=1, sample_interval=0.01, fitter=recording_fitter).fit(shifted, y).phases_ == 1


@pytest.mark.parametrize(("settings", "change", "message"), [
    ({"phases": "most"}, None, "phases must be 'auto' or a positive integer, got 'most'"),
    ({"phases": np.array([2, 3])}, None, r"phases must be 'auto' or a positive integer, got array\(\[2, 3\]\)"),
    ({"phases": 240}, None, r"phases × decimation \(240 × 'auto'\) must be below the longest training recording's "
                            "240 samples, so that the class models observe it at least twice"),
    ({"phases": 4, "decimation": 60}, None, r"\(4 × 60\) must be below the longest training recording's 240"),
    ({"decimation": 240}, None, r"\('auto' × 240\) must be below"),
    ({"phases": 4}, lambda X: X[:, :, 1::4].fill(np.nan), r"\(channel, phase\) \[\(0, 1\)\] of X hold no observed"),
    ({"decimation": 60}, None, "below the longest training recording's 60 observations of 4 phases, so that"),
])
def test_bad_phases_are_named_before_any_bank_is_learned(settings, change, message):
    X, y = _periodic_recordings()
    if change is not None:
        change(X)
    with pytest.raises(ParameterError, match=message):
        RRNNClassifier(4, sample_interval=0.01, fitter=lambda *a, **k: None, **settings).fit(X, y)


def _true_models_fitter(models):
    """A fitter that returns each class's true model (cheap: nothing is learned)."""
    def fitter(sequences, n_hidden, *, sample_interval, tau, seed):
        return models[seed]

    return fitter


def test_a_failed_fit_leaves_the_classifier_as_it_was_and_a_good_one_replaces_everything(two_class_data):
    models, X, y = two_class_data
    clf = RRNNClassifier(4, n_members=1, sample_interval=0.005, tau=0.02, fitter=_true_models_fitter(models)).fit(X, y)
    before = {name: value for name, value in vars(clf).items() if name.endswith("_")}
    proba = clf.predict_proba(X)
    three_channels = np.concatenate([X, X[:, :1]], axis=1)
    for bad_X, bad_y, error in ((X, np.full(y.size, 5), "at least two classes"),  # once set classes_ to [5]
                                (three_channels, y, "the fitter's models observe 2 channels, X has 3"),
                                (X * np.nan, y, "hold no observed sample"),
                                (X[:, :, :1], y, "X: fit needs recordings of at least 2 samples, got n_timepoints")):
        with pytest.raises(ParameterError, match=error):
            clf.fit(bad_X, bad_y)
        assert {name: value for name, value in vars(clf).items() if name.endswith("_")}.keys() == before.keys()
        np.testing.assert_array_equal(clf.classes_, [0, 1])
        assert clf.n_features_in_ == 2 and clf.models_ is before["models_"]
        np.testing.assert_array_equal(clf.predict_proba(X), proba)
    clf.validation_scores_ = {4: -0.1}  # as a bank learned by fit_bank has them
    clf.fit(X, y)
    assert not hasattr(clf, "validation_scores_")  # the fitter scored nothing: no score of an earlier fit stays


@pytest.mark.parametrize("returned, error, message", [
    (lambda models, seed: None, "ModelTypeError", r"must return a GenerativeRNN, got \['NoneType', 'NoneType'\]"),
    (lambda models, seed: GenerativeRNN.oscillator(4, 3, seed=0), "ShapeError", "observe 3 channels, X has 2"),
    (lambda models, seed: GenerativeRNN.oscillator(3 + seed, 2, seed=0), "ShapeError",
     r"same n_hidden, got \[3, 4\]"),
])
def test_the_models_a_fitter_returns_are_checked_as_from_models_checks_them(two_class_data, returned, error,
                                                                           message):
    from rrnn_net import errors

    models, X, y = two_class_data
    clf = RRNNClassifier(4, n_members=1,
                         fitter=lambda sequences, n, *, sample_interval, tau, seed: returned(models, seed))
    with pytest.raises(getattr(errors, error), match=message):
        clf.fit(X, y)
    assert not hasattr(clf, "models_")


@pytest.mark.parametrize("settings, message", [
    ({"fitter": 42}, "fitter must be a function returning a GenerativeRNN, got 42"),
    ({"calibrate": "no"}, "calibrate must be True or False, got 'no'"),
    ({"progress": "yes"}, "progress must be None, True or False, got 'yes'"),
    ({"n_hidden": [3, 2], "objective": "multistep"}, r"several sizes n_hidden=\[3, 2\] .* take one size"),
    ({"n_hidden": 3, "fit_options": {"initial_models": [GenerativeRNN.oscillator(2, 2, seed=0)]}},
     r"initial_models'\] have n_hidden 2, but n_hidden is 3"),
])
def test_settings_a_fit_would_misread_are_refused_before_it(two_class_data, settings, message):
    _, X, y = two_class_data
    with pytest.raises(ParameterError, match=message):
        RRNNClassifier(**settings).fit(X, y)


def test_settings_of_numpy_and_brian2_types_are_saved_as_plain_json(tmp_path, two_class_data):
    import brian2

    models, X, _ = two_class_data
    clf = RRNNClassifier.from_models(models, classes=[0, 1], seed=np.int64(3), n_init=np.int64(2), noise="grid",
                                     noise_levels=np.array([0.0, 0.5]), tau=20 * brian2.ms)
    clf.set_params(n_hidden=np.int64(4))  # as GridSearchCV over np.arange(...) sets it
    loaded = RRNNClassifier.load(clf.save(tmp_path / "clf.npz"))
    params = loaded.get_params()
    assert (params["seed"], params["n_init"], params["n_hidden"], params["noise_levels"]) == (3, 2, 4, [0.0, 0.5])
    assert params["tau"] == pytest.approx(0.02)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    clf.set_params(fit_options={"initial_models": models})
    with pytest.raises(ParameterError, match=r"a setting cannot be saved as JSON .*GenerativeRNN.*nothing was written"):
        clf.save(tmp_path / "objects.npz")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["clf.npz"]


def test_from_models_refuses_labels_no_fit_could_have(two_class_data):
    models, _, _ = two_class_data
    with pytest.raises(ParameterError, match=r"classes must be distinct \(one per model\), got \[0, 0\]"):
        RRNNClassifier.from_models(models, classes=[0, 0])
    with pytest.raises(ParameterError, match=r"classes must not be NaN, got \[0.0, nan\]"):
        RRNNClassifier.from_models(models, classes=[0, np.nan])


def test_added_noise_and_decision_thresholds_of_the_wrong_kind_are_named(two_class_data):
    models, X, _ = two_class_data
    clf = RRNNClassifier.from_models(models, classes=[0, 1])
    for variance in ([0.1, 0.2, 0.3], [[0.1, 0.2]]):
        with pytest.raises(ShapeError, match=r"variance must be one number or one per channel \(2\)"):
            clf.with_added_noise(variance)
    for threshold in ("0.9", None, np.array([0.6, 0.7]), True):
        with pytest.raises(ParameterError, match="threshold must be a number in"):
            clf.decision_time(X, threshold)
    np.testing.assert_array_equal(clf.decision_time(X, np.float32(0.9)), clf.decision_time(X, 0.9))


# ------------------------------------------------------------------ the recordings' lengths
@pytest.fixture(scope="module")
def lengths_only_data():
    """Two classes with the same dynamics whose recordings last about 40 and about 100 samples."""
    model = GenerativeRNN.oscillator(4, 2, seed=0, frequency=6.0)
    X, _ = class_sequences([model], 12, 110, seed=3)
    rng = np.random.default_rng(1)
    lengths = np.concatenate([rng.integers(34, 47, 6), rng.integers(90, 111, 6)])
    y = np.repeat([0, 1], 6)
    return model, [X[i, :, :length] for i, length in enumerate(lengths)], y, lengths


def test_lengths_tell_apart_classes_whose_dynamics_do_not(lengths_only_data):
    from rrnn_net.duration import fit_duration_model

    model, series, y, lengths = lengths_only_data
    durations = fit_duration_model(lengths, y, 2)
    blind = RRNNClassifier.from_models([model, model], classes=[0, 1])
    knowing = RRNNClassifier.from_models([model, model], classes=[0, 1], duration_model=durations)
    np.testing.assert_allclose(blind.predict_proba(series), 0.5)
    assert knowing.score(series, y) == 1.0
    # Online: the length model's posterior, added to equal evidence (β = 1); before 34 samples nothing is known
    online = knowing.predict_proba_online(series)
    padded_length = max(lengths)
    expected = softmax_posterior(durations.log_prob_online(lengths, padded_length))
    np.testing.assert_allclose(online, expected, atol=1e-12)
    assert np.all(np.abs(online[:, :20] - 0.5) < 0.01)
    with pytest.raises(ParameterError, match="duration_model must be None or a DurationModel of 2 classes"):
        RRNNClassifier.from_models([model, model], classes=[0, 1], duration_model=fit_duration_model([5, 6, 7],
                                                                                                  [0, 1, 2], 3))
    with pytest.raises(ParameterError, match="duration='none' leaves lengths out"):
        RRNNClassifier.from_models([model, model], classes=[0, 1], duration_model=durations, duration="none")


def test_fit_learns_the_lengths_from_the_class_models_recordings_and_beta_for_the_posterior_with_them(
        lengths_only_data, tmp_path):
    from rrnn_net.duration import fit_duration_model

    _, series, y, lengths = lengths_only_data
    pytest.importorskip("jax")
    options = {"evidence_steps": 10, "conditional_steps": 5, "init_epochs": 10}
    clf = RRNNClassifier(2, n_members=1, sample_interval=0.005, tau=0.02, decoder="ekf",
                         fit_options=options).fit(series, y)
    validation = clf.fit_result_.validation_index
    learned_from = np.setdiff1d(np.arange(12), validation)
    expected = fit_duration_model(lengths[learned_from], y[learned_from], 2)
    np.testing.assert_allclose(clf.duration_model_.log_mean, expected.log_mean, rtol=1e-12)
    assert clf.duration_model_.log_std == expected.log_std
    assert clf.score(series, y) == 1.0

    # β and ε maximise the mean log posterior of the true class over the validation recordings' prefixes, the
    # lengths' terms included (the posterior the classifier reports)
    def validation_score(scale, contamination):
        other = RRNNClassifier.from_models(clf.models_, clf.classes_, channel_mean=clf.channel_mean_,
                                           channel_std=clf.channel_std_, mean0=clf.mean0_, cov0=clf.cov0_,
                                           evidence_scale=scale, contamination=contamination,
                                           duration_model=clf.duration_model_, decoder="ekf")
        held = [series[i] for i in validation]
        online = other.predict_proba_online(held)
        return np.mean(np.concatenate([np.log(online[row, :lengths[i], y[i]]) for row, i in enumerate(validation)]))

    scale, contamination = clf.evidence_scale_, clf.contamination_
    best = validation_score(scale, contamination)
    assert best == pytest.approx(clf.validation_scores_[2], rel=1e-9)
    assert best >= max(validation_score(scale * 1.2, contamination), validation_score(scale / 1.2, contamination),
                       validation_score(scale, min(contamination + 0.05, 1.0)),
                       validation_score(scale, max(contamination - 0.05, 0.0)))

    loaded = RRNNClassifier.load(clf.save(tmp_path / "bank.npz"))
    np.testing.assert_array_equal(loaded.predict_proba_online(series), clf.predict_proba_online(series))
    noisier = clf.with_added_noise(0.01)
    assert noisier.duration_model_ is clf.duration_model_
    # Without the lengths these classes cannot be told apart, and fit says so
    from sklearn.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="no better than chance"):
        plain = RRNNClassifier(2, n_members=1, sample_interval=0.005, tau=0.02, decoder="ekf", fit_options=options,
                               duration="none").fit(series, y)
    assert plain.duration_model_ is None and plain.evidence_scale_ == clf.fit_result_.evidence_scale
    with pytest.raises(ParameterError, match="duration must be one of"):
        RRNNClassifier(2, duration="poisson").fit(series, y)


def test_restarts_are_compared_by_the_posterior_with_the_lengths(lengths_only_data):
    # With lengths in the posterior, the kept bank and its score are those of softmax(β ℓ + length term) on the
    # validation split, each restart at its own best β: recomputed here through predict_proba_online on a grid.
    from rrnn_net.learning import fit_bank

    _, series, y, lengths = lengths_only_data
    pytest.importorskip("jax")
    options = {"evidence_steps": 10, "conditional_steps": 5, "init_epochs": 10}
    clf = RRNNClassifier(2, n_members=1, n_init=2, sample_interval=0.005, tau=0.02, decoder="ekf", fit_options=options,
                         seed=1).fit(series, y)
    X = check_sequences(series)
    sequences = np.swapaxes((X - clf.channel_mean_[:, None]) / clf.channel_std_[:, None], 1, 2)
    validation = clf.fit_result_.validation_index
    banks = [fit_bank(sequences, y, 2, sample_interval=0.005, tau=0.02, filter="ekf", seed=1, restart=restart,
                      progress=False, **options) for restart in (0, 1)]
    best_on_grid = []
    for bank in banks:
        np.testing.assert_array_equal(bank.validation_index, validation)
        scores = []
        for scale in np.geomspace(1e-3, 10.0, 81):
            other = RRNNClassifier.from_models(bank.models, clf.classes_, channel_mean=clf.channel_mean_,
                                               channel_std=clf.channel_std_, mean0=bank.mean0, cov0=bank.cov0,
                                               evidence_scale=scale, duration_model=clf.duration_model_,
                                               decoder="ekf")
            online = other.predict_proba_online([series[i] for i in validation])
            truth = np.concatenate([online[row, :lengths[i], y[i]] for row, i in enumerate(validation)])
            # the posterior with contamination ε, (1 − ε) p + ε / K, on a grid of ε
            scores.append(max(np.mean(np.log((1 - e) * truth + e / 2)) for e in np.linspace(0.0, 1.0, 101)))
        best_on_grid.append(max(scores))
    kept = int(np.argmax(best_on_grid))
    # the optimum over β and ε (to the searches' tolerances), not a grid point
    assert clf.validation_scores_[2] == pytest.approx(max(best_on_grid), abs=1e-3)
    assert clf.validation_scores_[2] >= max(best_on_grid) - 1e-6
    assert abs(best_on_grid[0] - best_on_grid[1]) > 1e-5  # the two restarts differ: the choice is tested
    # fit_bank's own score leaves the lengths out, and is below
    assert clf.fit_result_.validation_score < clf.validation_scores_[2] - 0.05
    np.testing.assert_allclose(clf.models_[0].W, banks[kept].models[0].W, rtol=1e-9)


def test_without_calibration_restarts_are_compared_at_unit_scale_with_the_lengths(lengths_only_data):
    # calibrate=False fixes β = 1; the lengths still enter the posterior, so they enter the comparison too.
    from rrnn_net.learning import fit_bank

    _, series, y, lengths = lengths_only_data
    pytest.importorskip("jax")
    options = {"evidence_steps": 10, "conditional_steps": 5, "init_epochs": 10}
    from sklearn.exceptions import ConvergenceWarning

    # Untempered (β = 1), these few steps' bank is overconfident: below chance in log score, and fit says so
    with pytest.warns(ConvergenceWarning, match="no better than chance"):
        clf = RRNNClassifier(2, n_members=1, n_init=2, sample_interval=0.005, tau=0.02, decoder="ekf",
                             fit_options=options, calibrate=False, seed=1).fit(series, y)
    assert clf.evidence_scale_ == 1.0
    validation = clf.fit_result_.validation_index
    sequences = np.swapaxes((check_sequences(series) - clf.channel_mean_[:, None]) / clf.channel_std_[:, None], 1, 2)
    scores = []
    for restart in (0, 1):
        bank = fit_bank(sequences, y, 2, sample_interval=0.005, tau=0.02, filter="ekf", calibrate=False, seed=1,
                        restart=restart, progress=False, **options)
        other = RRNNClassifier.from_models(bank.models, clf.classes_, channel_mean=clf.channel_mean_,
                                           channel_std=clf.channel_std_, mean0=bank.mean0, cov0=bank.cov0,
                                           duration_model=clf.duration_model_, decoder="ekf")
        online = other.predict_proba_online([series[i] for i in validation])
        scores.append(np.mean(np.concatenate([np.log(online[row, :lengths[i], y[i]])
                                              for row, i in enumerate(validation)])))
    assert abs(scores[0] - scores[1]) > 1e-5
    assert clf.validation_scores_[2] == pytest.approx(max(scores), abs=1e-9)


def test_where_early_stopping_fails_the_banks_are_also_learned_to_their_last_steps(two_class_data, monkeypatch):
    # fit_bank is wrapped: early-stopped fits start from one model for both classes (equal evidence: exactly
    # chance on validation), fits to the last steps from the true models. fit must try the second kind and keep it.
    import functools

    from sklearn.exceptions import ConvergenceWarning

    import rrnn_net.learning as learning

    models, X, y = two_class_data
    pytest.importorskip("jax")
    calls = []
    original = learning.fit_bank

    @functools.wraps(original)  # fit checks fit_options against fit_bank's signature
    def wrapped(*args, **kwargs):
        calls.append(kwargs.get("early_stopping", True))
        start = [models[0], models[0]] if calls[-1] else models
        return original(*args, **{**kwargs, "initial_models": start})

    @functools.wraps(original)
    def told(*args, **kwargs):
        calls.append(kwargs.get("early_stopping", True))
        return original(*args, **{**kwargs, "initial_models": models})

    monkeypatch.setattr(learning, "fit_bank", wrapped)
    options = {"learn": ("noise",), "evidence_steps": 3, "conditional_steps": 2, "init_epochs": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = RRNNClassifier(4, n_members=1, n_init=2, sample_interval=0.005, decoder="ekf",
                             fit_options=options).fit(X, y)
    assert calls == [True, True, False, False]
    assert not clf.fit_result_.early_stopping and clf.validation_scores_[4] > np.log(0.5) + 0.1
    np.testing.assert_array_equal(clf.models_[1].W, models[1].W)
    # A bank that tells the classes apart keeps its early stopping, and nothing more is fitted
    calls.clear()
    monkeypatch.setattr(learning, "fit_bank", told)
    kept = RRNNClassifier(4, n_members=1, sample_interval=0.005, decoder="ekf",
                          fit_options=options).fit(X, y).fit_result_
    assert kept.early_stopping
    assert calls == [True]
    # A user's own early_stopping is kept as given, even for a bank at chance
    calls.clear()
    monkeypatch.setattr(learning, "fit_bank", wrapped)
    with pytest.warns(ConvergenceWarning, match="no better than chance"):
        RRNNClassifier(4, n_members=1, sample_interval=0.005, decoder="ekf",
                       fit_options={**options, "early_stopping": True}).fit(X, y)
    assert calls == [True]


def test_a_bank_no_better_than_chance_on_validation_is_reported(two_class_data):
    # Both classes start from one model and learn only the noise they share: their evidence is equal, so any β
    # gives the uniform posterior, which scores log(1/2) exactly. A bank that tells the classes apart is quiet.
    from sklearn.exceptions import ConvergenceWarning

    models, X, y = two_class_data
    pytest.importorskip("jax")
    same = {"initial_models": [models[0], models[0]], "learn": ("noise",), "evidence_steps": 3,
            "conditional_steps": 2}
    with pytest.warns(ConvergenceWarning, match=r"no better than chance.*-0\.6931 against log\(1/2\) = -0\.6931"):
        clf = RRNNClassifier(4, n_members=1, sample_interval=0.005, decoder="ekf", fit_options=same).fit(X, y)
    assert clf.validation_scores_[4] == pytest.approx(np.log(0.5), abs=1e-12)
    told = {"initial_models": models, "learn": ("noise",), "evidence_steps": 3, "conditional_steps": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        RRNNClassifier(4, n_members=1, sample_interval=0.005, decoder="ekf", fit_options=told).fit(X, y)


def test_recordings_of_one_length_leave_the_posterior_as_it_was(learned, two_class_data):
    _, X, y = two_class_data
    assert learned.duration_model_ is None
    true_models = two_class_data[0]
    # A fitter that returns each class's true model (the classifier seeds class k with seed + k)
    fitted = RRNNClassifier(n_members=1,
                            fitter=lambda sequences, n_hidden, *, sample_interval, tau, seed: true_models[seed],
                            n_hidden=4, sample_interval=0.005).fit(X, y)
    assert fitted.duration_model_ is None


# ------------------------------------------------------------------ several banks (n_members)
@pytest.fixture(scope="module")
def two_banks(two_class_data):
    _, X, y = two_class_data
    options = {"evidence_steps": 10, "conditional_steps": 5, "init_epochs": 10}
    settings = {"n_hidden": 2, "sample_interval": 0.005, "tau": 0.02, "decoder": "ekf", "fit_options": options,
                "progress": False}
    ensemble = RRNNClassifier(n_members=2, seed=3, **settings).fit(X, y)
    singles = [RRNNClassifier(n_members=1, seed=seed, **settings).fit(X, y) for seed in (3, 3 + MEMBER_SEED_STRIDE)]
    return ensemble, singles


def test_several_banks_average_the_posteriors_of_banks_fitted_alone(two_banks, two_class_data, monkeypatch):
    _, X, y = two_class_data
    ensemble, singles = two_banks
    assert len(ensemble.members_) == 2 and not hasattr(ensemble, "models_")
    for member, single in zip(ensemble.members_, singles, strict=True):
        for name in ("W", "M", "b", "c", "Q", "R"):
            np.testing.assert_array_equal(getattr(member.models_[1], name), getattr(single.models_[1], name))
        assert member.evidence_scale_ == single.evidence_scale_ and member.n_members == 1
    assert singles[0].evidence_scale_ != singles[1].evidence_scale_  # two different fits
    online = ensemble.predict_proba_online(X)
    np.testing.assert_allclose(online, (singles[0].predict_proba_online(X) + singles[1].predict_proba_online(X)) / 2,
                               rtol=0, atol=1e-15)
    np.testing.assert_array_equal(ensemble.predict_proba(X), online[:, -1])
    np.testing.assert_array_equal(ensemble.channel_mean_, singles[0].channel_mean_)
    # A setting changed after fit reaches every member (here the decoder), through banks().
    ukf = copy.deepcopy(ensemble).set_params(decoder="ukf")
    expected = [copy.deepcopy(single).set_params(decoder="ukf") for single in singles]
    np.testing.assert_allclose(ukf.predict_proba_online(X[:2]),
                               np.mean([single.predict_proba_online(X[:2]) for single in expected], axis=0),
                               rtol=0, atol=1e-15)
    np.testing.assert_array_equal(ukf.banks()[1].log_evidence_online(X[:2]), expected[1].log_evidence_online(X[:2]))
    with pytest.raises(ParameterError, match=r"one evidence per bank: use banks\(\)\[m\]"):
        ensemble.log_evidence_online(X)
    with pytest.raises(ParameterError, match="n_members must be a positive integer"):
        RRNNClassifier(2, n_members=0).fit(X, y)
    with pytest.raises(ParameterError, match=r"n_jobs must be None or a nonzero integer \(-1: every CPU\), got 0"):
        RRNNClassifier(2, n_jobs=0).fit(X, y)
    # What every bank would refuse is refused once, before any bank is learned (not in n_jobs workers)
    monkeypatch.setattr(recognition, "_learned_bank", lambda *args: pytest.fail("a bank was learned"))
    with pytest.raises(ParameterError, match=r"fit_options \['evidence_stpes'\]: not taken by fit_bank"):
        RRNNClassifier(2, n_members=2, fit_options={"evidence_stpes": 3}).fit(X, y)


def test_several_banks_are_told_added_noise_and_round_trip_through_a_file(two_banks, two_class_data, tmp_path):
    import json

    _, X, _ = two_class_data
    ensemble, singles = two_banks
    noisier = ensemble.with_added_noise(0.2)
    expected = np.mean([single.with_added_noise(0.2).predict_proba_online(X) for single in singles], axis=0)
    np.testing.assert_allclose(noisier.predict_proba_online(X), expected, rtol=0, atol=1e-15)
    assert noisier.get_params() == ensemble.get_params()

    path = ensemble.save(tmp_path / "banks.npz")
    loaded = RRNNClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba_online(X), ensemble.predict_proba_online(X))
    assert loaded.get_params() == ensemble.get_params()
    assert [member.get_params()["seed"] for member in loaded.members_] == [3, 3 + MEMBER_SEED_STRIDE]
    # The file holds the banks that were fitted, whatever the settings say since.
    changed = copy.deepcopy(ensemble).set_params(n_members=1, seed=7)
    reloaded = RRNNClassifier.load(changed.save(tmp_path / "changed.npz"))
    assert reloaded.get_params()["n_members"] == 2 and reloaded.get_params()["seed"] == 7
    assert [member.seed for member in reloaded.members_] == [3, 3 + MEMBER_SEED_STRIDE]
    np.testing.assert_array_equal(reloaded.predict_proba_online(X), ensemble.predict_proba_online(X))

    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files if name != "metadata"}
        metadata = json.loads(str(data["metadata"]))
    for edit, message in [
        (lambda m: m["members"].pop(), "n_members = 2 but 1 banks are saved"),
        (lambda m: m.update(members={"0": {}}), "'members' must be a list of saved banks, got dict"),
        (lambda m: m.update(version=5), "a version-5 file holds one bank, but it has 'members'"),
        (lambda m: m["members"][1].pop("seed"), "KeyError 'seed'"),
    ]:
        edited = copy.deepcopy(metadata)
        edit(edited)
        np.savez(tmp_path / "edited.npz", metadata=np.array(json.dumps(edited)), **arrays)
        with pytest.raises(ParameterError, match=r"edited\.npz is not a (valid )?saved RRNNClassifier: " + message):
            RRNNClassifier.load(tmp_path / "edited.npz")


def test_a_bank_that_learned_nothing_is_named_where_fit_was_called(lengths_only_data):
    from sklearn.exceptions import ConvergenceWarning

    pytest.importorskip("jax")
    _, series, y, _ = lengths_only_data
    options = {"evidence_steps": 10, "conditional_steps": 5, "init_epochs": 10}
    # As in the test above, β = 1 leaves these few steps' first bank below chance on its validation split.
    settings = {"n_hidden": 2, "n_members": 2, "sample_interval": 0.005, "tau": 0.02, "decoder": "ekf",
                "fit_options": options, "calibrate": False, "seed": 1}
    said = {}
    # In turn, and in two worker processes: the same banks, whose warnings are said here, once per bank, named
    for n_jobs in (None, 2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted = RRNNClassifier(**settings, n_jobs=n_jobs).fit(series, y)
        said[n_jobs] = [warning for warning in caught if issubclass(warning.category, ConvergenceWarning)]
        assert {Path(warning.filename).name for warning in said[n_jobs]} == {Path(__file__).name}
        if n_jobs is None:
            in_turn = fitted
    at_once = fitted
    messages = [str(warning.message) for warning in said[None]]
    assert messages[0].startswith("bank 1 of 2 (seed 1): the learned bank is no better than chance")
    assert all(message.startswith("bank ") for message in messages)
    assert [str(warning.message) for warning in said[2]] == messages
    for one, other in zip(in_turn.members_, at_once.members_, strict=True):
        assert one.evidence_scale_ == other.evidence_scale_ and one.seed == other.seed
        for name in ("W", "M", "b", "c", "Q", "R"):
            np.testing.assert_array_equal(getattr(one.models_[1], name), getattr(other.models_[1], name))
    np.testing.assert_array_equal(in_turn.predict_proba(series), at_once.predict_proba(series))
