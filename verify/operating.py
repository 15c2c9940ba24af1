"""Operating characteristics of the checks, measured by simulation (docs/verification.md,
"Operating characteristics").

How often does a check say PASS, FAIL or INCONCLUSIVE when its claim is true (at the claim's
boundary, where a wrong verdict is likeliest), and when it is false by a stated effect? This
module answers by simulating stores at each check's own design (:mod:`verify.designs`, the
demo's cells and seeds) from a generative model fitted to a real store, and running the check
itself on every synthetic store.

**The generative model** (:class:`LatentModel`). Each run has a latent standard normal L and
succeeds when L < Phi^{-1}(p), p its cell's success probability (a Gaussian copula, the probit
threshold model of science.md 7.1 in another dress). Runs of one seed are correlated:

    L = sqrt(rho_b) z_seed + sqrt(rho_w - rho_b) e_(seed, arm) + sqrt(1 - rho_w) eta_run

so two arms of one seed at one cell correlate at ``rho_b`` (the arms share S, the data and the
test set) and two runs of one arm and seed at different (width, m) at ``rho_w`` (they share the
network's first neurons and nested data). ``rho_b`` is measured separately between init arms
(dense vs sparse) and between an intervention's control arms (none vs sham / control), ``rho_w``
between a seed's runs at adjacent m; each by a pooled tetrachoric correlation (maximum likelihood
over the 2x2 tables of paired cells, each cell's thresholds at its observed rates). Cell
probabilities p come from a probit fit per (study, arm, width): p = Phi((ln m - mu) / sigma).
Steps to success are log-normal around the store's median, with the same seed correlation, and
the same law in every arm (no arm is faster).

**Scenarios** (:data:`SCENARIOS`): per check, the claim at its boundary (the FAIL rate there is
the FAIL route's size, and must be <= alpha), no effect where the claim says there is one (the
PASS rate is the PASS route's size), and the stated effect (``Check.effect``) each way (power).
Each rate comes with its Monte-Carlo standard error sqrt(r (1 - r) / stores).
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import numpy as np

from . import estimates as est
from .designs import DEMO_PARTS, FRONTIER, group_labels
from .registry import CHECK_LEVEL, CHECKS, FAIL, INCONCLUSIVE, PASS, alpha_of

if TYPE_CHECKING:
    import pandas as pd

#: Bounds of a fitted probit spread sigma (ln m units): below, one m step decides everything; above,
#: the curve is flat over any grid.
SIGMA_BOUNDS = (0.03, 3.0)
#: Defaults used when a store has too few informative pairs to measure a correlation.
DEFAULT_CORRELATIONS = {"between_inits": 0.15, "between_interventions": 0.85, "within_arm": 0.45}


# --------------------------------------------------------------------------- measuring the store


def tetrachoric(tables: Sequence[tuple[int, int, int, int]]) -> float:
    """Pooled tetrachoric correlation of 2x2 tables (n11, n10, n01, n00), each with its own
    thresholds at its observed marginal rates; maximum likelihood over rho in [0, 0.995].
    Tables with a marginal at 0 or 1 carry no information and are skipped; NaN if none is left."""
    from scipy.optimize import minimize_scalar
    from scipy.stats import multivariate_normal, norm

    usable = []
    for n11, n10, n01, n00 in tables:
        total = n11 + n10 + n01 + n00
        pa, pb = (n11 + n10) / total if total else 0, (n11 + n01) / total if total else 0
        if 0 < pa < 1 and 0 < pb < 1:
            usable.append((n11, n10, n01, n00, norm.ppf(pa), norm.ppf(pb), pa, pb))
    if not usable:
        return math.nan

    def negative(rho: float) -> float:
        cov = [[1.0, rho], [rho, 1.0]]
        total = 0.0
        for n11, n10, n01, n00, ha, hb, pa, pb in usable:
            p11 = float(multivariate_normal.cdf([ha, hb], mean=[0, 0], cov=cov))
            cells = (p11, pa - p11, pb - p11, 1 - pa - pb + p11)
            total -= sum(n * math.log(max(p, 1e-12)) for n, p in zip((n11, n10, n01, n00), cells))
        return total
    return float(minimize_scalar(negative, bounds=(0.0, 0.995), method="bounded",
                                 options={"xatol": 1e-3}).x)


def _tables(a: np.ndarray, b: np.ndarray, cell: np.ndarray) -> list[tuple[int, int, int, int]]:
    """2x2 tables of paired outcomes (a, b), one per value of ``cell``."""
    out = []
    for c in np.unique(cell):
        x, y = a[cell == c], b[cell == c]
        out.append((int(np.sum(x & y)), int(np.sum(x & ~y)), int(np.sum(~x & y)), int(np.sum(~x & ~y))))
    return out


def _paired(data: "pd.DataFrame", arm_a: "pd.Series", arm_b: "pd.Series") -> tuple[np.ndarray, ...]:
    keys = list(est.STUDY_FIELDS) + ["width", "samples", "seed"]
    left = data[arm_a.to_numpy()][keys + ["success"]].fillna({"samples": -1.0})
    right = data[arm_b.to_numpy()][keys + ["success"]].fillna({"samples": -1.0})
    merged = left.merge(right, on=keys, suffixes=("_a", "_b"))
    cell = group_labels(merged, [f for f in keys if f != "seed"]).to_numpy()
    return merged["success_a"].to_numpy(bool), merged["success_b"].to_numpy(bool), cell


@dataclass(frozen=True)
class Correlations:
    """Latent correlations of one seed's runs (see the module doc), with the number of
    informative 2x2 tables behind each (NaN and 0 tables: not measurable in this store)."""

    between_inits: float
    between_interventions: float
    within_arm: float
    tables: dict[str, int] = field(default_factory=dict)

    def usable(self) -> "Correlations":
        """NaNs replaced by :data:`DEFAULT_CORRELATIONS` (:func:`simulate` clips the rest)."""
        values = {name: (getattr(self, name) if math.isfinite(getattr(self, name)) else DEFAULT_CORRELATIONS[name])
                  for name in DEFAULT_CORRELATIONS}
        return Correlations(**values, tables=dict(self.tables))


def measure_correlations(frame: "pd.DataFrame") -> Correlations:
    """The latent correlations of a store (module doc): dense vs sparse at the frontier design's
    paired cells; ``none`` vs the effect-free intervention arms (knock_out_sham, plant_control,
    plant_native_control) at their paired cells; one arm and seed at adjacent m values."""
    data = est.normalized(FRONTIER.select(frame))
    out: dict[str, float] = {}
    tables: dict[str, int] = {}
    a, b, cell = _paired(data, data["init"] == "dense", data["init"] == "sparse")
    t = _tables(a, b, cell)
    out["between_inits"], tables["between_inits"] = tetrachoric(t), len(t)
    both = est.normalized(frame)
    controls = ("knock_out_sham", "plant_control", "plant_native_control")
    pooled = [], [], []
    for control in controls:
        treated = both[both["intervention"] == control]
        if treated.empty:
            continue
        arm = treated["init"].iloc[0]
        a, b, cell = _paired(both, (both["intervention"] == "none") & (both["init"] == arm),
                             both["intervention"] == control)
        for bucket, values in zip(pooled, (a, b, cell + 1_000_000 * controls.index(control))):
            bucket.append(values)
    if pooled[0]:
        t = _tables(*(np.concatenate(x) for x in pooled))
        out["between_interventions"], tables["between_interventions"] = tetrachoric(t), len(t)
    else:
        out["between_interventions"], tables["between_interventions"] = math.nan, 0
    offline = data[data["samples"].notna()].sort_values("samples")
    within_a, within_b, within_cell = [], [], []
    keys = list(est.SETTING_FIELDS) + ["width"]
    for key, group in offline.groupby(keys, dropna=False, sort=False):
        grid = np.sort(group["samples"].unique())
        table = group.pivot_table(index="seed", columns="samples", values="success", aggfunc="first")
        for lo, hi in zip(grid[:-1], grid[1:]):
            pair = table[[lo, hi]].dropna()
            within_a.append(pair[lo].to_numpy(bool))
            within_b.append(pair[hi].to_numpy(bool))
            within_cell.append(np.full(len(pair), len(within_cell)))
    if within_a:
        t = _tables(np.concatenate(within_a), np.concatenate(within_b), np.concatenate(within_cell))
        out["within_arm"], tables["within_arm"] = tetrachoric(t), len(t)
    else:
        out["within_arm"], tables["within_arm"] = math.nan, 0
    return Correlations(out["between_inits"], out["between_interventions"], out["within_arm"], tables)


@dataclass(frozen=True)
class Curve:
    """p(m) = Phi((ln m - mu) / sigma) of one (study, arm, width)."""

    mu: float
    sigma: float

    def p(self, m: float) -> float:
        from scipy.stats import norm

        return float(norm.cdf((math.log(m) - self.mu) / self.sigma))

    def shifted(self, factor: float) -> "Curve":
        """The curve with m_50 multiplied by ``factor``."""
        return Curve(self.mu + math.log(factor), self.sigma)


def fit_curve(samples: np.ndarray, success: np.ndarray) -> Curve:
    """Probit fit of success on ln m (maximum likelihood, sigma within SIGMA_BOUNDS, mu within
    3 ln-units of the grid: a grid that never or always succeeds puts mu at its edge)."""
    from scipy.optimize import minimize
    from scipy.special import log_ndtr

    x = np.log(np.asarray(samples, float))
    y = np.asarray(success, bool)

    def negative(theta: np.ndarray) -> float:
        z = (x - theta[0]) / math.exp(theta[1])
        return -float(np.sum(np.where(y, log_ndtr(z), log_ndtr(-z))))
    lo, hi = x.min() - 3.0, x.max() + 3.0
    start = np.array([float(np.median(x)), math.log(0.3)])
    best = minimize(negative, start, method="L-BFGS-B",
                    bounds=[(lo, hi), tuple(math.log(b) for b in SIGMA_BOUNDS)])
    return Curve(float(best.x[0]), float(math.exp(best.x[1])))


def _arm_label(row: dict) -> str:
    if row["init"] == "dense":
        return "dense" + ("" if row.get("intervention", "none") == "none" else f"+{row['intervention']}")
    return f"sparse(s={int(row['sparsity'])},{row['sparse_values']})" + (
        "" if row.get("intervention", "none") == "none" else f"+{row['intervention']}")


@dataclass(frozen=True)
class LatentModel:
    """A store's generative model: a curve per (n, arm label, width) and the correlations."""

    curves: dict[tuple[int, str, int], Curve]
    correlations: Correlations
    median_steps: float
    level: float = CHECK_LEVEL

    def curve(self, n: int, arm: str, width: int) -> Curve:
        """The fitted curve, or (a width the store lacks) the one of its nearest width in ln r."""
        key = (int(n), arm, int(width))
        if key in self.curves:
            return self.curves[key]
        near = [w for (nn, a, w) in self.curves if nn == n and a == arm]
        if not near:
            raise ValueError(f"the store has no runs of n={n} {arm} to fit a curve to")
        nearest = min(near, key=lambda w: abs(math.log(w) - math.log(width)))
        return self.curves[(int(n), arm, nearest)]


