"""The tabular study runner: MLP grid vs tuned forest per training fraction (paper Section 4.2).

Protocol (docs/science.md section 6):
1. ``load`` the dataset (numerical, balanced) and ``make_split`` it once with ``seed`` (train
   capped at 10,000, quantile-normal transform fit on the training split).
2. For every fraction ``f`` and trial ``t``: a stratified subsample of the training split
   (``subsample_indices``, trial seed ``seed_of(seed, f-index, t)``, stored in the ``seed``
   column). All models of a trial see the same rows, so MLP and forest results pair by trial.
3. MLPs: for every (width, depth), the members (trials x init variants) train together in one
   batched run (:func:`tabular.mlp.train_mlp_batch`), early-stopped on the validation split.
   ``fit_seconds`` of a member is the batched run's wall time divided by its member count.
4. Forest: :func:`tabular.forest.random_forest_search` per trial on the same subsample.
5. Errors are 0-1 errors on the (fixed) validation and test splits.

Summaries: the best MLP at a fraction is the configuration (width, depth, init, s) of smallest
*median validation error* over trials; the Table 2 analog compares its test errors with the
forest's, trial by trial (paired), with 95% percentile-bootstrap intervals of the median; it
names a winner only from MIN_TRIALS_FOR_WINNER paired trials or more.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from tabular.datasets import load
from tabular.splits import make_split, subsample_indices

CSV_COLUMNS: tuple[str, ...] = (
    "dataset", "fraction", "model", "width", "depth", "init", "seed", "val_error", "test_error", "fit_seconds",
    # extras, after the required columns
    "trial", "n_train", "sparsity", "best_epoch", "epochs_run", "batched_members", "rf_params",
)
BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95
#: Fewest paired trials from which Table 2 names a winner: the smallest count at which even an
#: exact two-sided sign test can reject "no difference" at 1 - CONFIDENCE (all 6 trials one way:
#: p = 2 / 2^6 = 0.031; with 5, p = 0.0625 at best). Below it a percentile bootstrap of a handful
#: of values can still exclude 0, which named winners from 2 or 3 trials.
MIN_TRIALS_FOR_WINNER = 6


@dataclass(frozen=True)
class StudyConfig:
    """Everything that defines a study run; the defaults are the `frontier tabular` defaults."""

    dataset: str = "magic"
    fractions: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0)
    trials: int = 5
    widths: tuple[int, ...] = (100, 1000)
    depths: tuple[int, ...] = (1,)
    inits: tuple[str, ...] = ("dense", "sparse")
    sparsities: tuple[int, ...] = (4,)
    rf_iter: int = 5
    rf_trees: int = 250
    seed: int = 0
    max_epochs: int = 100
    patience: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    top_width: int | None = None
    min_per_class: int = 3
    cache_dir: str | None = None
    rf_jobs: int | None = None

    def init_variants(self) -> list[tuple[str, int]]:
        """``(init, s)`` pairs: ("dense", 0) and one ("sparse", s) per sparsity."""
        variants: list[tuple[str, int]] = []
        for init in self.inits:
            if init == "dense":
                variants.append(("dense", 0))
            elif init == "sparse":
                variants.extend(("sparse", int(s)) for s in self.sparsities)
            else:
                raise ValueError(f"unknown init {init!r}; use 'dense' or 'sparse'")
        if not variants:
            raise ValueError("need at least one init")
        return variants

    def validate(self) -> None:
        """ValueError naming the first bad setting."""
        if self.trials < 1:
            raise ValueError(f"trials must be >= 1, got {self.trials}")
        for f in self.fractions:
            if not 0.0 < f <= 1.0:
                raise ValueError(f"fractions must lie in (0, 1], got {f}")
        if not self.fractions or not self.widths or not self.depths:
            raise ValueError("fractions, widths and depths must not be empty")
        for w in self.widths:
            if w < 1:
                raise ValueError(f"widths must be >= 1, got {w}")
        for d in self.depths:
            if d not in (1, 2, 3):
                raise ValueError(f"depths must be 1, 2 or 3, got {d}")
        for s in self.sparsities:
            if s < 1:
                raise ValueError(f"sparsity must be >= 1, got {s}")
        if self.rf_iter < 0 or self.rf_trees < 1:
            raise ValueError(f"rf_iter must be >= 0 and rf_trees >= 1, got {self.rf_iter}, {self.rf_trees}")
        self.init_variants()


def seed_of(seed: int, fraction_index: int, trial: int) -> int:
    """The trial seed: a 31-bit hash of (seed, fraction index, trial) via numpy's SeedSequence."""
    return int(np.random.SeedSequence([seed, fraction_index, trial]).generate_state(1)[0] >> 1)


