"""Learning generative RNNs through the rRNN's own evidence (exact gradients by JAX).

- :func:`fit_evidence` — maximum likelihood of one GenerativeRNN and its
  initial-state prior on recordings.
- :func:`fit_bank` — a bank of class models for recognition: maximum
  likelihood, then conditional likelihood of the true class (MMI), with the
  kept steps and an evidence scale chosen on a validation split of the
  training data. :class:`~rrnn_net.RRNNClassifier` uses it by default.
- :func:`expected_calibration_error` — how well posteriors mean what they say.
- :func:`fit_generative_rnn` — the multi-step BPTT fit (numpy) that
  maximum-likelihood learning starts from.

Importing this package imports JAX (about a second); ``import rrnn_net`` does
not, and :class:`~rrnn_net.RRNNClassifier` imports it when it first fits.
"""

from .bank import OBJECTIVES, BankFit, fit_bank
from .calibration import expected_calibration_error
from .fit import EvidenceFit, fit_evidence
from .multistep import GenerativeRNNFitter, fit_generative_rnn

__all__ = ["fit_evidence", "EvidenceFit", "fit_bank", "BankFit", "OBJECTIVES", "expected_calibration_error",
           "fit_generative_rnn", "GenerativeRNNFitter"]
