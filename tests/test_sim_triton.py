"""The triton backend (fused GPU kernels, issue 6) against the torch backend as its oracle.

On a machine with CUDA these run the real kernels; without one, Triton's CPU interpreter
(tests/conftest.py sets TRITON_INTERPRET=1), which checks the kernels' indexing, masking,
fusion across steps and arithmetic, but not TF32 rounding (the interpreter multiplies in
float32): the float32 tolerance below is then checked only on a GPU run of this file.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sim
from sim import RunConfig
import sim.backends.torch as backend_torch
import sim.backends.triton as backend_triton
from sim.config import LOSSES
from sim.init import initialize
from kernels import build_kernel, trained_weights
from strategies import with_other_targets

pytestmark = pytest.mark.usefixtures("single_torch_thread")

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def mixed_configs(width: int, count: int = 4, n: int = 50, **fields) -> list[RunConfig]:
    """One group of runs that differ in loss, init, data (online/offline), lr and weight decay."""
    return [
        RunConfig(
            n=n, k=3, width=width, samples=(None, 400)[i % 2], init=("dense", "sparse")[(i // 2) % 2],
            loss=LOSSES[i % 3], lr=(0.1, 0.05, 0.2)[i % 3], weight_decay=(0.01, 0.0, 0.03)[i % 3],
            test_size=500, seed=11 * i + 3, **fields,
        )
        for i in range(count)
    ]


def kernel_pair(configs: list[RunConfig], dtype: str = "float64"):
    """(triton kernel on DEVICE, torch kernel on the CPU) built from the same initial weights and test sets."""
    return build_kernel(backend_triton, configs, dtype, DEVICE), build_kernel(backend_torch, configs, dtype)


def random_block(rng, runs: int, steps: int, batch: int, n: int):
    X = (1 - 2 * rng.integers(0, 2, size=(runs, steps, batch, n))).astype(np.int8)
    return X, np.prod(X[..., :3], axis=-1, dtype=np.int8)


def test_float64_weights_equal_torch_after_30_steps():
    """Every loss, dense and sparse, online and offline, per-run lr and weight decay; width 100
    is two 64-neuron tiles, the second partial. Two blocks: the forward pass that opens a block
    and the cross-step fusion inside it both count."""
    configs = mixed_configs(100)
    got = trained_weights(backend_triton, configs, steps=30, device=DEVICE)
    expected = trained_weights(backend_torch, configs, steps=30)
    for name, a, e in zip("Wbu", got, expected):
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-12, err_msg=name)


def test_every_other_target_trains_to_torchs_weights():
    """Issue 18: the labels of every other target are data; the fused kernels give torch's weights."""
    configs = with_other_targets(mixed_configs(40))
    got = trained_weights(backend_triton, configs, steps=20, device=DEVICE)
    expected = trained_weights(backend_torch, configs, steps=20)
    for name, a, e in zip("Wbu", got, expected):
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-12, err_msg=name)


def test_float32_within_float32_rounding_of_float64():
    """float32 (on a GPU: W split into two TF32 parts, module doc) stays within 1e-4 of the
    float64 weights after 30 steps, relative to the largest weight (float32 alone: ~1e-6)."""
    configs = mixed_configs(24, count=3, n=40)
    got = trained_weights(backend_triton, configs, steps=30, dtype="float32", device=DEVICE)
    expected = trained_weights(backend_torch, configs, steps=30)
    for name, a, e in zip("Wbu", got, expected):
        assert np.abs(a - e).max() <= 1e-4 * np.abs(e).max(), name
        assert not np.array_equal(a, e.astype(np.float32)) or name == "b"  # it did train in float32


def test_batched_run_is_bit_identical_to_the_same_run_alone():
    configs = mixed_configs(100, count=3)
    rng = np.random.default_rng(0)
    X, y = random_block(rng, 3, 7, 32, 50)
    batched, _ = kernel_pair(configs, dtype="float32")
    batched.train(np.arange(3), X, y)
    alone, _ = kernel_pair(configs[1:2], dtype="float32")
    alone.train(np.arange(1), X[1:2], y[1:2])
    for a, e in zip(batched.parameters(np.array([1])), alone.parameters(np.array([0]))):
        np.testing.assert_array_equal(a, e)


def test_update_programs_looping_over_tiles_change_nothing(monkeypatch):
    """UPDATE_WAVES > 0: fewer update programs than tiles, each looping over several tiles;
    the weights must be bit-identical to one program per tile."""
    configs = mixed_configs(200, count=2)  # 4 tiles of 64
    X, y = random_block(np.random.default_rng(2), 2, 3, 32, 50)
    weights = []
    for waves in (0, 1):
        monkeypatch.setattr(backend_triton, "UPDATE_WAVES", waves)
        kernel, _ = kernel_pair(configs, dtype="float32")
        kernel.train(np.arange(2), X, y)
        weights.append(kernel.parameters(np.arange(2)))
    assert backend_triton.UPDATE_WAVES == 1 and kernel._update_programs(2, 4) == (4 if DEVICE == "cuda" else 1)
    for a, e in zip(*weights):
        np.testing.assert_array_equal(a, e)


