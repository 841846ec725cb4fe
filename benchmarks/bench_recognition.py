"""Recognition of real recordings: the rRNN bank next to aeon's 1-NN DTW and MiniRocket, in one run.

For each labelled set shipped inside aeon, on aeon's own train/test split:
test accuracy, training accuracy, expected calibration error (ECE, 10 bins)
of the class posterior after 25 %, 50 % and 100 % of each test recording,
fit time, and for the rRNN bank how early it decides: the mean share of a
recording seen before the true class's posterior first reaches 0.9 (1 if it
never does), and how often a wrong class got there first. How far a split
of that size pins the numbers down (nothing refitted): Wilson's 95 %
interval of the accuracy (``accuracy_95%``); the mean and 95th percentile
of the ECE a perfectly calibrated classifier with the same posteriors would
show (``ece_100%_if_calibrated``); the ECE's direction, the mean largest
posterior minus the accuracy (``overconfidence_100%``, < 0: cautious); and
a paired bootstrap interval of the rRNN's accuracy minus each peer's on the
same recordings (``accuracy_minus_dtw_95%``). With several seeds they are in each seed's
row. The
rRNN bank is :class:`rrnn_net.RRNNClassifier` with its defaults — every
learning choice it makes is made from the training data (the phases and the
block size from their variance, the kept steps and β on a validation split carved from them)
— and sees the data in aeon's format (a list of arrays where lengths differ).
1-NN DTW is ``KNeighborsTimeSeriesClassifier(distance="dtw")``; MiniRocket is
``MiniRocketClassifier`` (behind aeon's ``Padder`` where lengths differ). The
peers' ECE is from their ``predict_proba`` on whole recordings; 1-NN and
MiniRocket's ridge classifier give 0/1, so their ECE is their error rate. The
calibrated peer (``minirocket_calibrated``) is MiniRocket whose ridge
classifier is wrapped in scikit-learn's ``CalibratedClassifierCV(method=
"temperature")``: a temperature fitted on held-out folds of the training
split, one per fold, and the folds' calibrated posteriors averaged. That is
how the rRNN's posteriors are calibrated too (β is a temperature of the
evidence, fitted on a validation split per bank, and the banks averaged),
so its ECE is what such a calibration reaches on the same test split.

GunPoint and OSULeaf were never looked at while the rRNN's learning was
developed; run them with ``--datasets GunPoint OSULeaf`` as a check on
unseen data.

``--folds K`` never touches the test split: it scores every classifier by
stratified K-fold cross-validation *within aeon's training split* (mean
held-out accuracy, training accuracy and ECE at 100 % over the folds). That
is how a setting is compared before it may become a default.

``--snr DB ...`` also scores every fitted classifier on the test recordings
with white noise added at those signal-to-noise ratios (per channel, against
the test recordings' own s.d.; one seeded draw, as the kinematics demo adds
it), the rRNN bank both as fitted and with ``noise="grid"`` (the added noise
inferred, not told). Nothing is refitted: the training data stay clean.
With ``--folds`` it scores the held-out folds instead, so that robustness
to noise can be compared without the test split (``rrnn_grid_accuracy_0dB``
and so on, averaged over the folds).

``--seed S ...`` fits the rRNN bank once per seed (its validation split, initial models and training
windows; aeon's peers are deterministic and run once, except with ``--folds``, whose folds the seed also
draws): each row is then the mean over the seeds, with every seed's own row under ``per_seed`` in the JSON
and the range of test accuracies in the table (with ``--snr``, the bank's accuracies under added noise are
means over the seeds too, all on one noise draw). A fit is sensitive to round-off: the same seed on a CPU with
other vector instructions (XLA compiles for the machine it runs on) can end in another bank, as far from
this one as another seed's. The JSON therefore also records the machine and the versions that ran.

``--set NAME=VALUE`` changes an RRNNClassifier parameter from its default
(VALUE is read as a Python literal, else as a string; ``fit_options.NAME=VALUE``
sets one entry of ``fit_options``). ``--set n_jobs=-1`` learns the banks in
worker processes, one per CPU: the same banks and scores, a shorter fit.

    python benchmarks/bench_recognition.py [--datasets BasicMotions ...] [--only rrnn] [--json out.json]
                                           [--seed 0 1 2] [--set tying=none ...] [--folds 3] [--snr 10 0 -5]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.stats import gmean

from rrnn_net import RRNNClassifier
from rrnn_net._files import write_atomically
from rrnn_net.datasets import AEON_RECORDINGS
from rrnn_net.learning import expected_calibration_error

DATASETS = ("BasicMotions", "JapaneseVowels", "ArrowHead", "ItalyPowerDemand", "ACSF1", "PickupGestureWiimoteZ")
CLASSIFIERS = ("rrnn", "dtw", "minirocket", "minirocket_calibrated")
FRACTIONS = (0.25, 0.5, 1.0)
THRESHOLD = 0.9


def load(name: str):
    from aeon.datasets import load_classification

    X_train, y_train = load_classification(name, split="train")
    X_test, y_test = load_classification(name, split="test")
    return X_train, np.asarray(y_train), X_test, np.asarray(y_test)


def lengths(X) -> np.ndarray:
    if isinstance(X, np.ndarray):
        return np.full(X.shape[0], X.shape[-1])
    return np.array([series.shape[-1] for series in X])


def rrnn_classifier(name: str, seed: int, settings: dict) -> RRNNClassifier:
    """The rRNN bank for recordings ``name``: their sampling interval (1 s where aeon gives no rate), ``settings``."""
    rate = AEON_RECORDINGS.get(name)
    return RRNNClassifier(sample_interval=1.0 / rate if rate else 1.0, seed=seed, **settings)


def rrnn_metrics(name: str, X_train, y_train, X_test, y_test, seed: int, settings: dict) -> tuple[dict, object]:
    classifier = rrnn_classifier(name, seed, settings)
    start = time.perf_counter()
    classifier.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    online = classifier.predict_proba_online(X_test)  # (n, T_max, K), constant after each end
    test_lengths = lengths(X_test)
    truth = np.searchsorted(classifier.classes_, y_test)
    scales = [bank.evidence_scale_ for bank in classifier.banks()]
    row = {"fit_s": fit_seconds, "train_accuracy": classifier.score(X_train, y_train),
           # n_members > 1: one β per bank, reported as their geometric mean
           "evidence_scale": scales[0] if len(scales) == 1 else float(gmean(scales)),
           "contamination": float(np.mean([bank.contamination_ for bank in classifier.banks()]))}
    for fraction in FRACTIONS:
        index = np.maximum(np.ceil(fraction * test_lengths).astype(int) - 1, 0)
        proba = online[np.arange(len(y_test)), index]
        row[f"accuracy_{fraction:.0%}"] = float(np.mean(proba.argmax(axis=1) == truth))
        row[f"ece_{fraction:.0%}"] = expected_calibration_error(proba, truth)
    row["accuracy"] = row["accuracy_100%"]
    final = online[np.arange(len(y_test)), test_lengths - 1]
    row |= sampling_intervals(final, truth) | {"right": final.argmax(axis=1) == truth}
    within = np.arange(online.shape[1])[None, :] < test_lengths[:, None]
    # Decision time: the first sample at which the true class's posterior reaches the threshold (never: 100 %).
    right = (online[np.arange(len(y_test)), :, truth] >= THRESHOLD) & within
    first_right = np.where(right.any(axis=1), (np.argmax(right, axis=1) + 1) / test_lengths, 1.0)
    row["mean_decision_fraction"] = float(np.mean(first_right))
    # How often the first class to reach the threshold was a wrong one (an early, confident mistake).
    confident = (online.max(axis=-1) >= THRESHOLD) & within
    first = np.argmax(confident, axis=1)
    first_class = online[np.arange(len(y_test)), first].argmax(axis=1)
    row["wrong_first_decisions"] = float(np.mean(confident.any(axis=1) & (first_class != truth)))
    return row, classifier


def cross_validated_metrics(kind: str, name: str, X_train, y_train, folds: int, seed: int, settings: dict,
                            snrs: Sequence[float] = ()) -> dict:
    """Stratified K-fold cross-validation inside the training split (the test split is not used).

    With ``snrs``, each held-out fold is also scored with white noise added at each SNR (the rRNN bank also
    with ``noise="grid"``): robustness to noise chosen without the test split.
    """
    from sklearn.model_selection import StratifiedKFold

    rows = []
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for fit_index, held_index in splitter.split(np.zeros(len(y_train)), y_train):
        X_fit, X_held = _subset(X_train, fit_index), _subset(X_train, held_index)
        classifier = (rrnn_classifier(name, seed, settings) if kind == "rrnn"
                      else peer_classifier(kind, X_fit, X_held))
        start = time.perf_counter()
        classifier.fit(X_fit, y_train[fit_index])
        fit_seconds = time.perf_counter() - start
        proba = classifier.predict_proba(X_held)
        truth = np.searchsorted(np.unique(y_train[fit_index]), y_train[held_index])
        row = {"fit_s": fit_seconds,
               "train_accuracy": float(np.mean(classifier.predict(X_fit) == y_train[fit_index])),
               "accuracy": float(np.mean(proba.argmax(axis=1) == truth)),
               "ece_100%": expected_calibration_error(proba, truth)}
        if snrs:
            noisy = noisy_accuracies({kind: classifier}, X_held, y_train[held_index], list(snrs), seed)
            row |= {f"{scored}_accuracy_{snr.replace(' ', '')}": value for scored, table in noisy.items()
                    for snr, value in table.items()}
        rows.append(row)
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}


def _subset(X, index: np.ndarray):
    return X[index] if isinstance(X, np.ndarray) else [X[i] for i in index]


def peer_classifier(kind: str, X_train, X_test):
    """aeon's 1-NN DTW or MiniRocket, plain or calibrated (MiniRocket behind a Padder where lengths differ)."""
    from aeon.classification.convolution_based import MiniRocketClassifier
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    if kind == "dtw":
        return KNeighborsTimeSeriesClassifier(distance="dtw")
    estimator = None
    if kind == "minirocket_calibrated":
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import RidgeClassifierCV

        # aeon's own ridge classifier (its alphas), calibrated by scikit-learn's defaults but for the method.
        estimator = CalibratedClassifierCV(RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)), method="temperature")
    minirocket = MiniRocketClassifier(estimator=estimator, random_state=0)
    if not isinstance(X_train, np.ndarray) or not isinstance(X_test, np.ndarray):
        from aeon.pipeline import make_pipeline
        from aeon.transformations.collection.unequal_length import Padder

        longest = int(max(lengths(X_train).max(), lengths(X_test).max()))
        return make_pipeline(Padder(padded_length=longest), minirocket)
    return minirocket