def run_study(
    config: StudyConfig,
    *,
    on_rows: Callable[[list[dict]], None] | None = None,
    progress: bool = True,
) -> "pandas.DataFrame":  # noqa: F821
    """Run the study; returns one row per trial and model (columns :data:`CSV_COLUMNS`).

    ``on_rows(all_rows_so_far)`` is called after every batched MLP run and every forest search,
    so a caller can persist partial results.
    """
    import torch
    from tqdm import tqdm

    from tabular.mlp import batched_logits_chunked, train_mlp_batch

    config.validate()
    variants = config.init_variants()
    features, labels, info = load(config.dataset, config.cache_dir)
    for init, s in variants:
        if init == "sparse" and s > info.n_features:
            raise ValueError(f"sparsity {s} exceeds the {info.n_features} features of {config.dataset!r}")
    split = make_split(features, labels, config.seed)
    X_val = torch.from_numpy(split.X_val).unsqueeze(0)
    X_test = torch.from_numpy(split.X_test).unsqueeze(0)
    y_val, y_test = torch.from_numpy(split.y_val), torch.from_numpy(split.y_test)
    n_mlp_configs = len(config.widths) * len(config.depths) * len(variants)
    per_trial = n_mlp_configs + (1 if config.rf_iter > 0 else 0)
    bar = tqdm(total=len(config.fractions) * config.trials * per_trial, desc=f"tabular {config.dataset}",
               unit="fit", disable=not progress, dynamic_ncols=True)
    rows: list[dict] = []
    base = {"dataset": config.dataset}
    for f_index, fraction in enumerate(config.fractions):
        trial_seeds = [seed_of(config.seed, f_index, t) for t in range(config.trials)]
        subsets = [subsample_indices(split.y_train, fraction, s, min_per_class=config.min_per_class)
                   for s in trial_seeds]
        n_train = len(subsets[0])
        X_trials = torch.from_numpy(np.stack([split.X_train[idx] for idx in subsets]))
        y_trials = torch.from_numpy(np.stack([split.y_train[idx] for idx in subsets]))
        members = [(t, init, s) for t in range(config.trials) for init, s in variants]
        member_trial = torch.tensor([t for t, _, _ in members])
        for width in config.widths:
            for depth in config.depths:
                model_seeds = [seed_of(trial_seeds[t], width, depth * 100 + s) for t, _, s in members]
                start = time.perf_counter()
                fit = train_mlp_batch(
                    X_trials[member_trial], y_trials[member_trial], X_val, y_val.unsqueeze(0),
                    n_classes=2, width=width, depth=depth, top_width=config.top_width,
                    inits=[init for _, init, _ in members], sparsities=[max(s, 1) for _, _, s in members],
                    seeds=model_seeds, optimizer=config.optimizer, lr=config.lr,
                    weight_decay=config.weight_decay, batch_size=config.batch_size,
                    max_epochs=config.max_epochs, patience=config.patience,
                )
                seconds = (time.perf_counter() - start) / len(members)
                val_error = _batched_error(batched_logits_chunked, fit, X_val, y_val, len(members))
                test_error = _batched_error(batched_logits_chunked, fit, X_test, y_test, len(members))
                for m, (t, init, s) in enumerate(members):
                    rows.append({
                        **base, "fraction": fraction, "model": "mlp", "width": width, "depth": depth,
                        "init": init, "seed": trial_seeds[t], "val_error": val_error[m],
                        "test_error": test_error[m], "fit_seconds": seconds, "trial": t, "n_train": n_train,
                        "sparsity": s, "best_epoch": int(fit.best_epoch[m]), "epochs_run": int(fit.epochs_run[m]),
                        "batched_members": len(members), "rf_params": "",
                    })
                bar.update(len(members))
                if on_rows:
                    on_rows(rows)
        if config.rf_iter > 0:
            for t, idx in enumerate(subsets):
                rows.append({**base, "fraction": fraction, "trial": t, "n_train": n_train,
                             **_forest_row(config, split, idx, trial_seeds[t])})
                bar.update(1)
                if on_rows:
                    on_rows(rows)
    bar.close()
    return rows_to_frame(rows)