def test_shrinking_active_set_and_evaluation_match_torch():
    """Runs leave between blocks (the working set is compacted), a batch size that is not a
    power of two (padded rows), n + 1 = 71 inputs (two 64-column chunks), then every evaluation
    entry point on full and partial test sets."""
    configs = mixed_configs(40, count=3, n=70, batch_size=20)
    triton_kernel, torch_kernel = kernel_pair(configs)
    rng = np.random.default_rng(1)
    for runs in (np.arange(3), np.array([0, 2]), np.array([2])):
        X, y = random_block(rng, len(runs), 4, 20, 70)
        triton_kernel.train(runs, X, y)
        torch_kernel.train(runs, X, y)
    everyone = np.arange(3)
    for a, e in zip(triton_kernel.parameters(everyone), torch_kernel.parameters(everyone)):
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-12)
    for start, stop in ((0, None), (125, 250)):
        (error_a, loss_a), (error_e, loss_e) = (k.evaluate_test(everyone, start, stop) for k in (triton_kernel, torch_kernel))
        np.testing.assert_array_equal(error_a, error_e)
        np.testing.assert_allclose(loss_a, loss_e, rtol=1e-12)
    X, y = random_block(rng, 2, 1, 300, 70)
    (error_a, loss_a), (error_e, loss_e) = (k.evaluate(np.array([0, 2]), X[:, 0], y[:, 0]) for k in (triton_kernel, torch_kernel))
    np.testing.assert_array_equal(error_a, error_e)
    np.testing.assert_allclose(loss_a, loss_e, rtol=1e-12)


def test_engine_gives_torch_results_including_divergence():
    """Through sim.train: success and steps_to_success as the torch backend's, and a run
    with lr 1e6 ends 'diverged' instead of crashing."""
    configs = [
        RunConfig(n=10, k=3, width=16, init="sparse", lr=0.5, max_steps=250, eval_every=25, test_size=400, seed=s)
        for s in range(3)
    ] + [RunConfig(n=10, k=3, width=16, lr=1e6, max_steps=250, eval_every=25, test_size=400, seed=9)]
    got = sim.train(configs, backend="triton", device=DEVICE, dtype="float64")
    expected = sim.train(configs, backend="torch", dtype="float64")
    assert [r.success for r in expected] == [True, True, False, False]  # covers success, failure, divergence
    assert got[-1].diverged and not got[-1].success
    for a, e in zip(got, expected):
        assert (a.success, a.steps_to_success, a.diverged) == (e.success, e.steps_to_success, e.diverged)
        if not e.diverged:
            assert a.final_test_error == e.final_test_error


def test_cpu_without_the_interpreter_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(backend_triton, "INTERPRETED", False)
    configs = mixed_configs(16, count=1)
    with pytest.raises(ValueError, match="CUDA"):
        backend_triton.make_kernel(*(np.stack([p]) for p in initialize(configs[0])), lr=0.1, weight_decay=0.0,
                                   loss_ids=0, test_X=np.ones((1, 4, 50), np.int8),
                                   test_y=np.ones((1, 4), np.int8), device="cpu")
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="triton"):
        sim.train(configs, backend="triton", device="cpu")


COMPILE_SCRIPT = r'''
import inspect, sys
import triton, triton.language as tl
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
import sim.backends.triton as bt

INT8_POINTERS = {"X_ptr", "y_ptr"}
CONSTANTS = {"BLOCK_R": 64, "BP": 32, "BLOCK_M": 64, "KC": 64, "BLOCK_T": 32, "HAS_NEXT": True}
for dtype, split in (("fp32", True), ("fp64", False)):
    for chunks in (1, 2):
        for kernel in (bt._forward_kernel, bt._delta_kernel, bt._update_kernel, bt._outputs_kernel):
            signature, constants = {}, {}
            for name, parameter in inspect.signature(kernel.fn).parameters.items():
                if parameter.annotation in (tl.constexpr, "tl.constexpr"):
                    signature[name] = "constexpr"
                    constants[name] = {"NUM_K": chunks, "SPLIT": split}.get(name, CONSTANTS.get(name))
                elif name.endswith("_ptr"):
                    signature[name] = "*i8" if name in INT8_POINTERS else "*i64" if name == "loss_ptr" else "*" + dtype
                else:
                    signature[name] = "i32"
            triton.compile(ASTSource(fn=kernel, signature=signature, constexprs=constants),
                           target=GPUTarget("cuda", 90, 32), options={"num_warps": bt.NUM_WARPS})
            print(kernel.fn.__name__, dtype, chunks, "ok", flush=True)
'''


def test_kernels_compile_for_hopper_without_a_gpu():
    """The interpreter does not run Triton's compiler, which has rules of its own (e.g. code
    after a return in a constexpr branch is still compiled); compile every kernel, float32 and
    float64, one and two column chunks, for sm_90 (H100) with the ptxas that the triton wheel
    carries. No GPU is needed for this."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRITON_INTERPRET": "0", "TRITON_DEFAULT_FP_FUSION": "1"}
    completed = subprocess.run([sys.executable, "-c", COMPILE_SCRIPT], capture_output=True, text=True,
                               env=env, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.count(" ok") == 16