def peer_metrics(kind: str, X_train, y_train, X_test, y_test) -> tuple[dict, object]:
    classifier = peer_classifier(kind, X_train, X_test)
    start = time.perf_counter()
    classifier.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    classes = np.unique(y_train)
    proba = classifier.predict_proba(X_test)
    right = classes[proba.argmax(axis=1)] == y_test
    truth = np.searchsorted(classes, y_test)
    return {"fit_s": fit_seconds, "accuracy": float(np.mean(right)),
            "train_accuracy": float(np.mean(classifier.predict(X_train) == y_train)),
            "ece_100%": expected_calibration_error(proba, truth), "right": right} | sampling_intervals(proba, truth), \
        classifier


def sampling_intervals(proba: np.ndarray, truth: np.ndarray, seed: int = 0) -> dict:
    """How far a test split of this size pins the accuracy and the ECE down (the classifier is not refitted).

    ``accuracy_95%``: Wilson's 95 % interval of the accuracy (scipy's binomtest). ``ece_100%_if_calibrated``:
    the mean and the 95th percentile of the ECE a perfectly calibrated classifier with these posteriors would
    show, its labels drawn from them (2000 draws): an observed ECE above that percentile is miscalibration
    this split can see; below it, the ECE is what the split's size alone gives. ``overconfidence_100%``: the
    mean largest posterior minus the accuracy, the ECE's direction (> 0 overconfident, < 0 cautious).
    ``proba`` (n, K) after 100 % of each recording, ``truth`` (n,) class indices.
    """
    from scipy.stats import binomtest

    right = proba.argmax(axis=1) == truth
    interval = binomtest(int(np.sum(right)), truth.size).proportion_ci(method="wilson")
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(proba / proba.sum(axis=1, keepdims=True), axis=1)
    draws = np.minimum((cumulative < rng.random((2000, truth.size, 1))).sum(axis=-1), proba.shape[1] - 1)
    calibrated = [expected_calibration_error(proba, labels) for labels in draws]
    return {"accuracy_95%": [float(interval.low), float(interval.high)],
            "ece_100%_if_calibrated": [float(np.mean(calibrated)), float(np.quantile(calibrated, 0.95))],
            "overconfidence_100%": float(np.mean(proba.max(axis=1)) - np.mean(right))}


