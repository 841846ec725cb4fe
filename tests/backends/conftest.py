"""Shared models, observations and compiled graphs for the Brian2 backend tests."""

from __future__ import annotations

import numpy as np
import pytest

from rrnn_net import GenerativeRNN
from rrnn_net.filters import NoiseAdaptation
from rrnn_net.graph import compile_rrnn

#: Prior covariance small enough that Euler on the Riccati equation stays positive definite here.
COV0_SCALE = 0.05


@pytest.fixture(scope="session")
def filter_model() -> GenerativeRNN:
    """The tanh oscillator of the issue (N=8, m=3, substeps=4, observation noise 0.05) with b, c and a full Q."""
    base = GenerativeRNN.oscillator(8, 3, substeps=4, observation_noise=0.05, seed=1)
    rng = np.random.default_rng(11)
    root = rng.standard_normal((8, 8)) * 0.1
    return base.replace(b=rng.standard_normal(8) * 0.2, c=rng.standard_normal(3) * 0.5,
                        Q=root @ root.T + 0.02 * np.eye(8))


@pytest.fixture(scope="session")
def observations(filter_model) -> np.ndarray:
    """Two trials of 400 samples: 2 s at Δ = 5 ms."""
    return filter_model.simulate(400, batch=2, seed=21)[1]


@pytest.fixture(scope="session")
def prior(filter_model) -> tuple[np.ndarray, np.ndarray]:
    """A non-zero prior mean and a small isotropic prior covariance."""
    n = filter_model.n_hidden
    return np.linspace(-0.5, 0.5, n), COV0_SCALE * np.eye(n)


@pytest.fixture(scope="session")
def adaptive_graph(filter_model, prior):
    return compile_rrnn(filter_model, mean0=prior[0], cov0=prior[1])


@pytest.fixture(scope="session")
def fixed_graph(filter_model, prior):
    return compile_rrnn(filter_model, gain_mode="fixed", mean0=prior[0])


@pytest.fixture(scope="session")
def noise_graph(filter_model, prior):
    """The adaptive graph with online noise estimation (precision units), quick to adapt (0.5 s memory)."""
    return compile_rrnn(filter_model, mean0=prior[0], cov0=prior[1], noise=NoiseAdaptation(memory=0.5))
