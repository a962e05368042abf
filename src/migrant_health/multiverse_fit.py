"""Fitting a chunk of a study's multiverse in one process: the sample and the key estimates of
each variant (multiverse.py expands the choices into variants).

The canonical data are read once per chunk. Each distinct filter is evaluated once over the whole
file (a filter is row-wise, so its rows are those it keeps after the steps before it), and a
variant's analytic sample is the rows every one of its steps keeps, followed by the sample-level
derivations (quantile groups), exactly as the analytic_sample step forms it; variants sharing a
sample share it. Each variant fits only what its key estimates need (their equations and
subsamples), with the same code as the main run (estimation.fit_unit): a variant identical to the
main specification gives the main estimates to the last digit. A unit already fitted on the same
rows with the same specification in the chunk (variants differing only in another subsample or
equation) is not fitted again.

A variant that cannot be fitted (no rows left, a collinear or unidentified model, a term that its
sample leaves out) keeps its row, with empty numbers and the reason in `message`.
"""

from __future__ import annotations

import json
import logging
import time
import warnings

import numpy as np
import pandas as pd

from . import multiverse, sample
from .errors import InputError, closest
from .estimation import fit_unit
from .outputs import model_units

log = logging.getLogger(__name__)
NUMBERS = ["estimate", "std_error", "conf_low", "conf_high", "p_value", "n_obs"]
TEXT_COLUMNS = ["variant_id", "equation", "sample", "term", "level", "estimand", "message"]


def read_data(interim: list, datasets: list, where: str) -> pd.DataFrame:
    """The study's canonical rows: one file, or several waves pooled (as analytic_sample pools them)."""
    frames = [pd.read_parquet(path) for path in interim]
    return sample.pool(frames, datasets, f"{where}.dataset") if len(frames) > 1 else frames[0]


def columns(study: dict) -> list[str]:
    """multiverse.csv's columns: the variant, its choices (one column each), the estimate."""
    return ["variant", "variant_id", "main", *study["multiverse"]["choices"], *multiverse.ESTIMATE_COLUMNS]


class Samples:
    """Analytic samples of variants over one frame: each filter evaluated once, each sample formed once."""

    def __init__(self, data: pd.DataFrame, study: dict, where: str):
        self.data, self.study, self.where = data, study, where
        self.masks: dict[str, np.ndarray] = {}
        self.samples: dict[tuple, pd.DataFrame | str] = {}
        self.fits: dict[tuple, tuple] = {}  # a unit fitted in a sample: (tidy rows, notes) or (None, error)

    def mask(self, step: dict, at: str) -> np.ndarray:
        if step["keep"] not in self.masks:
            kept, _ = sample.evaluate(self.data, step["keep"], at)
            self.masks[step["keep"]] = kept.to_numpy(dtype=bool)
        return self.masks[step["keep"]]

    def get(self, steps: list[dict]) -> pd.DataFrame | str:
        """The analytic sample of these steps, or why there is none."""
        key = tuple(step["keep"] for step in steps)
        if key not in self.samples:
            kept = np.ones(len(self.data), dtype=bool)
            reason = ""
            for i, step in enumerate(steps):
                kept &= self.mask(step, f"{self.where}.sample[{i}] '{step['name']}'")
                if not kept.any():
                    reason = f"no rows left after sample step '{step['name']}' (`{step['keep']}`)"
                    break
            if reason:
                self.samples[key] = reason
            else:
                rows = self.data.iloc[np.flatnonzero(kept)].reset_index(drop=True)
                self.samples[key] = sample.add_sample_derivations(rows, self.study)
        return self.samples[key]


def fit_variants(
    data: pd.DataFrame,
    study: dict,
    name: str,
    variants: list,
    survey: dict | None = None,
    design=None,
) -> pd.DataFrame:
    """One row per variant and key estimate, in variant order then the key estimates' order."""
    where = f"config.yaml: studies.{name}"
    keys = multiverse.key_estimates(study)
    samples = Samples(data, study, where)
    rows = []
    for variant in variants:
        started = time.perf_counter()
        steps, models = multiverse.resolve(study, variant)
        head = {
            "variant": variant.number,
            "variant_id": variant.id,
            "main": multiverse.is_main(study, variant),
            **dict(variant.options),
        }
        with warnings.catch_warnings():  # a fit's own warnings are its messages (estimation.py)
            warnings.simplefilter("ignore", RuntimeWarning)
            found = _estimates(samples, steps, models, keys, name, survey, design)
        rows += [{**head, **key, **found[i]} for i, key in enumerate(keys)]
        log.info(
            "variant %s (%s): %s (%.2f s)",
            variant.number,
            variant.id,
            ", ".join(f"{c}={o}" for c, o in variant.options),
            time.perf_counter() - started,
        )
    frame = pd.DataFrame(rows, columns=columns(study))
    for column in NUMBERS:
        frame[column] = pd.to_numeric(frame[column])
    return frame


def _estimates(samples: Samples, steps: list, models: dict, keys: list[dict], name: str, survey, design) -> list[dict]:
    """Each key estimate's numbers (or the message saying why it has none) in one variant. A unit
    already fitted on the same rows with the same specification (variants that differ only in what
    another subsample or equation takes) is not fitted again."""
    df = samples.get(steps)
    if isinstance(df, str):
        return [{"message": df} for _ in keys]
    needed = multiverse.fitted_models(models, keys)
    found: dict[int, dict] = {}
    for sample_name, keep in needed["samples"].items():
        wanted = [i for i, k in enumerate(keys) if k["sample"] == sample_name]
        for unit, equations in model_units(needed).items():
            mine = [i for i in wanted if keys[i]["equation"] in (*equations, unit)]
            if not mine:
                continue
            unit_models = {**needed, "samples": {sample_name: keep}}
            spec = {**unit_models, "equations": {e: needed["equations"][e] for e in equations}}
            memo = (tuple(s["keep"] for s in steps), unit, json.dumps(spec, sort_keys=True, default=str))
            if memo not in samples.fits:
                try:
                    result = fit_unit(df, unit_models, name, unit, survey, design)
                except InputError as e:
                    samples.fits[memo] = (None, str(e))
                else:
                    tidy = result.estimates.assign(level=result.estimates["level"].fillna("").astype(str))
                    samples.fits[memo] = (tidy, "; ".join(dict.fromkeys(result.messages["message"])))
            tidy, notes = samples.fits[memo]
            for i in mine:
                found[i] = _pick(tidy, keys[i]) if tidy is not None else {"message": ""}
                found[i]["message"] = "; ".join(m for m in (found[i]["message"], notes) if m)
    return [found.get(i, {"message": "not fitted"}) for i in range(len(keys))]


def _pick(tidy: pd.DataFrame, key: dict) -> dict:
    match = tidy[
        (tidy["model"] == key["equation"])
        & (tidy["term"] == key["term"])
        & (tidy["level"] == key["level"])
        & (tidy["estimand"] == key["estimand"])
    ]
    if match.empty:
        shown = key["term"] + (f"={key['level']}" if key["level"] else "")
        present = tidy[(tidy["model"] == key["equation"]) & (tidy["estimand"] == key["estimand"])]
        names = [t + (f"={lv}" if lv else "") for t, lv in zip(present["term"], present["level"])]
        return {"message": f"{shown} ({key['estimand']}) not estimated in this variant{closest(shown, names)}"}
    row = match.iloc[0]
    if not bool(row["estimable"]):
        return {"n_obs": row["n_obs"], "message": "not estimable"}
    return {**{c: row[c] for c in NUMBERS}, "message": "" if bool(row["converged"]) else "not converged"}