def paired_difference_interval(right: np.ndarray, other_right: np.ndarray, seed: int = 0) -> list[float]:
    """95 % bootstrap interval of accuracy minus ``other``'s accuracy on the same recordings (paired, percentile)."""
    from scipy.stats import bootstrap

    result = bootstrap((right.astype(float), other_right.astype(float)), lambda a, b: np.mean(a - b), paired=True,
                       vectorized=False, n_resamples=2000, method="percentile", rng=np.random.default_rng(seed))
    return [float(result.confidence_interval.low), float(result.confidence_interval.high)]


def with_noise(X, snr_db: float, seed: int):
    """X plus white noise at ``snr_db`` per channel (s.d. of the recordings' own channels), in X's layout."""
    series = list(X)
    signal_std = np.nanstd(np.concatenate(series, axis=-1), axis=-1)  # (n_channels,)
    noise_std = signal_std * 10.0 ** (-snr_db / 20.0)
    rng = np.random.default_rng(seed)
    noisy = [one + rng.standard_normal(one.shape) * noise_std[:, None] for one in series]
    return np.stack(noisy) if isinstance(X, np.ndarray) else noisy


def noisy_accuracies(classifiers: dict, X_test, y_test, snrs: list[float], seed: int) -> dict:
    """Accuracy of each fitted classifier (and the rRNN bank with ``noise="grid"``) at each added-noise SNR."""
    import copy

    if "rrnn" in classifiers:
        classifiers = classifiers | {"rrnn_grid": copy.deepcopy(classifiers["rrnn"]).set_params(noise="grid")}
    table: dict = {kind: {} for kind in classifiers}
    for snr in snrs:
        X = with_noise(X_test, snr, seed)
        for kind, classifier in classifiers.items():
            table[kind][f"{snr:g} dB"] = float(np.mean(classifier.predict(X) == y_test))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=sorted(AEON_RECORDINGS))
    parser.add_argument("--only", nargs="+", default=list(CLASSIFIERS), choices=CLASSIFIERS)
    parser.add_argument("--seed", type=int, nargs="+", default=[0],
                        help="one or more seeds of the rRNN bank; rows are means over them")
    parser.add_argument("--json", help="also write every number to this JSON file")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="an RRNNClassifier parameter other than its default (repeatable)")
    parser.add_argument("--snr", type=float, nargs="+", default=[], metavar="DB",
                        help="also score the fitted classifiers on test recordings with noise added at these SNRs")
    parser.add_argument("--folds", type=int, default=0,
                        help="score every classifier by K-fold cross-validation in the training split (no test data)")
    args = parser.parse_args()
    settings: dict = {}
    for item in args.set:
        name, value = _setting(item)
        outer, _, inner = name.partition(".")
        if inner:
            settings.setdefault(outer, {})[inner] = value
        else:
            settings[name] = value
    warnings.filterwarnings("ignore", module="aeon")
    results: dict = {}
    noisy: dict = {}
    for name in args.datasets:
        X_train, y_train, X_test, y_test = load(name)
        results[name] = {}
        fitted: dict = {}  # kind -> one fitted classifier per seed (a peer: one)
        hits: dict = {}  # kind -> which test recordings it got right, one array per seed (a peer: one)
        for kind in args.only:
            # aeon's peers are deterministic; with --folds the seed also draws the folds, so they follow it.
            seeds = args.seed if kind == "rrnn" or args.folds else args.seed[:1]
            rows = []
            for seed in seeds:
                if args.folds:
                    row = cross_validated_metrics(kind, name, X_train, y_train, args.folds, seed, settings,
                                                  args.snr)
                elif kind == "rrnn":
                    row, classifier = rrnn_metrics(name, X_train, y_train, X_test, y_test, seed, settings)
                    fitted.setdefault(kind, []).append(classifier)
                else:
                    row, classifier = peer_metrics(kind, X_train, y_train, X_test, y_test)
                    fitted[kind] = [classifier]
                if "right" in row:
                    hits.setdefault(kind, []).append(row.pop("right"))
                rows.append(row)
                print(f"{name:24s} {kind:10s} " + (f"seed={seed} " if len(seeds) > 1 else "") + " ".join(
                    f"{key}={value:.3f}" if isinstance(value, float) else f"{key}=[{value[0]:.3f}, {value[1]:.3f}]"
                    for key, value in row.items() if isinstance(value, (float, list))), flush=True)
            results[name][kind] = mean_row(rows)
            if len(rows) > 1:
                results[name][kind]["per_seed"] = dict(zip(map(str, seeds), rows, strict=True))
        for peer in ("dtw", "minirocket"):  # the rRNN bank against each peer on the same test recordings
            if "rrnn" in hits and peer in hits:
                key = f"accuracy_minus_{peer}_95%"
                per_seed = results[name]["rrnn"].get("per_seed", {"": results[name]["rrnn"]})
                for (seed_name, row), right in zip(per_seed.items(), hits["rrnn"], strict=True):
                    row[key] = paired_difference_interval(right, hits[peer][0])
                    print(f"{name:24s} rrnn       " + (f"seed={seed_name} " if seed_name else "") +
                          f"{key}=[{row[key][0]:+.3f}, {row[key][1]:+.3f}]", flush=True)
        if args.snr and fitted:  # with --folds the noisy scores are in each row (held-out folds, not the test split)
            # One noise draw for every classifier and seed: only the rRNN bank differs between seeds (its rows are
            # means over them); the peers are scored once.
            banks = [noisy_accuracies({"rrnn": bank}, X_test, y_test, args.snr, args.seed[0])
                     for bank in fitted.get("rrnn", [])]
            noisy[name] = {kind: mean_row([table[kind] for table in banks]) for kind in (banks[0] if banks else {})}
            peers = {kind: fits[0] for kind, fits in fitted.items() if kind != "rrnn"}
            if peers:
                noisy[name] |= noisy_accuracies(peers, X_test, y_test, args.snr, args.seed[0])
            results[name]["accuracy_with_added_noise"] = noisy[name]
            for kind, accuracies in noisy[name].items():
                print(f"{name:24s} {kind:10s} added noise: " + " ".join(
                    f"{snr}={value:.3f}" for snr, value in accuracies.items()), flush=True)
    print()
    print("| recordings | rRNN bank test (train) | 1-NN DTW | MiniRocket | rRNN ECE 25/50/100 % | rRNN fit (s) "
          "| calibrated MiniRocket: test, ECE 100 % |")
    print("|---|---|---|---|---|---|---|")
    for name, rows in results.items():
        rrnn = rows.get("rrnn", {})
        spread = ""
        if "per_seed" in rrnn:
            accuracies = [row["accuracy"] for row in rrnn["per_seed"].values()]
            spread = f" [{min(accuracies):.3f}–{max(accuracies):.3f}]"
        cells = [f"{rrnn['accuracy']:.3f}{spread} ({rrnn['train_accuracy']:.2f})" if rrnn else "–"]
        cells += [f"{rows[kind]['accuracy']:.3f}" if kind in rows else "–" for kind in ("dtw", "minirocket")]
        cells.append(" / ".join(f"{rrnn[f'ece_{f:.0%}']:.3f}" if f"ece_{f:.0%}" in rrnn else "–" for f in FRACTIONS)
                     if rrnn else "–")
        cells.append(f"{rrnn['fit_s']:.0f}" if rrnn else "–")
        calibrated = rows.get("minirocket_calibrated")
        cells.append(f"{calibrated['accuracy']:.3f}, {calibrated['ece_100%']:.3f}" if calibrated else "–")
        print(f"| {name} | " + " | ".join(cells) + " |")
    if noisy:
        print()
        print("| recordings | classifier | " + " | ".join(f"{snr:g} dB" for snr in args.snr) + " |")
        print("|---|---|" + "---|" * len(args.snr))
        for name, table in noisy.items():
            for kind, accuracies in table.items():
                print(f"| {name} | {kind} | " + " | ".join(f"{value:.3f}" for value in accuracies.values()) + " |")
    if args.json:
        write_atomically(args.json, json.dumps(results | {"environment": environment(args.seed)}, indent=2) + "\n")