def fit_latent_model(frame: "pd.DataFrame") -> LatentModel:
    """Fit :class:`LatentModel` to a store frame (every offline arm; parity target only)."""
    data = est.normalized(frame)
    data = data[data["samples"].notna() & ~data["diverged"].astype(bool)]
    curves = {}
    for key, group in data.groupby(["n", "init", "sparsity", "sparse_values", "intervention", "width"]):
        row = dict(zip(["n", "init", "sparsity", "sparse_values", "intervention", "width"], key))
        curves[(int(row["n"]), _arm_label(row), int(row["width"]))] = fit_curve(group["samples"].to_numpy(),
                                                                                 group["success"].to_numpy())
    steps = data["steps_to_success"].astype("Float64").astype(float).dropna()
    return LatentModel(curves, measure_correlations(frame).usable(),
                       float(steps.median()) if len(steps) else 1000.0)


# --------------------------------------------------------------------------- simulating stores


@dataclass(frozen=True)
class Template:
    """The runs of one design as a store frame (configs filled once) and, per run, the keys the
    simulation needs: its seed, its init arm (the network it starts from), its cell (width, m:
    the data it sees) and its success probability."""

    frame: "pd.DataFrame"
    seeds: np.ndarray
    inits: np.ndarray
    cells: np.ndarray
    p: np.ndarray
    correlations: Correlations


