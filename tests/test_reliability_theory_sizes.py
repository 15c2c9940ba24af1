"""Issue 25, sizes in the theory: every command and API entry whose work grows with its input is
refused before the work when the input asks for too much (theory.limits). At 98c3d10
`anticoncentration --n 10 --grid 1000000000` took all the memory (the kernel's OOM killer),
`anticoncentration --n 100000` and `bounds --n 100000 --k 30 --s 60` ran for hours, and
`bounds --symbolic --k 30` did not finish.

Each refusal must come at once: a test runs the call in a child process with a deadline and a
memory cap, so the old behaviour fails the test instead of hanging or exhausting the machine."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from cli_contract import one_error_line

DEADLINE = 60  # seconds; a refusal takes well under one (plus the interpreter's start)
MEMORY = 2 * 2**30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_capped(args: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=DEADLINE, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args} still ran after {DEADLINE} s (no size guard)")


@pytest.mark.parametrize("args, words", [
    (["anticoncentration", "--n", "10", "--grid", "1000000000", "--neurons", "10"], "subset-sum table"),
    (["anticoncentration", "--n", "100000", "--neurons", "10"], "census of 10 neurons at n=100000"),
    (["bounds", "--n", "100000", "--k", "30", "--s", "60"], "width_for_confidence(n=100000, k=30, s=60)"),
    (["bounds", "--symbolic", "--k", "30", "--s", "60"], "closed forms in n at k=30"),
    (["bounds", "--n", "1000000", "--k", "3", "--s", "500000"], "support size s=500000"),
])
def test_theory_commands_refuse_sizes_before_the_work(args, words):
    done = run_capped([sys.executable, "-m", "frontier.cli", *args])
    assert one_error_line(done.returncode, done.stderr, words), done.stderr[-500:]
    assert "above the limit" in done.stderr


API_CALLS = {
    "width_for_confidence": "theory.width_for_confidence(100000, 30, 60, 0.99)",
    "spectrum": "theory.spectrum(100000)",
    "coefficient": "theory.coefficient(10**7, 3)",
    "gradient_signal": "theory.gradient_signal(10**7, 3, 10**6, 1)",
    "overlap_distribution": "theory.overlap_distribution(10**6, 10**4, 10**5)",
    "scaling_constants": "theory.scaling_constants(3, range(6, 20000))",
    "neuron_census": "theory.neuron_census(100000, 3, 10, 8, 0)",
    "anticoncentration_table": "theory.anticoncentration_table([10], 3, 10, (1,), 10**9, 0)",
    "target_expansion": "theory.target_expansion('sparse_majority', 31)",
    "symbolic_table": "__import__('theory.symbolic').symbolic.symbolic_table([30], [60])",
    "bound_rows": "__import__('theory.tables').tables.bound_rows(list(range(4, 2005)), [3], [2, 3, 4, 5, 6])",
}


@pytest.mark.parametrize("name", sorted(API_CALLS))
def test_theory_api_entries_raise_a_value_error_naming_the_size(name):
    code = (f"import theory\ntry:\n    {API_CALLS[name]}\nexcept ValueError as exc:\n"
            "    print(type(exc).__name__, exc)\nelse:\n    print('no error')\n")
    done = run_capped([sys.executable, "-c", code])
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.startswith("TheoryTooLargeError ") and "above the limit" in done.stdout, done.stdout


def test_sizes_below_the_limits_still_compute_and_the_limit_can_be_raised():
    import theory
    import theory.limits

    assert theory.width_for_confidence(1000, 30, 60, 0.99) > 10**40  # 1/p ~ 2e40: exact, at once
    assert len(theory.spectrum(40)) == 41
    saved = theory.limits.LIMITS["spectrum_support"]
    try:
        theory.limits.LIMITS["spectrum_support"] = 10
        with pytest.raises(ValueError, match="spectrum_support"):
            theory.spectrum(11)
    finally:
        theory.limits.LIMITS["spectrum_support"] = saved
