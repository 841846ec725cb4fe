"""The reference backend's right-hand side: what evaluate() accepts and refuses."""

import numpy as np
import pytest

from rrnn_net import UKF, GenerativeRNN, ShapeError
from rrnn_net.backends.reference import evaluate
from rrnn_net.errors import NonFiniteError, ParameterError
from rrnn_net.graph import compile_rrnn


@pytest.fixture(scope="module")
def graph():
    return compile_rrnn(GenerativeRNN.oscillator(3, 2, seed=0), gain_mode="fixed")


def test_state_values_set_the_right_hand_side(graph):
    rhs = evaluate(graph, np.zeros(2), {"state": {"mu": np.array([0.1, -0.2, 0.3])}})
    np.testing.assert_array_equal(rhs["state"]["mu"], [0.1, -0.2, 0.3])
    assert rhs["state"]["dmu"].shape == (3,) and rhs["evidence"]["devidence"].shape == (1,)


@pytest.mark.parametrize(("states", "error", "message"), [
    ({"stat": {"mu": np.zeros(3)}}, ParameterError, "does not hold"),
    ({"state": {"rate": np.zeros(3)}}, ParameterError, "state variables"),
    ({"state": {"mu": np.zeros(4)}}, ShapeError, "mu"),
    ({"state": {"mu": np.full(3, np.nan)}}, NonFiniteError, "mu"),
])
def test_bad_states_are_refused(graph, states, error, message):
    with pytest.raises(error, match=message):
        evaluate(graph, np.zeros(2), states)


def test_record_must_be_names():
    model = GenerativeRNN.oscillator(3, 2, seed=0)
    with pytest.raises(ParameterError, match="record must be"):
        UKF(model).filter(model.simulate(5, seed=1)[1], record=None)


def test_an_option_the_backend_does_not_take_is_a_parameter_error(graph):
    from rrnn_net.backends import run

    with pytest.raises(ParameterError, match=r"options \['target'\]: not taken by the 'reference' backend, which "
                                             r"takes \['progress', 'record', 'step'\]"):
        run(graph, np.zeros((3, 2)), backend="reference", target="x")