def _forest_row(config: StudyConfig, split, idx: np.ndarray, seed: int) -> dict:
    """The tuned forest of one trial (random search on the trial's rows, chosen on validation)."""
    from tabular.forest import random_forest_search

    search = random_forest_search(split.X_train[idx], split.y_train[idx], split.X_val, split.y_val,
                                  n_iter=config.rf_iter, n_estimators=config.rf_trees, random_state=seed,
                                  n_jobs=config.rf_jobs)
    test_error = float(np.mean(search.best_estimator.predict(split.X_test) != split.y_test))
    return {"model": "random_forest", "width": None, "depth": None, "init": "", "seed": seed,
            "val_error": search.best_val_error, "test_error": test_error, "fit_seconds": search.fit_seconds,
            "sparsity": None, "best_epoch": None, "epochs_run": None, "batched_members": 1,
            "rf_params": repr(search.best_params)}


def _batched_error(logits_fn, fit, X, y, members: int) -> list[float]:
    logits = logits_fn(fit.weights, fit.biases, X.expand(members, *X.shape[1:]))
    return (logits.argmax(dim=2) != y.unsqueeze(0)).to(float).mean(dim=1).tolist()


def rows_to_frame(rows: Sequence[dict]) -> "pandas.DataFrame":  # noqa: F821
    """Rows as a DataFrame with :data:`CSV_COLUMNS` in order (nullable integer columns)."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(CSV_COLUMNS))
    for column in ("width", "depth", "sparsity", "best_epoch", "epochs_run"):
        frame[column] = frame[column].astype("Int64")
    return frame


def mlp_label(width: int, depth: int, init: str, sparsity: int) -> str:
    """Human label of an MLP configuration, e.g. ``w=1000 d=1 sparse s=4``."""
    init_text = f"sparse s={sparsity}" if init == "sparse" else "dense"
    return f"w={width} d={depth} {init_text}"


def best_mlp_by_fraction(frame) -> dict[float, tuple]:
    """Per fraction, the (width, depth, init, sparsity) of smallest median validation error.

    Ties go to the first configuration in (width, depth, init, s) order, never to test error:
    the choice uses validation data only.
    """
    mlp = frame[frame["model"] == "mlp"]
    chosen = {}
    for fraction, group in mlp.groupby("fraction"):
        medians = group.groupby(["width", "depth", "init", "sparsity"])["val_error"].median()
        chosen[float(fraction)] = tuple(medians.idxmin())
    return chosen


def median_interval(values: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Median and its 95% percentile-bootstrap interval (scipy.stats.bootstrap, 2000 resamples).

    Fewer than 2 values: (median, nan, nan). All values equal: the interval is that value.
    """
    from scipy.stats import bootstrap

    values = np.asarray(values, dtype=float)
    median = float(np.median(values))
    if len(values) < 2:
        return median, math.nan, math.nan
    if np.ptp(values) == 0:
        return median, median, median
    result = bootstrap((values,), np.median, confidence_level=CONFIDENCE, n_resamples=BOOTSTRAP_RESAMPLES,
                       method="percentile", random_state=seed)
    return median, float(result.confidence_interval.low), float(result.confidence_interval.high)


@dataclass(frozen=True)
class Table2Row:
    """One fraction of the Table 2 analog."""

    fraction: float
    n_train: int
    best_mlp: str
    mlp_median: float
    mlp_low: float
    mlp_high: float
    rf_median: float
    rf_low: float
    rf_high: float
    diff_median: float  # median over trials of (MLP test error - forest test error), paired by trial
    diff_low: float
    diff_high: float
    mlp_win_rate: float  # share of trials where the MLP's test error is strictly lower
    trials: int
    winner: str  # "mlp", "random_forest" or "tie" (interval of the difference contains 0)


def table2(frame) -> list[Table2Row]:
    """Which model wins at each fraction (module docstring): best MLP vs forest, paired by trial."""
    chosen = best_mlp_by_fraction(frame)
    rows = []
    for fraction, config in sorted(chosen.items()):
        width, depth, init, sparsity = config
        at = frame[frame["fraction"] == fraction]
        mlp = at[(at["model"] == "mlp") & (at["width"] == width) & (at["depth"] == depth)
                 & (at["init"] == init) & (at["sparsity"] == sparsity)].set_index("trial")["test_error"]
        rf = at[at["model"] == "random_forest"].set_index("trial")["test_error"]
        common = mlp.index.intersection(rf.index)
        m_med, m_lo, m_hi = median_interval(mlp.to_numpy())
        if len(common):
            r_med, r_lo, r_hi = median_interval(rf.to_numpy())
            diff = (mlp.loc[common] - rf.loc[common]).to_numpy()
            d_med, d_lo, d_hi = median_interval(diff)
            win_rate = float(np.mean(diff < 0))
            if len(common) < MIN_TRIALS_FOR_WINNER:
                winner = f"undecided ({len(common)} trial{'s' if len(common) != 1 else ''} < {MIN_TRIALS_FOR_WINNER})"
            elif d_hi < 0:
                winner = "mlp"
            elif d_lo > 0:
                winner = "random_forest"
            else:
                winner = "tie"
        else:
            r_med = r_lo = r_hi = d_med = d_lo = d_hi = win_rate = math.nan
            winner = "no forest"
        rows.append(Table2Row(
            fraction=fraction, n_train=int(at["n_train"].iloc[0]), best_mlp=mlp_label(int(width), int(depth), init, int(sparsity)),
            mlp_median=m_med, mlp_low=m_lo, mlp_high=m_hi, rf_median=r_med, rf_low=r_lo, rf_high=r_hi,
            diff_median=d_med, diff_low=d_lo, diff_high=d_hi, mlp_win_rate=win_rate, trials=len(mlp), winner=winner,
        ))
    return rows