def template(parts: Sequence[dict[str, Any]], model: LatentModel,
             probability: Callable[[dict], float] | None = None) -> Template:
    """A :class:`Template` of the offline runs of grid ``parts`` (demo scalars), each run's p from
    ``probability(config dict)`` (default: the model's curve of its n, arm and width)."""
    import pandas as pd

    from .designs import DEMO_SCALARS
    from sim.config import CONFIG_FIELDS, RESULT_FIELDS
    from sim.grid import grid_configs

    rows = []
    for part in parts:
        for config in grid_configs({**DEMO_SCALARS, **part}, source="operating characteristics"):
            if config.samples is None:
                continue
            rows.append(config.to_dict())
    frame = pd.DataFrame(rows)
    for name in RESULT_FIELDS:
        frame[name] = None
    frame = frame[list(CONFIG_FIELDS) + list(RESULT_FIELDS)]
    frame["samples"] = frame["samples"].astype("Int64")
    if probability is None:
        p = np.array([model.curve(r["n"], _arm_label(r), r["width"]).p(r["samples"]) for r in rows])
    else:
        p = np.array([probability(r) for r in rows])
    seeds = frame["seed"].to_numpy() + 100_000 * frame["n"].to_numpy()
    inits = np.array([_arm_label({**r, "intervention": "none"}) for r in rows])
    cells = group_labels(frame, ["n", "width", "samples"]).to_numpy()
    return Template(frame, seeds, inits, cells, p, model.correlations)


