"""Tune the triton backend on a GPU: training rate (% of copy bandwidth) and evaluation time per
run for several (BLOCK_WIDTH, NUM_WARPS, UPDATE_WAVES) and (BLOCK_WIDTH, BLOCK_SAMPLES, NUM_WARPS),
beside the torch backend, at the bench's widths and at n = 300.

    PYTHONPATH=$PWD python3 benchmarks/tune_triton.py

Not run by the test suite (it needs CUDA); set the winners as the defaults in sim/backend_triton.py.
"""
import sys
import numpy as np, torch
from sim import backend_triton as bt
from verify.bench import make_workload, kernel_for, copy_bandwidth_bytes_per_s, bytes_per_run_step, time_calls

copy = copy_bandwidth_bytes_per_s("cuda")
print(f"copy {copy/1e9:.0f} GB/s", flush=True)
cases = [(30000, 32, 50), (100000, 8, 50), (30000, 8, 300), (10000, 64, 50), (1000, 512, 50), (10, 4096, 50)]
train_variants = [(64, 8, 0), (64, 8, 1), (64, 8, 2), (32, 4, 0), (32, 4, 2), (64, 4, 0)]
eval_variants = [(64, 64, 4), (64, 128, 8), (128, 64, 8), (32, 128, 4)]
sync = torch.cuda.synchronize
rng = np.random.default_rng(1)
for width, R, n in cases:
    work = make_workload(width, R, 50, None, n=n)
    X, y = work.blocks[0]
    runs = np.arange(R)
    Xe = (1 - 2 * rng.integers(0, 2, size=(min(R, 16), 10000, n))).astype(np.int8)
    ye = np.prod(Xe[..., :3], axis=-1, dtype=np.int8)
    erun = np.arange(len(Xe))
    for name, block, warps, waves in [("torch", 0, 0, 0)] + [("triton", *v) for v in train_variants]:
        if name == "triton":
            bt.BLOCK_WIDTH, bt.NUM_WARPS, bt.UPDATE_WAVES = block, warps, waves
        k = kernel_for(name, work, "cuda")
        calls, secs = time_calls(lambda: k.train(runs, X, y), sync, 0.3, 3)
        rate = R * 50 * calls / secs
        print(f"w {width:>6} n {n} R {R:>4} {name:>6} train block {block:>3} warps {warps} waves {waves}: {rate:10.4g} run-steps/s "
              f"{100 * rate * bytes_per_run_step(width, n=n) / copy:5.1f}% of copy", flush=True)
        if name == "torch":
            ecalls, esecs = time_calls(lambda: k.evaluate(erun, Xe, ye), sync, 0.1, 2)
            print(f"   torch eval {esecs / ecalls / len(Xe) * 1e3:.4g} ms/run", flush=True)
        del k
    for block, samples, warps in eval_variants:
        bt.BLOCK_WIDTH, bt.BLOCK_SAMPLES, bt.NUM_WARPS = block, samples, warps
        k = kernel_for("triton", work, "cuda")
        ecalls, esecs = time_calls(lambda: k.evaluate(erun, Xe, ye), sync, 0.1, 2)
        print(f"   triton eval block {block} samples {samples} warps {warps}: "
              f"{esecs / ecalls / len(Xe) * 1e3:.4g} ms/run", flush=True)
        del k
    bt.BLOCK_SAMPLES, bt.BLOCK_WIDTH, bt.NUM_WARPS, bt.UPDATE_WAVES = 64, 64, 8, 0
    del work