def table2_markdown(dataset: str, rows: Sequence[Table2Row]) -> str:
    """The Table 2 analog as a markdown table with a caption stating the interval method."""

    def interval(median: float, low: float, high: float) -> str:
        if math.isnan(median):
            return "n/a"
        if math.isnan(low):
            return f"{median:.3f}"
        return f"{median:.3f} [{low:.3f}, {high:.3f}]"

    lines = [
        f"# Table 2 analog: {dataset}",
        "",
        "Test error (0-1): median over trials [95% percentile-bootstrap interval of the median, "
        f"{BOOTSTRAP_RESAMPLES} resamples]. Best MLP = configuration of smallest median validation "
        "error. Difference = MLP - forest, paired by trial (same training rows). Winner: the model "
        "favoured when the interval of the difference excludes 0, else tie; undecided with fewer than "
        f"{MIN_TRIALS_FOR_WINNER} paired trials (fewer cannot decide even an exact sign test at 5%).",
        "",
        "| fraction | n_train | best MLP | MLP test error | forest test error | MLP - forest | MLP wins (trials) | winner |",
        "|---:|---:|:---|:---|:---|:---|---:|:---|",
    ]
    for r in rows:
        wins = "n/a" if math.isnan(r.mlp_win_rate) else f"{r.mlp_win_rate:.0%} of {r.trials}"
        lines.append(
            f"| {r.fraction:g} | {r.n_train} | {r.best_mlp} | {interval(r.mlp_median, r.mlp_low, r.mlp_high)} | "
            f"{interval(r.rf_median, r.rf_low, r.rf_high)} | {interval(r.diff_median, r.diff_low, r.diff_high)} | "
            f"{wins} | {r.winner} |"
        )
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class StudyOutputs:
    """Paths written by :func:`write_outputs`."""

    trials_csv: Path
    table_csv: Path
    table_md: Path


def output_stem(out_dir: Path, dataset: str) -> Path:
    """``<out>/tabular_<dataset>``: every output file of a study starts with this."""
    return Path(out_dir) / f"tabular_{dataset}"


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """``write(tmp)`` to a temporary file next to ``path``, flushed to disk, then renamed onto ``path``.

    The same rule as ``sim.files.atomic_path`` (tabular imports nothing of ours, so it keeps its
    own copy): a crash, ``kill -9`` or full disk leaves the previous file, never a truncated one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_trials_csv(rows: Sequence[dict], path: Path) -> None:
    """Write the rows atomically so an interrupted run keeps a valid CSV."""
    write_atomically(path, lambda tmp: rows_to_frame(rows).to_csv(tmp, index=False))


def write_outputs(frame, dataset: str, out_dir: Path) -> StudyOutputs:
    """Trials CSV and the Table 2 analog (CSV + markdown); Figure 3 is drawn by ``paper_figs.fig3``."""
    import dataclasses

    import pandas as pd

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = output_stem(out_dir, dataset)
    trials_csv = Path(f"{stem}_trials.csv")
    write_trials_csv(frame.to_dict("records"), trials_csv)
    rows = table2(frame)
    table_csv, table_md = Path(f"{stem}_table2.csv"), Path(f"{stem}_table2.md")
    table = pd.DataFrame([dataclasses.asdict(r) for r in rows])
    write_atomically(table_csv, lambda tmp: table.to_csv(tmp, index=False))
    write_atomically(table_md, lambda tmp: tmp.write_text(table2_markdown(dataset, rows), encoding="utf-8"))
    return StudyOutputs(trials_csv=trials_csv, table_csv=table_csv, table_md=table_md)
