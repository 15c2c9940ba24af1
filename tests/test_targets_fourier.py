"""The two homes of a target (issue 18, docs/architecture.md): sim's label functions (numpy, the data
a run trains on) and theory's exact expansions must describe the same functions. For every
target and small k the Walsh-Hadamard transform of sim's labels on all of {-1,1}^n equals
theory's expansion placed on the run's own support, exactly; plus the label noise and the tasks."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import binomtest

from sim import RunConfig
import sim.data
from sim.data import clean_labels, target_roles, target_support, task_of, training_set
from sim.targets import TARGET_NAMES as SIM_NAMES
from sim.targets import TARGETS
from theory.targets import TARGET_NAMES, target_expansion

CASES = [("parity", 3, 1, 0.0), ("parity", 4, 1, 0.0), ("noisy_parity", 3, 1, 0.25), ("staircase", 1, 1, 0.0),
         ("staircase", 3, 1, 0.0), ("staircase", 5, 1, 0.0), ("sparse_majority", 3, 1, 0.0),
         ("sparse_majority", 5, 1, 0.0), ("multitask_parity", 2, 2, 0.0), ("multitask_parity", 1, 3, 0.0),
         ("multitask_parity", 2, 3, 0.0)]


def walsh_hadamard(n: int, y: np.ndarray, X: np.ndarray) -> dict[tuple[int, ...], Fraction]:
    """{A: 2^-n sum_x y(x) chi_A(x)} over all subsets A of range(n) with a nonzero coefficient."""
    masks = np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.int64)  # (2^n, n): A as 0/1
    minus = (X < 0).astype(np.int64)
    chi = 1 - 2 * ((minus @ masks.T) % 2)  # chi_A(x) = (-1)^(number of -1 entries of x in A)
    sums = y.astype(np.int64) @ chi
    return {tuple(int(i) for i in np.flatnonzero(mask)): Fraction(int(v), 2**n) for mask, v in zip(masks, sums) if v}


def test_the_two_registries_name_the_same_targets():
    assert SIM_NAMES == TARGET_NAMES and tuple(TARGETS) == TARGET_NAMES


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-k{c[1]}-T{c[2]}")
@pytest.mark.parametrize("seed", [0, 7])
def test_sims_labels_are_theorys_expansion(case, seed):
    target, k, tasks, noise = case
    size = TARGETS[target].support_size(k, tasks)
    config = RunConfig(n=size + 2, k=k, width=1, target=target, tasks=tasks, label_noise=noise, seed=seed)
    X = np.array(list(itertools.product((1, -1), repeat=config.n)), dtype=np.int8)
    transform = walsh_hadamard(config.n, clean_labels(config, X), X)
    expansion = target_expansion(target, k, tasks=tasks, label_noise=Fraction(noise).limit_denominator())
    expected = {A: Fraction(int(a.p), int(a.q)) / (1 - 2 * Fraction(noise).limit_denominator())
                for A, a in expansion.on(target_roles(config)).items()}  # clean labels: the noise-free target
    assert transform == expected
    assert sorted(target_roles(config)) == list(target_support(config))


def test_noisy_labels_flip_at_the_stated_rate_on_training_data_only():
    config = RunConfig(n=20, k=3, width=1, samples=40_000, target="noisy_parity", label_noise=0.1, seed=3,
                       test_size=5000)
    X, y = training_set(config)
    flipped = int((y != clean_labels(config, X)).sum())
    # two-sided exact binomial test at the 99.9% level, fixed seed: the flips are Bernoulli(0.1)
    assert binomtest(flipped, config.samples, 0.1).pvalue > 1e-3, flipped
    X_test, y_test = sim.data.test_set(config)
    assert np.array_equal(y_test, clean_labels(config, X_test))  # the test set is clean
    parity = config.replace(target="parity", label_noise=0.0)
    assert np.array_equal(training_set(parity)[0], X)  # same inputs and S as the parity run of the seed
    assert np.array_equal(training_set(parity)[1], clean_labels(config, X))


def test_tasks_follow_the_first_control_bit_and_their_geometric_frequencies():
    config = RunConfig(n=30, k=2, width=1, samples=20_000, target="multitask_parity", tasks=3, seed=5)
    X, y = training_set(config)
    roles = target_roles(config)
    task = task_of(config, X)
    expected = np.where(X[:, roles[0]] == 1, 0, np.where(X[:, roles[1]] == 1, 1, 2))
    assert np.array_equal(task, expected)
    for t, p in enumerate((0.5, 0.25, 0.25)):  # 99.9% two-sided exact binomial tests, fixed seed
        assert binomtest(int((task == t).sum()), len(task), p).pvalue > 1e-3
        bits = list(roles[2 + 2 * t: 4 + 2 * t])
        assert np.array_equal(y[task == t], X[task == t][:, bits].prod(axis=1))
    with pytest.raises(ValueError, match="target='parity' has no tasks"):
        task_of(config.replace(target="parity", tasks=1), X)
