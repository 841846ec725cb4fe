"""The JAX evidence equals the numpy decoders' evidence, and its gradient equals central differences of it."""

import numpy as np
import pytest

from rrnn_net import EKF, UKF, GenerativeRNN
from rrnn_net.learning.evidence import EvidenceSpec, bank_loglik, float64, loglik, params_from_model

jax = pytest.importorskip("jax")
jnp = jax.numpy

DECODERS = {"ukf": UKF, "ekf": EKF}


@pytest.fixture(scope="module")
def case():
    model = GenerativeRNN.oscillator(5, 3, seed=2, substeps=2)
    _, y = model.simulate(60, batch=3, seed=4)
    y[0, 10:15, 1] = np.nan  # a gap in one channel
    y[1, 20] = np.nan  # an all-missing sample
    rng = np.random.default_rng(0)
    spread = rng.standard_normal((5, 5))
    return model, y, 0.3 * rng.standard_normal(5), 0.1 * spread @ spread.T + 0.2 * np.eye(5)


@pytest.mark.parametrize("name", DECODERS)
def test_loglik_equals_the_numpy_decoder(case, name):
    model, y, mean0, cov0 = case
    expected = DECODERS[name](model).filter(y, mean0=mean0, cov0=cov0).loglik
    with float64():
        params = params_from_model(model, mean0, cov0)
        spec = EvidenceSpec.for_model(model, name)
        values = np.stack([np.asarray(loglik(params, jnp.asarray(trial), spec)) for trial in y])
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-10)


def test_linear_model_gives_the_same_evidence_in_both_filters(linear_model):
    _, y = linear_model.simulate(30, seed=1)
    with float64():
        params = params_from_model(linear_model)
        values = [loglik(params, jnp.asarray(y[0]), EvidenceSpec.for_model(linear_model, name)) for name in DECODERS]
    np.testing.assert_allclose(values[0], values[1], atol=1e-10)


def test_bank_loglik_stacks_models_and_trials(case):
    model, y, mean0, cov0 = case
    other = GenerativeRNN.oscillator(5, 3, seed=7, substeps=2)
    with float64():
        stacked = jax.tree_util.tree_map(lambda *fields: jnp.stack(fields),
                                         params_from_model(model, mean0, cov0), params_from_model(other, mean0, cov0))
        values = np.asarray(bank_loglik(stacked, jnp.asarray(y), EvidenceSpec.for_model(model)))
    assert values.shape == (2, 3, 60)
    np.testing.assert_allclose(values[1], UKF(other).filter(y, mean0=mean0, cov0=cov0).loglik, atol=1e-10)


@pytest.mark.parametrize("name", DECODERS)
def test_gradient_equals_central_differences_of_the_numpy_evidence(case, name):
    """Every parameter field, including τ and the prior, against the numpy filter perturbed entry by entry."""
    model, y, mean0, cov0 = case
    y = y[:, :25]
    decoder = DECODERS[name]

    def numpy_total(fields: dict) -> float:
        perturbed = model.replace(**{k: fields[k] for k in ("W", "b", "M", "c", "tau", "Q", "R")})
        return float(decoder(perturbed).filter(y, mean0=fields["mean0"], cov0=fields["cov0"]).total_loglik.sum())

    with float64():
        params = params_from_model(model, mean0, cov0)
        spec = EvidenceSpec.for_model(model, name)
        total = lambda p: jax.vmap(lambda trial: loglik(p, trial, spec).sum())(jnp.asarray(y)).sum()  # noqa: E731
        gradient = jax.grad(total)(params)
    base = {field: np.array(value) for field, value in params._asdict().items()}
    rng = np.random.default_rng(1)
    for field, value in base.items():
        # Symmetric matrices are perturbed symmetrically: the derivative along E_ij + E_ji.
        for index in list(np.ndindex(value.shape))[:: max(1, value.size // 6)][:6]:
            step = 1e-6 * max(1.0, abs(float(value[index]))) * (1 + 0.1 * rng.random())
            direction = np.zeros_like(value)
            direction[index] = 1.0
            if field in ("Q", "R", "cov0"):
                direction = direction + direction.T if len(index) == 2 and index[0] != index[1] else direction
            numeric = (numpy_total(base | {field: value + step * direction})
                       - numpy_total(base | {field: value - step * direction})) / (2 * step)
            analytic = float(np.sum(np.asarray(getattr(gradient, field)) * direction))
            assert abs(analytic - numeric) <= 1e-5 * max(1.0, abs(numeric)), (field, index, analytic, numeric)
