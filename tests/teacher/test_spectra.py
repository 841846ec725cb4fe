"""Spectral analysis: Hungarian matching, transfer functions, Lyapunov exponents, plots."""

import itertools

import numpy as np
import pytest
from matplotlib.figure import Figure

from rrnn_net.errors import ParameterError, ShapeError
from rrnn_net.teacher import (
    IIRTeacher,
    StudentRNN,
    lyapunov_exponents,
    match_spectra,
    plot_spectra,
    sample_poles,
    spectral_radius_error,
    student_zpk,
    transfer_function_error,
)


def test_hungarian_matching_beats_greedy_nearest_first():
    # Greedy would pair 0.5 with 0.3 (the closest pair) and leave 0.0 with 1.0.
    match = match_spectra([0.0, 0.5], [0.3, 1.0])
    np.testing.assert_allclose(match.reference_distance, [0.3, 0.5])
    assert match.n_within(0.5) == 2


def test_matching_is_optimal_against_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(20):
        reference = rng.standard_normal(4) + 1j * rng.standard_normal(4)
        estimate = rng.standard_normal(5) + 1j * rng.standard_normal(5)
        best = min(sum(abs(reference[i] - estimate[j]) for i, j in enumerate(perm))
                   for perm in itertools.permutations(range(5), 4))
        assert match_spectra(reference, estimate).distances.sum() == pytest.approx(best, rel=1e-12)


def test_matching_with_more_or_fewer_estimates():
    over = match_spectra([0.9, 0.1], [0.0, 0.88, 0.5, 0.12])
    np.testing.assert_allclose(over.reference_distance, [0.02, 0.02])
    assert over.dominant_distance == pytest.approx(0.02)
    under = match_spectra([0.9, 0.1, -0.5], [0.85])
    assert under.reference_distance[0] == pytest.approx(0.05)
    assert np.isinf(under.reference_distance[1:]).all()
    assert not under.all_within(1.0) and under.n_within(0.1) == 1


def test_spectral_radius_error():
    assert spectral_radius_error([0.5j, -0.9], [0.95, 0.1]) == pytest.approx(0.05)
    with pytest.raises(ShapeError):
        spectral_radius_error([], [0.1])


def similar(student, transform):
    inverse = np.linalg.inv(transform)
    return StudentRNN.from_weights(transform @ student.W @ inverse, transform @ student.U, student.C @ inverse)


def test_similarity_transform_leaves_spectrum_and_transfer_function_unchanged():
    student = StudentRNN(1, 4, 1, init="normal", gain=0.9, seed=0)
    transform = np.random.default_rng(1).standard_normal((4, 4)) + 3 * np.eye(4)
    twin = similar(student, transform)
    match = match_spectra(np.linalg.eigvals(student.W), np.linalg.eigvals(twin.W))
    assert match.distances.max() < 1e-10
    omega = np.linspace(0, np.pi, 50)
    np.testing.assert_allclose(twin.frequency_response(omega), student.frequency_response(omega), atol=1e-10)
    zeros, poles, gain = student_zpk(student)
    twin_zeros, twin_poles, twin_gain = student_zpk(twin)
    assert match_spectra(zeros, twin_zeros).distances.max() < 1e-7
    assert match_spectra(poles, twin_poles).distances.max() < 1e-10
    assert twin_gain == pytest.approx(gain, rel=1e-9)
    x = np.random.default_rng(2).standard_normal((2, 30, 1))
    np.testing.assert_allclose(twin.predict(x), student.predict(x), atol=1e-10)


def test_student_transfer_function_of_the_companion_network_is_the_teacher():
    teacher = IIRTeacher(sample_poles(5, 0))
    rnn = teacher.to_rnn()
    zeros, poles, gain = student_zpk(rnn)
    assert match_spectra(teacher.poles, poles).distances.max() < 1e-8
    assert np.abs(zeros).max() < 1e-6 and gain == pytest.approx(1.0)  # zeros at the origin, gain 1
    assert transfer_function_error(teacher, rnn) < 1e-10
    rnn.W[0, 0] += 0.05
    assert transfer_function_error(teacher, rnn) > 1e-2


def test_cancelled_eigenvalue_does_not_change_the_transfer_function():
    # An extra mode that the input never reaches has an eigenvalue but no effect on H(z).
    teacher = IIRTeacher([0.6])
    W = np.diag([0.6, -0.7])
    student = StudentRNN.from_weights(W, [[1.0], [0.0]], [[1.0, 1.0]])
    assert transfer_function_error(teacher, student) < 1e-12
    zeros, poles, _ = student_zpk(student)
    assert match_spectra(poles, zeros).reference_distance.min() < 1e-8  # −0.7 is cancelled by a zero


def test_lyapunov_exponents_of_a_linear_map_are_log_moduli_of_eigenvalues():
    rng = np.random.default_rng(3)
    basis = rng.standard_normal((4, 4))
    rotation = 0.8 * np.array([[np.cos(1.0), -np.sin(1.0)], [np.sin(1.0), np.cos(1.0)]])
    blocks = np.block([[rotation, np.zeros((2, 2))], [np.zeros((2, 2)), np.diag([0.5, -0.3])]])
    W = basis @ blocks @ np.linalg.inv(basis)
    student = StudentRNN.from_weights(W, np.ones((4, 1)), np.ones((1, 4)))
    exponents = lyapunov_exponents(student, rng.standard_normal((3, 3000, 1)), washout=100)
    expected = np.sort(np.log(np.abs(np.linalg.eigvals(W))))[::-1]
    assert exponents.shape == (3, 4)
    np.testing.assert_allclose(exponents, np.broadcast_to(expected, (3, 4)), atol=5e-3)


def test_lyapunov_exponents_of_tanh_students_use_the_trajectory():
    student = StudentRNN(1, 3, 1, activation="tanh", init="orthogonal", gain=1.5, seed=0)
    X = np.random.default_rng(0).standard_normal((2, 500, 1)) * 3
    exponents = lyapunov_exponents(student, X, washout=50)
    # Saturation shrinks the Jacobians: below the linear map's exponents, log 1.5 for every direction.
    assert np.all(exponents < np.log(1.5))
    assert np.all(np.diff(exponents, axis=-1) <= 0)
    H, _ = student.run(X)
    manual = np.zeros(2)
    basis = np.broadcast_to(np.eye(3), (2, 3, 3))
    for t in range(500):
        basis, r = np.linalg.qr(student.jacobians(H[:, t]) @ basis)
        if t >= 50:
            manual += np.log(np.abs(np.diagonal(r, axis1=1, axis2=2))).sum(axis=1)
    np.testing.assert_allclose(exponents.sum(axis=1), manual / 450, rtol=1e-10)
    with pytest.raises(ParameterError):
        lyapunov_exponents(student, X, washout=500)


def test_plot_spectra_draws_one_or_many_sets():
    teacher = IIRTeacher(sample_poles(3, 0))
    for estimates in (np.linalg.eigvals(teacher.to_rnn().W), [np.zeros(3), np.ones(2) * 0.5]):
        ax = Figure().add_subplot(projection="polar")
        assert plot_spectra(ax, teacher.poles, estimates, threshold=0.05) is ax
        assert len(ax.collections) >= 2
