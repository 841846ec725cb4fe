"""Shared small models for the graph tests."""

from __future__ import annotations

import numpy as np
import pytest

from rrnn_net import GenerativeRNN


@pytest.fixture(scope="session")
def model() -> GenerativeRNN:
    """A small oscillating tanh model with a diagonal, unequal R, non-zero b, c and a full Q."""
    base = GenerativeRNN.oscillator(4, 2, seed=0, substeps=2, observation_noise=[0.013, 0.021])
    rng = np.random.default_rng(5)
    root = rng.standard_normal((4, 4)) * 0.2
    return base.replace(b=rng.standard_normal(4) * 0.3, c=rng.standard_normal(2), Q=root @ root.T + 0.01 * np.eye(4))


@pytest.fixture(scope="session")
def linear_three_channel_model() -> GenerativeRNN:
    """A linear-activation model with three observed channels."""
    return GenerativeRNN.random(3, 3, activation="linear", seed=2, observation_noise=0.02)
