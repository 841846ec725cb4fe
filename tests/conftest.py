"""Shared fixtures: small models and an exact Kalman filter written independently of the package."""

from __future__ import annotations

import os

import numpy as np
import pytest
from brian2 import prefs as brian2_prefs
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

from rrnn_net import GenerativeRNN
from rrnn_net._files import private_directory, user_cache_directory

# Property tests: CI draws the same examples every run (a red run is reproducible, never flaky);
# HYPOTHESIS_PROFILE=explore searches afresh with many more examples.
settings.register_profile("ci", max_examples=40, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The suite runs on two worker processes: one BLAS thread each, or OpenBLAS's spinning threads oversubscribe the
# cores (the filters' matrices are small; a numpy-heavy test ran 8x slower beside a compiling worker).
threadpool_limits(limits=1, user_api="blas")

# Brian2's compiled targets (Cython, C++ standalone) build the tests' networks at -O0: the suite checks the code
# the templates generate, not gcc's optimiser, and -O0 takes a third off each cold compilation (the Cython
# conformance module: 148 s at Brian2's default -O3 -march=native, 94 s here). The floating-point flags stay
# Brian2's (-ffast-math with -fno-finite-math-only, so NaN, a missing sample, is tested as users compile it).
# Standalone projects depend on their makefile, which holds the flags, so a user's run rebuilds them at -O3;
# Cython's extension cache is keyed on the code alone, so the tests' extensions live in a folder of their own.
brian2_prefs.codegen.cpp.extra_compile_args_gcc = ["-w", "-O0", "-ffast-math", "-fno-finite-math-only",
                                                   "-std=c++11"]
brian2_prefs.codegen.runtime.cython.cache_dir = str(private_directory(user_cache_directory() / "tests-cython",
                                                                      root=user_cache_directory()))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Collect the modules holding a slow test first.

    pytest-xdist hands whole modules to the two workers in collection order (``--dist loadscope
    --no-loadscope-reorder``): a long module handed out last runs while the other worker idles.
    """
    slow_modules = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow_modules)  # stable: each group keeps its order


def exact_kalman_filter(model: GenerativeRNN, y: np.ndarray, mean0: np.ndarray, cov0: np.ndarray):
    """Textbook Kalman filter of the Euler-discretised *linear* model, one trial, written from scratch.

    x_k = A x_{k-1} + a + noise,  A = I + h(-I + W)/tau (per substep), a = h b / tau,
    process noise Q h per substep; y_k = M x_k + c + v_k, v ~ N(0, R).
    Missing channels (NaN) are dropped from the update by selecting the observed rows.

    Returns means (T, N), covariances (T, N, N), log-likelihoods (T,).
    """
    n = model.n_hidden
    h = model.step
    A = np.eye(n) + h * (-np.eye(n) + model.W) / model.tau
    a = h * model.b / model.tau
    x, P = mean0.copy(), cov0.copy()
    means, covs, logliks = [], [], []
    for y_k in y:
        for _ in range(model.substeps):
            x = A @ x + a
            P = A @ P @ A.T + model.Q * h
        observed = ~np.isnan(y_k)
        loglik = 0.0
        if observed.any():
            H = model.M[observed]
            S = H @ P @ H.T + model.R[np.ix_(observed, observed)]
            innovation = y_k[observed] - (H @ x + model.c[observed])
            K = P @ H.T @ np.linalg.inv(S)
            x = x + K @ innovation
            P = (np.eye(n) - K @ H) @ P @ (np.eye(n) - K @ H).T + K @ model.R[np.ix_(observed, observed)] @ K.T
            _, logdet = np.linalg.slogdet(2 * np.pi * S)
            loglik = -0.5 * (innovation @ np.linalg.solve(S, innovation) + logdet)
        means.append(x)
        covs.append(P)
        logliks.append(loglik)
    return np.array(means), np.array(covs), np.array(logliks)


@pytest.fixture
def linear_model() -> GenerativeRNN:
    """A stable linear-Gaussian model with a full Q and R and nonzero offsets."""
    rng = np.random.default_rng(3)
    n, m = 4, 3
    W = rng.standard_normal((n, n)) * 0.4
    Q = rng.standard_normal((n, n)) * 0.1
    R = rng.standard_normal((m, m)) * 0.1
    return GenerativeRNN(
        W=W, M=rng.standard_normal((m, n)), b=rng.standard_normal(n) * 0.1, c=rng.standard_normal(m) * 0.1,
        tau=0.05, sample_interval=0.01, Q=Q @ Q.T + 0.05 * np.eye(n), R=R @ R.T + 0.02 * np.eye(m), activation="linear",
    )


@pytest.fixture
def tanh_model() -> GenerativeRNN:
    """A tanh oscillator (limit cycle) with N=6, m=3."""
    return GenerativeRNN.oscillator(6, 3, seed=0)