def simulate(t: Template, rng: np.random.Generator, median_steps: float = 1000.0,
             max_steps: int = 10_000) -> "pd.DataFrame":
    """One synthetic store: the template's runs with outcomes drawn from the latent model

        L = sqrt(r_net) z_(seed, init) + sqrt(r_data) g_(seed, cell) + sqrt(r_arms) h_(seed, init, cell)
            + sqrt(1 - r_net - r_data - r_arms) eta_run,   success iff L < Phi^{-1}(p),

    with r_net = within_arm (a seed's runs of one init at other cells), r_data = between_inits
    (dense vs sparse at one cell: the same data, other networks) and r_net + r_data + r_arms =
    between_interventions (two arms of one init at one cell: the same data and nearly the same
    network); each component is clipped so the variances add to at most 1."""
    from scipy.stats import norm

    c = t.correlations
    r_net = max(0.0, min(c.within_arm, 1.0))
    r_data = max(0.0, min(c.between_inits, 1.0 - r_net))
    r_arms = max(0.0, min(c.between_interventions - r_net - r_data, 1.0 - r_net - r_data))
    r_run = max(0.0, 1.0 - r_net - r_data - r_arms)

    def component(*keys: np.ndarray) -> np.ndarray:
        _, index = np.unique(np.stack(keys, axis=1), axis=0, return_inverse=True)
        index = np.asarray(index).ravel()
        return rng.standard_normal(index.max() + 1)[index]
    _, init_index = np.unique(t.inits, return_inverse=True)
    init_index = np.asarray(init_index).ravel()
    net = component(t.seeds, init_index)
    latent = (math.sqrt(r_net) * net + math.sqrt(r_data) * component(t.seeds, t.cells)
              + math.sqrt(r_arms) * component(t.seeds, init_index, t.cells)
              + math.sqrt(r_run) * rng.standard_normal(len(t.p)))
    success = latent < norm.ppf(np.clip(t.p, 1e-12, 1 - 1e-12))
    speed = math.sqrt(r_net) * net + math.sqrt(1.0 - r_net) * rng.standard_normal(len(t.p))
    steps = np.clip(np.round(median_steps * np.exp(0.5 * speed), -2), 100, max_steps).astype(int)
    frame = t.frame.copy()
    frame["success"] = success
    frame["steps_to_success"] = np.where(success, steps, 0)
    frame["steps_to_success"] = frame["steps_to_success"].astype("Int64").where(success)
    frame["steps_run"] = np.where(success, steps, max_steps)
    frame["final_test_error"] = np.where(success, 0.05, 0.5)
    frame["final_train_error"] = 0.0
    frame["diverged"] = False
    frame["wall_seconds"] = 1.0
    return frame


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    """One truth a check is run under: ``truth`` in words; ``bounded`` the verdict whose rate
    must be at most alpha here (its size), ``power_of`` the verdict it should reach (its power);
    ``make(rng)`` builds a synthetic store (or returns the check's keyword arguments too)."""

    name: str
    truth: str
    make: Callable[[np.random.Generator], dict[str, Any]]
    bounded: str | None = None
    power_of: str | None = None


def _store(t: Template, model: LatentModel, max_steps: int = 10_000):
    return lambda rng: {"frame": simulate(t, rng, model.median_steps, max_steps)}


