"""BPTT teacher-student module: teachers, discrete student RNNs trained by exact numpy BPTT, spectral analysis.

The spectral-bias study: an all-pole IIR teacher with sampled poles filters
white noise; a student RNN (h_t = φ(W h_{t−1} + U x_t), y_t = C h_t) is
trained by BPTT to reproduce it; the eigenvalues of W are compared with the
teacher poles. :func:`rrnn_net.learning.fit_generative_rnn` reuses the
machinery to fit a :class:`~rrnn_net.GenerativeRNN` to recorded sequences.

Examples
--------
>>> import numpy as np
>>> from rrnn_net.teacher import IIRTeacher, StudentRNN, make_dataset, match_spectra, sample_poles, train_bptt
>>> teacher = IIRTeacher(sample_poles(2, np.random.default_rng(3)))
>>> data = make_dataset(teacher, seed=0)
>>> student = StudentRNN(1, 2, 1, seed=0)
>>> history = train_bptt(student, data.X_train, data.Y_train, epochs=50, washout=data.washout, progress=False)
>>> match_spectra(teacher.poles, np.linalg.eigvals(student.W)).distances.shape
(2,)
"""

from .bptt import loss_and_gradients
from .dataset import TeacherDataset, make_dataset
from .optim import Adam, clip_by_global_norm
from .spectra import (
    SpectrumMatch,
    lyapunov_exponents,
    match_spectra,
    plot_spectra,
    spectral_radius_error,
    student_zpk,
    transfer_function_error,
)
from .students import StudentRNN
from .teachers import GenerativeRNNTeacher, IIRTeacher, WienerTeacher, sample_poles
from .training import TrainingHistory, train_bptt, train_ensemble

__all__ = [
    "sample_poles",
    "IIRTeacher",
    "WienerTeacher",
    "GenerativeRNNTeacher",
    "TeacherDataset",
    "make_dataset",
    "StudentRNN",
    "loss_and_gradients",
    "Adam",
    "clip_by_global_norm",
    "TrainingHistory",
    "train_bptt",
    "train_ensemble",
    "SpectrumMatch",
    "match_spectra",
    "spectral_radius_error",
    "student_zpk",
    "transfer_function_error",
    "lyapunov_exponents",
    "plot_spectra",
]


def __getattr__(name: str) -> object:
    # The README named rrnn_net.teacher.fit_generative_rnn before it moved next to the learning code it starts.
    if name == "fit_generative_rnn":
        import warnings

        from ..learning.multistep import fit_generative_rnn

        warnings.warn("rrnn_net.teacher.fit_generative_rnn moved to rrnn_net.learning.fit_generative_rnn",
                      DeprecationWarning, stacklevel=2)
        return fit_generative_rnn
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
