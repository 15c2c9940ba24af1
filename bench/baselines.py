"""The baselines researchers use to train many small MLPs with torch: a Python loop over
``torch.nn`` models (naive) and a ``torch.func`` ensemble (vmap of grad over stacked params)."""

from __future__ import annotations

import copy
from typing import Callable

import numpy as np

from bench.workload import LR, WEIGHT_DECAY, Workload


def _torch_model(W: np.ndarray, b: np.ndarray, u: np.ndarray, device: str):
    import torch
    from torch import nn

    width, n = W.shape
    model = nn.Sequential(nn.Linear(n, width), nn.ReLU(), nn.Linear(width, 1, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.as_tensor(W, dtype=torch.float32))
        model[0].bias.copy_(torch.as_tensor(b, dtype=torch.float32))
        model[2].weight.copy_(torch.as_tensor(u, dtype=torch.float32)[None])
    return model.to(device)


def naive_step_fn(work: Workload, runs: int, device: str) -> Callable[[], None]:
    """One call = one SGD step of each of ``runs`` separate nn models (Python loop)."""
    import torch

    models = [_torch_model(work.W[i], work.b[i], work.u[i], device) for i in range(runs)]
    optims = [torch.optim.SGD(m.parameters(), lr=LR, weight_decay=WEIGHT_DECAY) for m in models]
    X = torch.as_tensor(work.X[:runs], dtype=torch.float32, device=device)
    Y = torch.as_tensor(work.y[:runs], dtype=torch.float32, device=device)
    clock = [0]

    def step() -> None:
        t = clock[0] % work.steps
        clock[0] += 1
        for model, optim, x, y in zip(models, optims, X[:, t], Y[:, t]):
            optim.zero_grad()
            f = model(x).squeeze(-1)
            loss = torch.clamp(1.0 - y * f, min=0.0).mean()
            loss.backward()
            optim.step()

    return step


def ensemble_step_fn(work: Workload, device: str) -> Callable[[], None]:
    """One call = one SGD step of all R runs with torch.func (vmap of grad over stacked params)."""
    import torch
    from torch.func import functional_call, grad, stack_module_state, vmap

    models = [_torch_model(work.W[i], work.b[i], work.u[i], device) for i in range(work.runs)]
    params, _ = stack_module_state(models)
    params = {name: p.detach() for name, p in params.items()}
    base = copy.deepcopy(models[0]).to("meta")
    del models

    def loss_of(p: dict, x, y):
        f = functional_call(base, (p,), (x,)).squeeze(-1)
        return torch.clamp(1.0 - y * f, min=0.0).mean()

    grads_of = vmap(grad(loss_of))
    X = torch.as_tensor(work.X, dtype=torch.float32, device=device)
    Y = torch.as_tensor(work.y, dtype=torch.float32, device=device)
    names = list(params)
    tensors = [params[name] for name in names]
    clock = [0]

    def step() -> None:
        t = clock[0] % work.steps
        clock[0] += 1
        g = grads_of(params, X[:, t], Y[:, t])
        g = [g[name] for name in names]
        with torch.no_grad():
            torch._foreach_add_(g, tensors, alpha=WEIGHT_DECAY)  # g + wd p
            torch._foreach_add_(tensors, g, alpha=-LR)  # p - lr (g + wd p)

    return step


def jax_step_fn(work: Workload, device: str) -> Callable[[], None]:
    """One call = one block of ``work.steps`` SGD steps of all R runs in JAX:
    ``jit(vmap(lambda params, X, Y: lax.scan(step, params, (X, Y))))``, the strongest public way
    to train many small MLPs on a CPU (one compiled program per block, runs vectorised). An
    optional contender: it needs the ``[bench]`` extra (jax)."""
    import jax
    import jax.numpy as jnp

    def loss(params, x, y):
        W, b, u = params
        f = jnp.maximum(x @ W.T + b, 0.0) @ u
        return jnp.mean(jnp.maximum(1.0 - y * f, 0.0))

    def step(params, batch):
        grads = jax.grad(loss)(params, *batch)
        return tuple(p - LR * (g + WEIGHT_DECAY * p) for p, g in zip(params, grads)), None

    block = jax.jit(jax.vmap(lambda params, X, Y: jax.lax.scan(step, params, (X, Y))[0]))
    target = jax.devices("gpu" if device.startswith("cuda") else "cpu")[0]
    params = [tuple(jax.device_put(jnp.asarray(p, dtype=jnp.float32), target) for p in (work.W, work.b, work.u))]
    blocks = [tuple(jax.device_put(jnp.asarray(a, dtype=jnp.float32), target) for a in pair) for pair in work.blocks]
    clock = [0]

    def call() -> None:
        X, Y = blocks[clock[0] % len(blocks)]
        clock[0] += 1
        params[0] = block(params[0], X, Y)
        jax.block_until_ready(params[0])

    call.parameters = lambda: tuple(np.asarray(p, dtype=np.float64) for p in params[0])  # for the tests
    return call