def mean_row(rows: list[dict]) -> dict:
    """The mean of each number over ``rows`` (one row per seed); one row as it is (its intervals included)."""
    if len(rows) == 1:
        return dict(rows[0])
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0] if isinstance(rows[0][key], float)}


def environment(seeds: Sequence[int]) -> dict:
    """What ran: the CPU (a fit depends on its vector instructions at round-off), BLAS and the versions."""
    from importlib.metadata import PackageNotFoundError, version

    from threadpoolctl import threadpool_info

    cpu = platform.processor()
    flags: list[str] = []
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        cpuinfo = []
    for line in cpuinfo:
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            cpu = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = sorted(flag for flag in value.split() if flag.startswith(("avx", "fma", "sse4")))
    packages = {}
    for package in ("rrnn_net", "jax", "jaxlib", "numpy", "scipy", "aeon", "scikit-learn"):
        try:
            packages[package] = version(package)
        except PackageNotFoundError:
            packages[package] = None
    return {"seeds": list(seeds), "cpu": cpu, "machine": platform.machine(), "vector_instructions": flags,
            "cpu_count": os.cpu_count(), "python": platform.python_version(), "packages": packages,
            "blas": [{key: pool.get(key) for key in ("internal_api", "version", "architecture", "num_threads")}
                     for pool in threadpool_info() if pool.get("user_api") == "blas"]}


def _setting(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


if __name__ == "__main__":
    main()