def _frontier_scenarios(check: str, model: LatentModel) -> list[Scenario]:
    parts = DEMO_PARTS["frontier"]
    base = template(parts, model)

    def shifted(shift: Callable[[dict], float]) -> Template:
        def p(row: dict) -> float:
            dense = model.curve(row["n"], "dense", row["width"])
            own = model.curve(row["n"], _arm_label(row), row["width"]) if row["init"] == "sparse" else dense
            return own.shifted(shift(row)).p(row["samples"]) if shift(row) else own.p(row["samples"])
        return template(parts, model, p)

    def like_dense(factor_at: Callable[[dict], float]) -> Template:
        """Sparse curves = dense curves with m_50 divided by factor_at(row) (dense unchanged)."""
        def p(row: dict) -> float:
            dense = model.curve(row["n"], "dense", row["width"])
            return (dense.shifted(1.0 / factor_at(row)) if row["init"] == "sparse" else dense).p(row["samples"])
        return template(parts, model, p)

    widths = {part["n"]: sorted(part["width"]) for part in parts}
    if check == "width_monotone":
        def flat(row: dict) -> float:  # every width at the curve of the narrowest
            return model.curve(row["n"], _arm_label(row), widths[row["n"]][0]).p(row["samples"])

        def stepping(factor: float) -> Callable[[dict], float]:  # each wider width's m_50 x factor
            def p(row: dict) -> float:
                rank = widths[row["n"]].index(row["width"])
                return model.curve(row["n"], _arm_label(row), widths[row["n"]][0]).shifted(factor ** rank).p(
                    row["samples"])
            return p
        dropping = stepping(1.5)
        return [Scenario("boundary", "success flat in width (the narrowest width's curve everywhere)",
                         _store(template(parts, model, flat), model),
                         bounded=FAIL),
                Scenario("as fitted", "the store's own curves (width helps)", _store(base, model)),
                Scenario("effect +", "width helps: each wider width's m_50 the narrower's / 1.5",
                         _store(template(parts, model, stepping(1 / 1.5)), model), power_of=PASS),
                Scenario("effect", "each wider width's m_50 1.5x the narrower's",
                         _store(template(parts, model, dropping), model),
                         power_of=FAIL)]
    if check == "sparse_beats_dense":
        return [Scenario("boundary", "R = 1 at every width (sparse curves = dense curves)",
                         _store(like_dense(lambda r: 1.0), model), bounded="both"),
                Scenario("effect +", "R = 1.5 at every width (the paper's claim)",
                         _store(like_dense(lambda r: 1.5), model), power_of=PASS),
                Scenario("effect -", "R = 1/1.5 at every width", _store(like_dense(lambda r: 1 / 1.5), model),
                         power_of=FAIL),
                Scenario("as fitted", "the store's own curves", _store(base, model))]
    if check == "ratio_across_critical_width":
        from theory.lottery import critical_width

        def wide(row: dict) -> bool:
            return row["width"] >= 4 * critical_width(int(row["n"]), 3, 2)
        return [Scenario("boundary", "R = 1.3 at every width (Q = 1)", _store(like_dense(lambda r: 1.3), model),
                         bounded="both"),
                Scenario("effect +", "R = 1.5 x 1.3 at r >= 4 r*, 1.3 below (Q = 1.5)",
                         _store(like_dense(lambda r: 1.95 if wide(r) else 1.3), model), power_of=PASS),
                Scenario("effect -", "R = 1.3 / 1.5 at r >= 4 r*, 1.3 below (Q = 1/1.5)",
                         _store(like_dense(lambda r: 1.3 / 1.5 if wide(r) else 1.3), model), power_of=FAIL)]
    if check == "parallel_search_slope":
        def power_law(slope: float) -> Callable[[dict], float]:
            def p(row: dict) -> float:
                narrow = widths[row["n"]][0]
                p0 = model.curve(row["n"], _arm_label(row), narrow).p(row["samples"])
                return 1.0 - (1.0 - p0) ** ((row["width"] / narrow) ** slope)
            return p
        return [Scenario("boundary", "P = 1 - (1 - p_0(m))^(r/r_0): cloglog slope exactly 1",
                         _store(template(parts, model, power_law(1.0)), model),
                         bounded=FAIL),
                Scenario("effect", "cloglog slope 0.5",
                         _store(template(parts, model, power_law(0.5)), model),
                         power_of=FAIL)]
    raise KeyError(check)


def _intervention_scenarios(check: str, model: LatentModel) -> list[Scenario]:
    from .ticket_checks import EQUIVALENCE_MARGIN

    design = "knockout" if check == "ticket_knockout" else "knockin"
    parts = DEMO_PARTS[design]
    sign = -1.0 if design == "knockout" else 1.0
    treated = "knock_out_redrawn" if design == "knockout" else "plant_native_ticket"

    def with_effect(effect: float) -> Template:
        def p(row: dict) -> float:
            none = model.curve(row["n"], _arm_label({**row, "intervention": "none"}), row["width"]).p(row["samples"])
            return float(np.clip(none + (sign * effect if row["intervention"] == treated else 0.0), 0.0, 1.0))
        return template(parts, model, p)
    return [Scenario("boundary", f"a change of {EQUIVALENCE_MARGIN} (the equivalence margin)",
                     _store(with_effect(EQUIVALENCE_MARGIN), model), bounded=FAIL),
            Scenario("no effect", "the intervention does nothing", _store(with_effect(0.0), model),
                     bounded=PASS, power_of=FAIL),
            Scenario("effect", "a change of 0.3 in success", _store(with_effect(0.3), model), power_of=PASS)]


