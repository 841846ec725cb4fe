"""One BPTT epoch (forward + backward over the batch): rrnn_net's numpy BPTT vs torch.nn.RNN + autograd.

Setup (the teacher-student study's): float64, one input and one output
channel, sequences of 150 steps, batch 100, washout 50, MSE loss; hidden
sizes 5, 32 and 128, linear and tanh students. Both run in this process on
the CPU, torch with as many threads as cores. Each timing is the best of
several repeats (the least disturbed by other load), in milliseconds per
epoch. The gradients of both are compared before timing.

Run:  python benchmarks/bench_bptt.py [--repeats 7]
torch is optional; without it only the numpy timings are printed.
"""

from __future__ import annotations

import argparse
import os
import timeit

import numpy as np

from rrnn_net.teacher import StudentRNN, loss_and_gradients
from rrnn_net.teacher.bptt import ensemble_loss_and_gradients, washout_weights

BATCH, STEPS, WASHOUT = 100, 150, 50
HIDDEN_SIZES = (5, 32, 128)


def best_ms(function, repeats: int) -> float:
    """Best time of ``repeats`` runs of a few calls each, in ms per call."""
    number = 3
    return min(timeit.repeat(function, number=number, repeat=repeats)) / number * 1e3


def numpy_epoch(student: StudentRNN, X: np.ndarray, Y: np.ndarray):
    """One epoch as ``train_bptt`` runs it: the BPTT kernel on time-major data, scratch buffers reused."""
    inputs = np.ascontiguousarray(np.swapaxes(X, 0, 1))
    targets = np.ascontiguousarray(np.swapaxes(Y, 0, 1))
    weights = washout_weights(STEPS, WASHOUT)
    params = student.parameters()
    workspace: dict = {}
    return lambda: ensemble_loss_and_gradients(params, inputs, targets, weights, student.activation, None, workspace)


def torch_epoch(torch, student: StudentRNN, X: np.ndarray, Y: np.ndarray):
    """torch.nn.RNN (tanh) + a linear readout with the student's weights.

    Returns a function running one forward + backward pass and a function
    returning the gradients keyed like the student's parameters.
    """
    rnn = torch.nn.RNN(1, student.n_hidden, nonlinearity="tanh", bias=False, batch_first=True).double()
    readout = torch.nn.Linear(student.n_hidden, 1, bias=False).double()
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.from_numpy(student.W))
        rnn.weight_ih_l0.copy_(torch.from_numpy(student.U))
        readout.weight.copy_(torch.from_numpy(student.C))
    inputs, targets = torch.from_numpy(X), torch.from_numpy(Y)

    def epoch():
        rnn.zero_grad()
        readout.zero_grad()
        hidden, _ = rnn(inputs)
        loss = ((readout(hidden)[:, WASHOUT:] - targets[:, WASHOUT:]) ** 2).mean()
        loss.backward()

    def gradients():
        epoch()
        return {"W": rnn.weight_hh_l0.grad.numpy(), "U": rnn.weight_ih_l0.grad.numpy(),
                "C": readout.weight.grad.numpy()}

    return epoch, gradients


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="repeats per timing (best is kept)")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: timing numpy only (pip install torch for the comparison)")
    else:
        torch.set_num_threads(os.cpu_count() or 1)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((BATCH, STEPS, 1))
    Y = rng.standard_normal((BATCH, STEPS, 1))
    print(f"batch {BATCH}, {STEPS} steps, washout {WASHOUT}, float64; ms per epoch, best of {args.repeats}")
    print(f"{'hidden':>6} {'numpy linear':>12} {'numpy tanh':>10} {'torch tanh':>10} {'torch/numpy':>11} "
          f"{'grad rel. diff':>14}")
    for n_hidden in HIDDEN_SIZES:
        linear = StudentRNN(1, n_hidden, 1, activation="linear", seed=1)
        tanh = StudentRNN(1, n_hidden, 1, activation="tanh", seed=1)
        linear_ms = best_ms(numpy_epoch(linear, X, Y), args.repeats)
        tanh_ms = best_ms(numpy_epoch(tanh, X, Y), args.repeats)
        row = f"{n_hidden:>6} {linear_ms:>12.2f} {tanh_ms:>10.2f}"
        if torch is not None:
            epoch, gradients = torch_epoch(torch, tanh, X, Y)
            _, ours = loss_and_gradients(tanh, X, Y, washout=WASHOUT)
            theirs = gradients()
            difference = max(np.abs(ours[k] - theirs[k]).max() / np.abs(theirs[k]).max() for k in ours)
            torch_ms = best_ms(epoch, args.repeats)
            row += f" {torch_ms:>10.2f} {torch_ms / tanh_ms:>10.1f}x {difference:>14.1e}"
        print(row)


if __name__ == "__main__":
    main()
