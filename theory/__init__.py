"""Exact theory of sparse-parity feature learning (Edelman et al. 2023, arXiv 2309.03800).

Pure Python + sympy: imports nothing else of this project, and neither torch nor numba.

- :mod:`theory.fourier`: exact Fourier coefficients of a neuron on an s-hot support
  (Krawtchouk formula) and its population gradient signal / Fourier gap (docs/science.md 4.2-4.3).
- :mod:`theory.lottery`: ticket probabilities, overlap law, critical width (docs/science.md 4.4).
- :mod:`theory.sq`: the SQ lower bound as a frontier in params, steps, samples, luck (4.1).
- :mod:`theory.predict`: Theorem 4 / Theorem 5 width and sample scalings (4.3).
"""

from theory.fourier import ACTIVATIONS, GradientSignal, coefficient, gradient_signal, spectrum
from theory.lottery import (
    critical_width,
    overlap_distribution,
    success_with_width,
    ticket_probability,
    width_for_confidence,
)
from theory.predict import Prediction, predicted_frontier, theorem4, theorem5
from theory.sq import max_success_probability, min_params, min_samples, min_steps, mlp_params

__all__ = [
    "ACTIVATIONS",
    "GradientSignal",
    "Prediction",
    "coefficient",
    "critical_width",
    "gradient_signal",
    "max_success_probability",
    "min_params",
    "min_samples",
    "min_steps",
    "mlp_params",
    "overlap_distribution",
    "predicted_frontier",
    "spectrum",
    "success_with_width",
    "theorem4",
    "theorem5",
    "ticket_probability",
    "width_for_confidence",
]