def _after_training_scenarios(check: str, model: LatentModel) -> list[Scenario]:
    """Four successful sparse runs (n = 30, width 580); final norms log-normal, tickets' shifted
    so that a ticket outranks a partial-overlap neuron with probability ``rank``."""
    import pandas as pd
    from scipy.stats import norm

    from sim.config import RunConfig

    rows = [{**RunConfig(n=30, k=3, width=580, samples=1000, init="sparse", seed=s, max_steps=10_000).to_dict(),
             "success": True, "steps_to_success": 1000 + s, "steps_run": 1000 + s, "final_test_error": 0.05,
             "final_train_error": 0.0, "diverged": False, "wall_seconds": 1.0} for s in range(4)]
    frame = pd.DataFrame(rows)
    frame["samples"] = frame["samples"].astype("Int64")
    frame["steps_to_success"] = frame["steps_to_success"].astype("Int64")

    def make(rank: float) -> Callable[[np.random.Generator], dict[str, Any]]:
        shift = math.sqrt(2.0) * float(norm.ppf(rank))

        state: dict[str, np.random.Generator] = {}

        def history(config):
            from types import SimpleNamespace

            from sim.data import draw_support
            from sim.init import is_ticket_row, sparse_supports

            supports = sparse_supports(config)
            ticket = is_ticket_row(supports, np.array(draw_support(config.n, config.k, config.seed)))
            norms = np.exp(state["rng"].standard_normal(config.width) + shift * ticket)
            W = np.zeros((config.width, config.n))
            W[:, 0] = norms
            return SimpleNamespace(final_weights=[W], result=SimpleNamespace(success=True))

        def build(rng: np.random.Generator) -> dict[str, Any]:
            state["rng"] = rng
            return {"frame": frame, "history_fn": history}
        return build
    return [Scenario("no effect", "tickets' final norms like partial overlaps' (rank 0.5)", make(0.5),
                     bounded="both"),
            Scenario("effect +", "a ticket outranks a partial overlap with probability 0.7", make(0.7), power_of=PASS),
            Scenario("effect -", "with probability 0.3", make(0.3), power_of=FAIL)]


def _gate_scenarios(check: str, model: LatentModel) -> list[Scenario]:
    """The gates: correct code (any FAIL is a false alarm) and one planted defect each."""
    import pandas as pd

    from sim.config import RunConfig

    def sparse_frame(offset: int) -> "pd.DataFrame":
        rows = [{**RunConfig(n=n, k=3, width=w, samples=300, init="sparse", seed=offset + s).to_dict(),
                 "success": True, "steps_to_success": 1000, "steps_run": 1000, "final_test_error": 0.05,
                 "final_train_error": 0.0, "diverged": False, "wall_seconds": 1.0}
                for n, w in ((20, 256), (30, 580), (40, 1040)) for s in range(4)]
        frame = pd.DataFrame(rows)
        frame["samples"] = frame["samples"].astype("Int64")
        frame["steps_to_success"] = frame["steps_to_success"].astype("Int64")
        return frame

    def correct(rng: np.random.Generator) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"frame": sparse_frame(int(rng.integers(0, 10**6)) * 16)}
        if check == "init_gradient":
            kwargs["seed"] = int(rng.integers(0, 2**31))
        return kwargs

    def planted(rng: np.random.Generator) -> dict[str, Any]:
        return correct(rng) | {"_defect": PLANTED_DEFECTS[check]}
    deterministic = check == "fourier_vs_bruteforce"
    return [Scenario("correct code", "the code is right: a FAIL is a false alarm", correct, bounded=FAIL),
            Scenario("planted defect", PLANTED_DEFECTS[check].__doc__.splitlines()[0] if not deterministic
                     else "one wrong coefficient", planted, power_of=FAIL)]


@contextlib.contextmanager
def _ticket_probability_off() -> Iterator[None]:
    """theory.lottery.ticket_probability off by a factor 1.1."""
    import theory.lottery as lottery

    original = lottery.ticket_probability
    lottery.ticket_probability = lambda n, k, s: original(n, k, s) * 11 / 10
    try:
        yield
    finally:
        lottery.ticket_probability = original


@contextlib.contextmanager
def _one_hot_init() -> Iterator[None]:
    """sim.init's s-hot neurons carry s - 1 nonzero values (the last support coordinate's is 0)."""
    import sim.init as init

    original = init.initialize

    def initialize(config):
        W, b, u = original(config)
        if config.init == "sparse":
            supports = init.sparse_supports(config)
            W[np.arange(len(W)), supports[:, -1]] = 0.0
        return W, b, u
    init.initialize = initialize
    try:
        yield
    finally:
        init.initialize = original


