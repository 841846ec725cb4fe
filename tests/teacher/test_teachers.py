"""Teachers and the teacher-student data set."""

import numpy as np
import pytest
from scipy import signal, stats

from rrnn_net import GenerativeRNN
from rrnn_net.errors import NonFiniteError, ParameterError, ShapeError
from rrnn_net.teacher import GenerativeRNNTeacher, IIRTeacher, WienerTeacher, make_dataset, sample_poles


@pytest.mark.parametrize("order", [1, 2, 5, 8])
def test_sample_poles_invariants(order):
    poles = sample_poles(order, np.random.default_rng(order))
    assert poles.shape == (order,)
    assert np.all(np.abs(poles) < 1)
    n_pairs = order // 2
    np.testing.assert_array_equal(poles[1:2 * n_pairs:2], poles[0:2 * n_pairs:2].conj())
    assert np.all(poles[0:2 * n_pairs:2].imag > 0)
    if order % 2:
        assert poles[-1].imag == 0 and 0 <= poles[-1].real < 1
    assert int(np.sum(poles.imag == 0)) == order % 2


def test_sample_poles_uniform_in_area_and_bounded():
    rng = np.random.default_rng(0)
    pairs = np.concatenate([sample_poles(10, rng)[::2] for _ in range(400)])
    # Uniform in area over the unit disk: |p|² ~ U(0, 1), angle ~ U(0, π) in the upper half-plane.
    assert stats.kstest(np.abs(pairs) ** 2, "uniform").pvalue > 0.01
    assert stats.kstest(np.angle(pairs) / np.pi, "uniform").pvalue > 0.01
    # Uniform in radius would fail the area test.
    assert stats.kstest(np.abs(pairs), "uniform").pvalue < 1e-6
    bounded = sample_poles(101, rng, min_radius=0.3, max_radius=0.6)
    assert np.all((np.abs(bounded) >= 0.3) & (np.abs(bounded) < 0.6))


def test_sample_poles_is_seeded():
    np.testing.assert_array_equal(sample_poles(5, 3), sample_poles(5, 3))
    assert not np.array_equal(sample_poles(5, 3), sample_poles(5, 4))


@pytest.mark.parametrize("kwargs", [{"order": 0}, {"order": 2, "min_radius": 0.5, "max_radius": 0.4},
                                    {"order": 2, "max_radius": 1.5}])
def test_sample_poles_rejects_bad_input(kwargs):
    with pytest.raises(ParameterError):
        sample_poles(rng=0, **kwargs)


