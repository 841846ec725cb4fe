"""JAX set-up for learning: float64 in a context, and XLA's CPU runtime kept to one worker thread.

Why one thread: with jaxlib 0.10 on a 2-core machine, reverse-mode gradients
of the batched filter (``lax.scan`` over Cholesky factorisations, vmapped
over a few thousand trials) wedged XLA's CPU thread pool — every worker idle,
the result never delivered — reproducibly for some shapes (9 class models ×
30 trials × 12 channels), with or without ``--xla_cpu_multi_thread_eigen=false``.
With a one-thread pool the same programs finish, and they run 1.0–1.9×
*faster*: the filter is thousands of small kernels, for which cross-thread
hand-offs cost more than they save. XLA sizes its pool from the CPU affinity
of the thread that creates the CPU client, so the client is created while
that thread is pinned to one CPU; right after, the affinity of that thread
and of the threads the client started is restored, so the pool keeps one
worker but the scheduler may run it on any CPU.

If JAX's CPU backend already exists when learning starts (the user ran JAX
code first), it is used as it is.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import jax

__all__ = ["float64", "initialise_backend"]

_lock = threading.Lock()
_initialised = False


def initialise_backend() -> None:
    """Create JAX's CPU client with a one-thread pool, unless it exists already (idempotent)."""
    global _initialised
    with _lock:
        if _initialised:
            return
        _initialised = True
        pin = hasattr(os, "sched_setaffinity") and not _backend_exists()
        if not pin:
            return
        allowed = os.sched_getaffinity(0)
        before = _thread_ids()
        os.sched_setaffinity(0, {min(allowed)})
        try:
            jax.devices("cpu")
        finally:
            os.sched_setaffinity(0, allowed)
            for thread_id in _thread_ids() - before:
                with contextlib.suppress(OSError):  # a thread that already ended
                    os.sched_setaffinity(thread_id, allowed)


def _thread_ids() -> set[int]:
    try:
        return {int(name) for name in os.listdir("/proc/self/task")}
    except OSError:
        return set()


def _backend_exists() -> bool:
    try:
        from jax._src import xla_bridge
    except ImportError:  # private module moved: assume the worst, leave the backend to JAX
        return True
    check = getattr(xla_bridge, "backends_are_initialized", None)
    return True if check is None else bool(check())


@contextlib.contextmanager
def float64() -> Iterator[None]:
    """Run the enclosed JAX code in float64 (this context only), on the backend set up above."""
    initialise_backend()
    with jax.enable_x64(True):
        yield