@contextlib.contextmanager
def _wrong_coefficient() -> Iterator[None]:
    """theory.fourier.coefficient wrong for one (s, degree): s = 3, degree 2 of the step."""
    import theory.fourier as fourier

    original = fourier.coefficient

    def coefficient(s, degree, bias=0, activation="relu"):
        value = original(s, degree, bias, activation)
        return value + 1 if (s, degree, activation) == (3, 2, "step") else value
    fourier.coefficient = coefficient
    try:
        yield
    finally:
        fourier.coefficient = original


#: One planted defect per gate (what its power is measured against); tests/test_verify_quick.py
#: plants the first two into the quick run too.
PLANTED_DEFECTS: dict[str, Callable[[], contextlib.AbstractContextManager]] = {
    "ticket_frequency": _ticket_probability_off, "init_gradient": _one_hot_init,
    "fourier_vs_bruteforce": _wrong_coefficient,
}


def _prediction_scenarios(check: str, model: LatentModel) -> list[Scenario]:
    """frontier_prediction on the demo store's frontier runs with outcomes redrawn from Model A
    fitted to them (its claim true) and from Model B (false), seeds correlated as measured."""
    return [Scenario("boundary", "outcomes drawn from Model A fitted to the store", _model_store("A", model),
                     bounded=FAIL),
            Scenario("effect", "outcomes drawn from Model B fitted to the store", _model_store("B", model),
                     power_of=FAIL)]


def _model_store(name: str, model: LatentModel) -> Callable[[np.random.Generator], dict[str, Any]]:
    fitted_p: list[np.ndarray] = []

    def build(rng: np.random.Generator) -> dict[str, Any]:
        from scipy.stats import norm

        from . import models

        if not fitted_p:  # fitted once per scenario, to the store's own runs
            data = models.run_data(SOURCE_FRAME["frame"])
            fitted = models.fit(models.MODELS[name], data)
            fitted_p.append(models.success_probability(fitted.model, fitted.theta, data))
            fitted_p.append(data.seed)
        p, seeds = fitted_p
        _, index = np.unique(seeds, return_inverse=True)
        rho = model.correlations.within_arm
        latent = (math.sqrt(rho) * rng.standard_normal(index.max() + 1)[index]
                  + math.sqrt(1 - rho) * rng.standard_normal(len(p)))
        out = SOURCE_FRAME["ordered"].copy()
        out["success"] = latent < norm.ppf(np.clip(p, 1e-12, 1 - 1e-12))
        # Few draws: the verdict's p-value resolution is 1/100; the constants' intervals are not used.
        return {"frame": out, "score_bootstrap": SOURCE_FRAME["score_bootstrap"], "model_bootstrap": 2}
    return build


#: The store the model-based scenarios redraw (set by :func:`operating_characteristics`).
SOURCE_FRAME: dict[str, Any] = {}

#: Scenario builders per check: adding a check adds its entry here (a conformance test asks).
SCENARIOS: dict[str, Callable[[str, LatentModel], list[Scenario]]] = {
    "fourier_vs_bruteforce": _gate_scenarios, "init_gradient": _gate_scenarios, "ticket_frequency": _gate_scenarios,
    "width_monotone": _frontier_scenarios, "sparse_beats_dense": _frontier_scenarios,
    "ratio_across_critical_width": _frontier_scenarios, "ticket_knockout": _intervention_scenarios,
    "ticket_knockin": _intervention_scenarios, "tickets_after_training": _after_training_scenarios,
    "frontier_prediction": _prediction_scenarios, "parallel_search_slope": _frontier_scenarios,
}


# --------------------------------------------------------------------------- running them


@dataclass(frozen=True)
class OperatingRow:
    """Verdict rates of one check under one scenario over ``stores`` synthetic stores."""

    check: str
    kind: str
    scenario: str
    truth: str
    stores: int
    rates: dict[str, float]
    bounded: str | None
    power_of: str | None
    alpha: float
    seconds: float

    @property
    def mc_error(self) -> float:
        """The largest Monte-Carlo standard error of the three rates."""
        return max(math.sqrt(r * (1 - r) / self.stores) for r in self.rates.values()) if self.stores else math.nan

    def size_ok(self) -> bool:
        """The bounded verdict's rate is at most alpha plus two Monte-Carlo errors (of a rate at alpha)."""
        if self.bounded is None:
            return True
        limit = self.alpha + 2 * math.sqrt(self.alpha * (1 - self.alpha) / self.stores)
        verdicts = (PASS, FAIL) if self.bounded == "both" else (self.bounded,)
        return all(self.rates[v] <= limit for v in verdicts)

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "kind": self.kind, "scenario": self.scenario, "truth": self.truth,
                "stores": self.stores, "rates": dict(self.rates), "mc_error": self.mc_error,
                "bounded": self.bounded, "power_of": self.power_of, "alpha": self.alpha,
                "size_ok": self.size_ok(), "seconds": self.seconds}


