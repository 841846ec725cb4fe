"""The conformance suite (``conformance.py``) on Brian2's cpp_standalone target."""

import pytest

from .conformance import (
    backend_fixture,
    test_baseline_graph_agrees_with_numpy_euler,
    test_editing_a_weight_changes_the_result_as_to_matrices_says,
    test_fixed_gain_graph_agrees_with_numpy_euler,
    test_noise_estimating_graph_agrees_with_continuous_filter_with_missing_samples,
)

pytestmark = pytest.mark.slow  # a cold compilation of each network structure (still run in CI)
backend = backend_fixture({"backend": "brian2", "target": "cpp_standalone"})
# The shared suite, imported so that pytest collects it here with this module's backend fixture. The adaptive
# structure compiled here is the noise-estimating one (a superset of the plain adaptive form; conformance.py).
SUITE = (
    test_noise_estimating_graph_agrees_with_continuous_filter_with_missing_samples,
    test_fixed_gain_graph_agrees_with_numpy_euler,
    test_editing_a_weight_changes_the_result_as_to_matrices_says,
    test_baseline_graph_agrees_with_numpy_euler,
)