def test_iir_simulate_equals_lfilter_in_both_layouts():
    teacher = IIRTeacher(sample_poles(5, 1))
    b, a = teacher.coefficients()
    np.testing.assert_array_equal(b, [1.0])
    np.testing.assert_allclose(a, np.poly(teacher.poles).real)
    x = np.random.default_rng(0).standard_normal((4, 60))
    expected = signal.lfilter(b, a, x, axis=1)
    np.testing.assert_allclose(teacher.simulate(x), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(teacher.simulate(x[..., None])[..., 0], expected, rtol=0, atol=1e-12)
    assert teacher.simulate(x[..., None]).shape == (4, 60, 1)


def test_companion_network_reproduces_lfilter():
    teacher = IIRTeacher(sample_poles(6, 2))
    rnn = teacher.to_rnn()
    x = np.random.default_rng(1).standard_normal((5, 150, 1))
    np.testing.assert_allclose(rnn.predict(x), teacher.simulate(x), rtol=0, atol=1e-12)
    eigenvalues = np.sort_complex(np.linalg.eigvals(rnn.W))
    np.testing.assert_allclose(eigenvalues, np.sort_complex(teacher.poles), atol=1e-10)


def test_state_space_transfer_function_equals_the_filter():
    teacher = IIRTeacher(sample_poles(5, 3))
    num, den = signal.ss2tf(*teacher.state_space())
    b, a = teacher.coefficients()
    np.testing.assert_allclose(den, a, atol=1e-12)
    expected_num = np.zeros(a.size)
    expected_num[0] = b[0]
    np.testing.assert_allclose(num[0], expected_num, atol=1e-12)
    omega = np.linspace(0, np.pi, 64)
    A, B, C, D = teacher.state_space()
    z = np.exp(1j * omega)
    direct = np.array([(C @ np.linalg.solve(zk * np.eye(5) - A, B) + D)[0, 0] for zk in z])
    np.testing.assert_allclose(direct, teacher.frequency_response(omega), rtol=1e-10)


def test_impulse_response():
    teacher = IIRTeacher([0.7])
    np.testing.assert_allclose(teacher.impulse_response(10), 0.7 ** np.arange(10), rtol=1e-12)
    teacher = IIRTeacher(sample_poles(4, 5))
    impulse = np.zeros((1, 30))
    impulse[0, 0] = 1
    np.testing.assert_allclose(teacher.impulse_response(30), teacher.simulate(impulse)[0], atol=1e-14)


@pytest.mark.parametrize("poles", [[1.0], [0.5 + 0.5j], [0.2, np.nan], []])
def test_iir_rejects_unstable_unpaired_or_empty_poles(poles):
    with pytest.raises(ParameterError):
        IIRTeacher(poles)


def test_iir_rejects_multichannel_input():
    with pytest.raises(ShapeError):
        IIRTeacher([0.5]).simulate(np.zeros((2, 10, 3)))


def test_wiener_teacher_puts_the_nonlinearity_in_the_targets():
    linear = IIRTeacher(sample_poles(3, 4))
    teacher = WienerTeacher(linear, gain=1.5)
    x = np.random.default_rng(2).standard_normal((3, 80))
    y = teacher.simulate(x)
    np.testing.assert_allclose(y, np.tanh(1.5 * linear.simulate(x)) / 1.5, rtol=1e-14)
    assert np.max(np.abs(y - linear.simulate(x))) > 0.1
    # Not homogeneous: doubling the input does not double the output (the linear filter's does).
    np.testing.assert_allclose(linear.simulate(2 * x), 2 * linear.simulate(x), atol=1e-12)
    assert np.max(np.abs(teacher.simulate(2 * x) - 2 * y)) > 0.1


def test_generative_rnn_teacher_follows_the_model():
    model = GenerativeRNN.oscillator(4, 2, seed=0, substeps=2)
    x0 = np.array([0.3, -0.2, 0.1, 0.0])
    teacher = GenerativeRNNTeacher(model, x0=x0)
    assert teacher.n_input == 4 and teacher.n_output == 2
    free = teacher.simulate(np.zeros((1, 25, 4)))[0]
    np.testing.assert_allclose(free, model.observe(model.run_open_loop(x0, 25)), atol=1e-12)
    # The input enters as a drive held over each sample: h Σ B u per substep.
    u = np.random.default_rng(0).standard_normal((1, 3, 4))
    state = x0.copy()
    for k in range(3):
        for _ in range(model.substeps):
            state = model.euler_step(state) + model.step * teacher.input_weights @ u[0, k]
    np.testing.assert_allclose(teacher.simulate(u)[0, -1], model.observe(state), atol=1e-12)
    with pytest.raises(ParameterError):
        GenerativeRNNTeacher(model.replace(Q=0.0))


def test_dataset_split_and_washout_mask_on_the_time_axis():
    teacher = IIRTeacher(sample_poles(3, 0))
    data = make_dataset(teacher, n_sequences=30, n_steps=40, washout=10, seed=1)
    assert data.X_train.shape == (24, 40, 1) and data.X_test.shape == (6, 40, 1)
    assert sorted(np.concatenate([data.train_index, data.test_index]).tolist()) == list(range(30))
    np.testing.assert_allclose(data.Y_train, teacher.simulate(data.X_train), atol=1e-12)
    mask = data.mask
    assert mask.shape == (40,)  # the time axis (axis 1), not the 24 or 30 sequences
    assert not mask[:10].any() and mask[10:].all()
    assert data.Y_train[:, mask].shape == (24, 30, 1)
    again = make_dataset(teacher, n_sequences=30, n_steps=40, washout=10, seed=1)
    np.testing.assert_array_equal(again.X_test, data.X_test)


def test_dataset_targets_of_a_nonlinear_teacher_are_nonlinear():
    teacher = WienerTeacher(IIRTeacher([0.9]), gain=2.0)
    data = make_dataset(teacher, seed=0)
    np.testing.assert_allclose(data.Y_train, teacher.simulate(data.X_train))
    assert np.max(np.abs(data.Y_train)) < 0.5  # |tanh(2 s)/2| < 1/2: saturated


@pytest.mark.parametrize("kwargs", [{"washout": 150}, {"test_fraction": 1.0}, {"n_sequences": 1},
                                    {"input_std": -1.0}])
def test_dataset_rejects_bad_settings(kwargs):
    with pytest.raises(ParameterError):
        make_dataset(IIRTeacher([0.5]), **kwargs)


def test_non_finite_input_is_refused():
    with pytest.raises(NonFiniteError):
        IIRTeacher([0.5]).simulate(np.array([[0.0, np.nan]]))