def run_scenario(check: str, scenario: Scenario, stores: int, seed: int = 0, level: float = CHECK_LEVEL,
                 n_bootstrap: int = 500) -> OperatingRow:
    """Run ``check`` on ``stores`` synthetic stores of ``scenario`` and count its verdicts."""
    rng = est.estimate_rng(seed, (check, scenario.name))
    counts = {PASS: 0, FAIL: 0, INCONCLUSIVE: 0}
    function = CHECKS[check].function
    import inspect

    accepted = inspect.signature(function).parameters
    start = time.perf_counter()
    for _ in range(stores):
        kwargs = scenario.make(rng)
        defect = kwargs.pop("_defect", None)
        frame = kwargs.pop("frame")
        if "n_bootstrap" in accepted:
            kwargs.setdefault("n_bootstrap", n_bootstrap)
        kwargs = {k: v for k, v in kwargs.items() if k in accepted}
        with (defect() if defect is not None else contextlib.nullcontext()):
            result = function(frame, level=level, **kwargs)
        counts[result.status] += 1
    return OperatingRow(check, CHECKS[check].kind, scenario.name, scenario.truth, stores,
                        {k: v / stores for k, v in counts.items()}, scenario.bounded, scenario.power_of,
                        alpha_of(level), time.perf_counter() - start)


#: Stores per scenario by default, and for the checks that retrain or refit per store.
DEFAULT_STORES = 100
SLOW_STORES = {"init_gradient": 10, "frontier_prediction": 10, "ticket_frequency": 20, "fourier_vs_bruteforce": 1,
               "parallel_search_slope": 20}


def operating_characteristics(frame: "pd.DataFrame", checks: Sequence[str] | None = None,
                              stores: int = DEFAULT_STORES, seed: int = 0, level: float = CHECK_LEVEL,
                              progress: Callable[[str], None] | None = None) -> tuple[LatentModel, list[OperatingRow]]:
    """Fit the latent model to ``frame`` and measure every (named) check under its scenarios."""
    model = replace(fit_latent_model(frame), level=level)
    data = FRONTIER.select(frame)
    data = data[data["samples"].notna()]
    ordered = data.sort_values("run_id", kind="stable") if "run_id" in data else data
    SOURCE_FRAME.update(frame=data, ordered=ordered, score_bootstrap=99)
    rows = []
    for check in checks or list(CHECKS):
        for scenario in SCENARIOS[check](check, model):
            count = min(stores, SLOW_STORES.get(check, stores))
            if progress is not None:
                progress(f"{check}: {scenario.name} ({count} stores)")
            rows.append(run_scenario(check, scenario, count, seed, level))
    return model, rows


def format_table(rows: Sequence[OperatingRow], markdown: bool = True) -> str:
    """The operating-characteristic table (Markdown)."""
    lines = ["| check | kind | scenario | truth | stores | PASS | FAIL | INCONCLUSIVE | MC error | requirement |",
             "|:---|:---|:---|:---|---:|---:|---:|---:|---:|:---|"]
    for r in rows:
        need = []
        if r.bounded:
            what = "PASS and FAIL" if r.bounded == "both" else r.bounded
            need.append(f"{what} <= alpha: {'ok' if r.size_ok() else 'EXCEEDED'}")
        if r.power_of:
            power = r.rates[r.power_of]
            need.append(f"power of {r.power_of} {power:.2f}" + (" (< 0.8)" if power < 0.8 else ""))
        lines.append(f"| `{r.check}` | {r.kind} | {r.scenario} | {r.truth} | {r.stores} | {r.rates[PASS]:.3f} | "
                     f"{r.rates[FAIL]:.3f} | {r.rates[INCONCLUSIVE]:.3f} | {r.mc_error:.3f} | {'; '.join(need)} |")
    return "\n".join(lines)


def format_correlations(model: LatentModel) -> str:
    c = model.correlations
    return (f"latent seed correlations (tetrachoric, pooled over paired cells): dense vs sparse "
            f"{c.between_inits:.2f} ({c.tables.get('between_inits', 0)} cells), none vs an effect-free "
            f"intervention arm {c.between_interventions:.2f} ({c.tables.get('between_interventions', 0)} cells), "
            f"one arm at adjacent m {c.within_arm:.2f} ({c.tables.get('within_arm', 0)} cell pairs)")
