"""Nonparametric bootstrap of any estimate: rows, or whole clusters, drawn with replacement.

A check on delta-method standard errors (Stata: `bootstrap, reps(#) cluster(): ...`).
"""

import logging

import numpy as np
import pandas as pd

# Progress (every tenth of the replicates), for the job's log (steps/__init__.py).
log = logging.getLogger(__name__)


def bootstrap(estimate, data: pd.DataFrame, reps: int, seed: int, cluster: str | None = None) -> np.ndarray:
    """(reps x k) replicates of `estimate(sample) -> k numbers`; replicates that fail are NaN rows."""
    rng = np.random.default_rng(seed)
    if cluster:
        groups = {g: idx for g, idx in data.groupby(cluster, sort=True).indices.items()}
        keys = np.array(list(groups))
    out = []
    for rep in range(reps):
        if reps >= 10 and rep and rep % (reps // 10) == 0:
            log.info("bootstrap: %d of %d replicates", rep, reps)
        if cluster:
            rows = np.concatenate([groups[g] for g in rng.choice(keys, len(keys), replace=True)])
        else:
            rows = rng.integers(0, len(data), len(data))
        try:
            out.append(np.asarray(estimate(data.iloc[rows].reset_index(drop=True)), float))
        except (np.linalg.LinAlgError, ValueError):
            out.append(None)
    width = len(next(r for r in out if r is not None))
    return np.array([r if r is not None else np.full(width, np.nan) for r in out])


def bootstrap_se(replicates: np.ndarray) -> np.ndarray:
    return np.nanstd(replicates, axis=0, ddof=1)
