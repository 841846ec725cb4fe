from rrnn_net import RRNNClassifier
from rrnn_net.demos.banks import FAST_STEPS, bank_options


def test_a_full_run_keeps_the_classifiers_defaults_and_the_fast_run_learns_one_small_bank():
    defaults = RRNNClassifier().get_params()
    full = RRNNClassifier(**bank_options(fast=False)).get_params()
    assert {name: value for name, value in full.items() if name != "n_jobs"} == {
        name: value for name, value in defaults.items() if name != "n_jobs"}
    fast = RRNNClassifier(**bank_options(fast=True))
    assert fast.n_members == 1 and fast.fit_options == FAST_STEPS
    fast.fit_options["evidence_steps"] = 1  # each run gets its own copy
    assert bank_options(fast=True)["fit_options"] == FAST_STEPS != fast.fit_options
