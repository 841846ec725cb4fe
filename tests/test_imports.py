"""Importing the package loads none of the slow optional layers: plotting, the Brian2 backend, JAX learning."""

import subprocess
import sys

import pytest

SLOW_TO_IMPORT = ("matplotlib", "brian2", "jax")


@pytest.mark.parametrize("module", ["rrnn_net", "rrnn_net.graph", "rrnn_net.backends", "rrnn_net.demos",
                                    "rrnn_net.cli"])
def test_import_loads_no_plotting_backend_or_learning(module):
    # A fresh interpreter: in the test process other tests have imported everything already.
    code = f"import sys, {module}; print(*[name for name in {SLOW_TO_IMPORT!r} if name in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == [], f"import {module} loads {', '.join(loaded)}"
