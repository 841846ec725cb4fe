"""Exact BPTT gradients of the students: finite differences, torch autograd, washout, truncation."""

import numpy as np
import pytest

from rrnn_net.errors import NonFiniteError, ParameterError, ShapeError
from rrnn_net.teacher import Adam, StudentRNN, clip_by_global_norm, loss_and_gradients
from rrnn_net.teacher.bptt import ensemble_loss_and_gradients, washout_weights


def central_differences(loss_of_params, params, eps=1e-6):
    """∂loss/∂p for every entry of every array in ``params`` (modified and restored in place)."""
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            original = value[index]
            value[index] = original + eps
            plus = loss_of_params()
            value[index] = original - eps
            minus = loss_of_params()
            value[index] = original
            grad[index] = (plus - minus) / (2 * eps)
        grads[name] = grad
    return grads


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


def student_and_data(activation, bias, seed=0):
    rng = np.random.default_rng(seed)
    student = StudentRNN(2, 4, 3, activation=activation, bias=bias, init="normal", gain=1.1, seed=seed)
    X = rng.standard_normal((5, 23, 2))
    Y = rng.standard_normal((5, 23, 3))
    return student, X, Y


@pytest.mark.parametrize("activation", ["linear", "tanh"])
@pytest.mark.parametrize("bias", [False, True])
def test_full_bptt_equals_central_differences(activation, bias):
    student, X, Y = student_and_data(activation, bias)
    grads = loss_and_gradients(student, X, Y, washout=4)[1]
    assert sorted(grads) == sorted(student.parameters())
    numeric = central_differences(lambda: loss_and_gradients(student, X, Y, washout=4)[0], student.parameters())
    for name in grads:
        assert grads[name].shape == student.parameters()[name].shape
        assert relative_error(grads[name], numeric[name]) < 1e-7, name


def chunked_loss(student, X, Y, washout, truncation, boundary_states):
    """Loss with the state at each chunk boundary held fixed: the function truncated BPTT differentiates."""
    T = X.shape[1]
    weights = washout_weights(T, washout)
    phi = np.tanh if student.activation == "tanh" else (lambda a: a)
    total = 0.0
    for start in range(0, T, truncation):
        h = boundary_states[start]
        for t in range(start, min(start + truncation, T)):
            h = phi(h @ student.W.T + X[:, t] @ student.U.T + (0 if student.b is None else student.b))
            total += weights[t] * np.mean((h @ student.C.T - Y[:, t]) ** 2)
    return total


@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_truncated_bptt_equals_central_differences_of_the_chunked_loss(activation):
    student, X, Y = student_and_data(activation, bias=True, seed=1)
    truncation = 6
    H, _ = student.run(X)
    boundary_states = {t: (H[:, t - 1] if t else np.zeros((5, 4))) for t in range(0, 23, truncation)}
    loss, grads = loss_and_gradients(student, X, Y, washout=3, truncation=truncation)
    assert loss == pytest.approx(chunked_loss(student, X, Y, 3, truncation, boundary_states), rel=1e-12)
    numeric = central_differences(lambda: chunked_loss(student, X, Y, 3, truncation, boundary_states),
                                  student.parameters())
    full = loss_and_gradients(student, X, Y, washout=3)[1]
    for name in grads:
        assert relative_error(grads[name], numeric[name]) < 1e-7, name
    assert relative_error(full["W"], grads["W"]) > 1e-3  # truncation really cuts the gradient


def test_truncation_longer_than_the_sequence_is_full_bptt():
    student, X, Y = student_and_data("tanh", bias=False)
    full = loss_and_gradients(student, X, Y)[1]
    long = loss_and_gradients(student, X, Y, truncation=100)[1]
    for name in full:
        np.testing.assert_array_equal(full[name], long[name])


def test_washout_masks_the_time_axis():
    student, X, Y = student_and_data("linear", bias=False)  # 5 sequences, 23 steps: axes differ
    loss = loss_and_gradients(student, X, Y, washout=7)[0]
    changed_early = Y.copy()
    changed_early[:, :7] += 100.0
    assert loss_and_gradients(student, X, changed_early, washout=7)[0] == loss
    changed_late = Y.copy()
    changed_late[:, 7] += 1.0
    assert loss_and_gradients(student, X, changed_late, washout=7)[0] > loss
    prediction = student.predict(X)
    assert loss == pytest.approx(np.mean((prediction[:, 7:] - Y[:, 7:]) ** 2), rel=1e-12)


