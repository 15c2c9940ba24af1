"""Exact theory of sparse-parity feature learning (Edelman et al. 2023, arXiv 2309.03800).

Pure Python + sympy: imports nothing else of this project, and neither numpy, torch nor numba.

- :mod:`theory.fourier`: exact Fourier coefficients of a neuron on an s-hot support
  (Krawtchouk formula) and its population gradient signal / Fourier gap (docs/science.md 4.2-4.3).
- :mod:`theory.activations`: activations as data (named ones and any exact callable).
- :mod:`theory.ltf`: exact coefficients of any linear-threshold neuron (subset-sum DP).
- :mod:`theory.neuron`: the gradient signal of actual neurons; 2-hot tickets carrying signal.
- :mod:`theory.lottery`: ticket probabilities, overlap law, critical width (docs/science.md 4.4), for
  both ticket kinds (inclusion: S ⊆ U or U ⊆ S; first order: |U ∩ S| >= k - 1).
- :mod:`theory.sq`: the SQ lower bound as a frontier in params, steps, samples, luck (4.1), and in
  its own tau and delta (:func:`sq_bound`).
- :mod:`theory.predict`: Theorem 4 / Theorem 5 width and sample scalings (4.3).
- :mod:`theory.perturbed`: the ones-plus-epsilon neuron with epsilon a symbol: Theorem 5's signal
  as a series in epsilon and its leading term.
- :mod:`theory.symbolic`: closed forms in n and s (with their domains), asymptotic expansions, the
  symbolic table.
- :mod:`theory.scaling`: the constants of gap(s) = Theta(s^{-(k-1)/2}).
- :mod:`theory.anticoncentration`: exact census of random dense neurons' coefficients.
- :mod:`theory.tables`: the bound tables ``frontier bounds`` prints.
- :mod:`theory.targets`: targets beyond parity: exact expansions, signals and tickets (docs/targets.md).
"""

from theory.activations import NAMED_ACTIVATIONS, Activation, leaky_relu, resolve_activation
from theory.anticoncentration import (
    GridNeuron,
    NeuronCensus,
    QuantileBand,
    anticoncentration_table,
    clopper_pearson,
    draw_grid_neuron,
    neuron_census,
    quantile_band,
)
from theory.fourier import ACTIVATIONS, GradientSignal, coefficient, gradient_signal, spectrum
from theory.lottery import (
    TICKET_KINDS,
    critical_width,
    critical_width_exact,
    is_ticket,
    overlap_distribution,
    success_with_width,
    ticket_probability,
    width_for_confidence,
)
from theory.ltf import RoundedCoefficient, ltf_coefficient, ltf_coefficient_on_grid
from theory.neuron import (
    NeuronSignal,
    carries_degree2_signal,
    degree2_coefficient_of_2hot,
    neuron_gradient_signal,
    signal_carrying_fraction,
)
from theory.perturbed import EpsilonSignal, epsilon_signal
from theory.predict import Prediction, predicted_frontier, theorem4, theorem5
from theory.scaling import (
    MajorityGap,
    ScalingConstants,
    gaussian_limit,
    majority_gap_closed_form,
    scaling_constants,
    symmetric_gap,
    threshold_bias,
)
from theory.sq import (
    max_success_probability,
    min_params,
    min_params_exact,
    min_samples,
    min_samples_exact,
    min_steps,
    min_steps_exact,
    mlp_params,
    SQBound,
    sq_bound,
)
from theory.targets import (
    TARGET_NAMES,
    TargetExpansion,
    TargetSignal,
    TargetTickets,
    first_order_ticket,
    target_expansion,
    target_signal,
    target_tickets,
)
from theory.symbolic import (
    Asymptotic,
    ClosedForm,
    Formula,
    asymptotic,
    coefficient_closed_form,
    formula,
    symbolic_rows,
    symbolic_table,
)

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Asymptotic",
    "ClosedForm",
    "EpsilonSignal",
    "Formula",
    "GradientSignal",
    "GridNeuron",
    "MajorityGap",
    "NAMED_ACTIVATIONS",
    "NeuronCensus",
    "NeuronSignal",
    "Prediction",
    "QuantileBand",
    "RoundedCoefficient",
    "SQBound",
    "ScalingConstants",
    "TARGET_NAMES",
    "TICKET_KINDS",
    "TargetExpansion",
    "TargetSignal",
    "TargetTickets",
    "anticoncentration_table",
    "asymptotic",
    "carries_degree2_signal",
    "clopper_pearson",
    "coefficient",
    "coefficient_closed_form",
    "critical_width",
    "critical_width_exact",
    "degree2_coefficient_of_2hot",
    "draw_grid_neuron",
    "epsilon_signal",
    "first_order_ticket",
    "formula",
    "gaussian_limit",
    "gradient_signal",
    "is_ticket",
    "leaky_relu",
    "ltf_coefficient",
    "ltf_coefficient_on_grid",
    "majority_gap_closed_form",
    "max_success_probability",
    "min_params",
    "min_params_exact",
    "min_samples",
    "min_samples_exact",
    "min_steps",
    "min_steps_exact",
    "mlp_params",
    "neuron_census",
    "neuron_gradient_signal",
    "overlap_distribution",
    "predicted_frontier",
    "quantile_band",
    "resolve_activation",
    "scaling_constants",
    "signal_carrying_fraction",
    "spectrum",
    "sq_bound",
    "success_with_width",
    "symbolic_rows",
    "symbolic_table",
    "symmetric_gap",
    "target_expansion",
    "target_signal",
    "target_tickets",
    "theorem4",
    "theorem5",
    "threshold_bias",
    "ticket_probability",
    "width_for_confidence",
]
