"""Training by BPTT: pole recovery, ensembles, divergence handling, histories."""

import numpy as np
import pytest

from rrnn_net.errors import NonFiniteError, ParameterError, ShapeError
from rrnn_net.teacher import (
    IIRTeacher,
    StudentRNN,
    make_dataset,
    match_spectra,
    sample_poles,
    train_bptt,
    train_ensemble,
)


def test_linear_student_recovers_both_poles_of_a_two_pole_teacher():
    teacher = IIRTeacher([0.8 * np.exp(0.9j), 0.8 * np.exp(-0.9j)])
    data = make_dataset(teacher, seed=0)
    student = StudentRNN(1, 2, 1, seed=0)
    history = train_bptt(student, data.X_train, data.Y_train, epochs=3000, lr=0.01, washout=data.washout,
                         test_data=(data.X_test, data.Y_test), progress=False)
    match = match_spectra(teacher.poles, np.linalg.eigvals(student.W))
    assert match.all_within(0.02), match.reference_distance
    assert history.loss.shape == (3000,)
    assert history.test_loss[-1] < 1e-6 * np.var(data.Y_test)
    assert history.loss[-1] < history.loss[0]


@pytest.mark.slow
def test_order_five_spectral_radius_is_recovered_for_most_seeds():
    seeds = range(6)
    teachers = [IIRTeacher(sample_poles(5, np.random.default_rng([7, s]))) for s in seeds]
    datasets = [make_dataset(t, seed=s) for s, t in zip(seeds, teachers, strict=True)]
    students = [StudentRNN(1, 5, 1, seed=s) for s in seeds]
    train_ensemble(students, np.stack([d.X_train for d in datasets]), np.stack([d.Y_train for d in datasets]),
                   epochs=1000, lr=0.01, washout=50, progress=False)  # 5 of 6 within 0.02 (3000 epochs: 6)
    errors = [abs(np.abs(np.linalg.eigvals(s.W)).max() - np.abs(t.poles).max())
              for s, t in zip(students, teachers, strict=True)]
    assert sum(e < 0.02 for e in errors) > len(errors) / 2, errors


def test_ensemble_training_equals_training_each_student():
    teachers = [IIRTeacher(sample_poles(3, s)) for s in range(3)]
    datasets = [make_dataset(t, n_sequences=20, n_steps=40, washout=5, seed=s) for s, t in enumerate(teachers)]
    singles = [StudentRNN(1, 3, 1, activation="tanh", bias=True, seed=s) for s in range(3)]
    together = [s.copy() for s in singles]
    kwargs = {"epochs": 30, "lr": 0.02, "washout": 5, "truncation": 8, "clip_norm": 0.5, "batch_size": 6,
              "seed": 1, "progress": False}
    for student, data in zip(singles, datasets, strict=True):
        train_bptt(student, data.X_train, data.Y_train, **kwargs)
    history = train_ensemble(together, np.stack([d.X_train for d in datasets]),
                             np.stack([d.Y_train for d in datasets]), **kwargs)
    assert history.loss.shape == (30, 3) and not history.diverged.any()
    for a, b in zip(singles, together, strict=True):
        for name, value in a.parameters().items():
            np.testing.assert_allclose(b.parameters()[name], value, rtol=1e-9, atol=1e-12)


def test_history_records_spectra_and_test_loss():
    data = make_dataset(IIRTeacher([0.5, -0.3]), n_sequences=10, n_steps=30, washout=5, seed=0)
    student = StudentRNN(1, 2, 1, seed=0)
    history = train_bptt(student, data.X_train, data.Y_train, epochs=25, washout=5, record_every=10,
                         record_spectra=True, test_data=(data.X_test, data.Y_test), progress=False)
    np.testing.assert_array_equal(history.recorded_epochs, [10, 20, 25])
    assert history.spectra.shape == (3, 2) and history.test_loss.shape == (3,)
    np.testing.assert_allclose(np.sort_complex(history.spectra[-1]), np.sort_complex(np.linalg.eigvals(student.W)))
    assert history.grad_norm.shape == (25,)


def test_minibatches_are_seeded():
    data = make_dataset(IIRTeacher([0.5]), n_sequences=20, n_steps=30, washout=5, seed=0)
    results = []
    for seed in (3, 3, 4):
        student = StudentRNN(1, 2, 1, seed=0)
        train_bptt(student, data.X_train, data.Y_train, epochs=3, batch_size=4, seed=seed, progress=False)
        results.append(student.W.copy())
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], results[2])


def test_divergence_raises_for_one_student_and_is_flagged_in_an_ensemble():
    data = make_dataset(IIRTeacher([0.95]), n_sequences=10, n_steps=100, washout=5, seed=0)
    with pytest.raises(NonFiniteError):
        train_bptt(StudentRNN(1, 3, 1, seed=0), data.X_train, data.Y_train, epochs=200, lr=50.0, progress=False)
    students = [StudentRNN(1, 3, 1, seed=0), StudentRNN(1, 3, 1, seed=1)]
    X = np.stack([data.X_train, data.X_train])
    Y = np.stack([data.Y_train, 1e200 * data.Y_train])  # the second one's loss overflows
    history = train_ensemble(students, X, Y, epochs=20, lr=0.01, progress=False)
    np.testing.assert_array_equal(history.diverged, [False, True])
    assert np.isfinite(history.final_loss[0]) and np.isnan(history.final_loss[1])
    assert np.all(np.isfinite(students[1].W))


def test_training_rejects_bad_arguments():
    data = make_dataset(IIRTeacher([0.5]), n_sequences=10, n_steps=20, washout=5, seed=0)
    student = StudentRNN(1, 2, 1, seed=0)
    with pytest.raises(ParameterError):
        train_bptt(student, data.X_train, data.Y_train, epochs=0, progress=False)
    with pytest.raises(ParameterError):
        train_bptt(student, data.X_train, data.Y_train, epochs=1, lr=-1.0, progress=False)
    with pytest.raises(ParameterError):
        train_bptt(student, data.X_train, data.Y_train, epochs=1, test_data=data.X_test, progress=False)
    with pytest.raises(ShapeError):
        train_ensemble([student], data.X_train, data.Y_train, epochs=1, progress=False)
    with pytest.raises(ParameterError):
        train_ensemble([student, StudentRNN(1, 3, 1)], np.stack([data.X_train] * 2),
                       np.stack([data.Y_train] * 2), epochs=1, progress=False)