def test_tanh_jacobian_is_slope_times_w_with_one_minus_h_squared():
    student = StudentRNN(1, 5, 1, activation="tanh", init="normal", gain=1.5, seed=3)
    rng = np.random.default_rng(0)
    h_prev, x = rng.standard_normal(5), rng.standard_normal(1)

    def step(h):
        return np.tanh(student.W @ h + student.U @ x)

    h = step(h_prev)
    jacobian = student.jacobians(h)
    numeric = np.column_stack([(step(h_prev + 1e-6 * e) - step(h_prev - 1e-6 * e)) / 2e-6 for e in np.eye(5)])
    np.testing.assert_allclose(jacobian, numeric, atol=1e-9)
    np.testing.assert_allclose(jacobian, (1 - h**2)[:, None] * student.W, atol=1e-15)
    assert not np.allclose(jacobian, (1 - np.tanh(h**2))[:, None] * student.W, atol=1e-3)


def test_ensemble_kernel_equals_one_student_at_a_time():
    students = [student_and_data("tanh", bias=True, seed=s)[0] for s in range(3)]
    data = [student_and_data("tanh", bias=True, seed=10 + s)[1:] for s in range(3)]
    params = {name: np.stack([s.parameters()[name] for s in students]) for name in students[0].parameters()}
    inputs = np.stack([np.swapaxes(X, 0, 1) for X, _ in data])
    targets = np.stack([np.swapaxes(Y, 0, 1) for _, Y in data])
    loss, grads = ensemble_loss_and_gradients(params, inputs, targets, washout_weights(23, 2), "tanh", 5)
    for index, (student, (X, Y)) in enumerate(zip(students, data, strict=True)):
        single_loss, single = loss_and_gradients(student, X, Y, washout=2, truncation=5)
        assert loss[index] == pytest.approx(single_loss, rel=1e-12)
        for name in single:
            np.testing.assert_allclose(grads[name][index], single[name], rtol=1e-10, atol=1e-14)


def test_gradients_equal_torch_autograd():
    torch = pytest.importorskip("torch")
    student = StudentRNN(1, 6, 1, activation="tanh", seed=4)
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((7, 40, 1)), rng.standard_normal((7, 40, 1))
    rnn = torch.nn.RNN(1, 6, nonlinearity="tanh", bias=False, batch_first=True).double()
    readout = torch.nn.Linear(6, 1, bias=False).double()
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.from_numpy(student.W))
        rnn.weight_ih_l0.copy_(torch.from_numpy(student.U))
        readout.weight.copy_(torch.from_numpy(student.C))
    hidden, _ = rnn(torch.from_numpy(X))
    torch_loss = ((readout(hidden)[:, 10:] - torch.from_numpy(Y)[:, 10:]) ** 2).mean()
    torch_loss.backward()
    loss, grads = loss_and_gradients(student, X, Y, washout=10)
    assert loss == pytest.approx(torch_loss.item(), rel=1e-13)
    expected = {"W": rnn.weight_hh_l0.grad, "U": rnn.weight_ih_l0.grad, "C": readout.weight.grad}
    for name, value in expected.items():
        assert relative_error(grads[name], value.numpy()) < 1e-12, name


def test_adam_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 2))
    params = {"w": start.copy()}
    optimiser = Adam(params, lr=0.05)
    tensor = torch.tensor(start, requires_grad=True)
    reference = torch.optim.Adam([tensor], lr=0.05)
    for _ in range(20):
        grad = np.sin(params["w"]) + params["w"] ** 3
        optimiser.step({"w": grad})
        reference.zero_grad()
        tensor.grad = torch.sin(tensor.detach()) + tensor.detach() ** 3
        reference.step()
    np.testing.assert_allclose(params["w"], tensor.detach().numpy(), rtol=1e-12)


def test_clip_by_global_norm_per_model():
    grads = {"W": np.array([[[3.0, 0.0]], [[0.3, 0.0]]]), "b": np.array([[4.0], [0.4]])}
    clipped, norm = clip_by_global_norm(grads, 1.0, {"W": 2, "b": 1})
    np.testing.assert_allclose(norm, [5.0, 0.5])
    np.testing.assert_allclose(clipped["W"][0], [[0.6, 0.0]])
    np.testing.assert_allclose(clipped["b"][0], [0.8])
    np.testing.assert_array_equal(clipped["W"][1], grads["W"][1])  # under the limit: unchanged


def test_bad_inputs_raise_clear_errors():
    student, X, Y = student_and_data("linear", bias=False)
    with pytest.raises(ShapeError):
        loss_and_gradients(student, X[..., :1], Y)
    with pytest.raises(ShapeError):
        loss_and_gradients(student, X, Y[:, :-1])
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(NonFiniteError):
        loss_and_gradients(student, bad, Y)
    with pytest.raises(ParameterError):
        loss_and_gradients(student, X, Y, washout=23)
    with pytest.raises(ParameterError):
        loss_and_gradients(student, X, Y, truncation=0)
    with pytest.raises(ParameterError):
        StudentRNN(1, 3, 1, activation="relu")
