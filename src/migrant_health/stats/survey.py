"""A survey's design, as Stata's `svyset` declares it, and its Taylor-linearised variance.

    survey: {strata: province, psu: cluster, weights: weight, fpc: ..., nest: true,
             singleunit: missing}

* strata, psu: variables identifying strata and primary sampling units (no psu: each row is
  its own PSU; no strata: one stratum). With `nest`, PSU identifiers are numbered within
  strata (PSU 1 of stratum 1 is not PSU 1 of stratum 2); without it a PSU identifier that
  appears in two strata is refused, as R's svydesign refuses it.
* fpc: a variable constant within strata, the stratum's population size (in PSUs) when
  greater than 1, or its sampling fraction when at most 1 (svyset's fpc()).
* weights: probability weights.
* singleunit: what a stratum with a single PSU contributes, as svyset's singleunit():
  missing (Stata's default: no standard errors), certainty (nothing), scaled (the other
  strata's variance scaled up by strata / strata with several PSUs), centered (its PSU
  centred at the grand mean).

Variance (Stata's [SVY] variance estimation; Wolter 2007): the estimating functions (scores,
times the bread) are summed within PSUs, centred within strata, and
  V = sum_h (1 - f_h) n_h / (n_h - 1) sum_i (z_hi - zbar_h)(z_hi - zbar_h)'.
Subpopulations (svy, subpop()): rows outside contribute zero scores but their PSUs count in
n_h and zbar_h, so the design is that of the whole file. Inference: Student t with the design
degrees of freedom, PSUs minus strata (strata without subpopulation rows omitted, as Stata
omits them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError

SINGLE_UNIT = ("missing", "certainty", "scaled", "centered")
DESIGN_KEYS = ("strata", "psu", "weights", "fpc", "nest", "singleunit")


@dataclass(frozen=True)
class SurveyDesign:
    """The design of the whole file: each stratum's number of PSUs and sampling fraction."""

    strata: str | None
    psu: str | None
    weights: str | None
    fpc: str | None
    nest: bool
    singleunit: str
    n_psu: pd.Series  # stratum -> PSUs in the whole file
    fraction: pd.Series  # stratum -> sampling fraction f_h (0 without fpc)

    @classmethod
    def from_data(cls, data: pd.DataFrame, survey: dict, where: str = "survey") -> SurveyDesign:
        unknown = sorted(set(survey) - set(DESIGN_KEYS))
        if unknown:
            raise InputError(f"{where}: {unknown} are not design keys; allowed: {', '.join(DESIGN_KEYS)}.")
        singleunit = survey.get("singleunit", "missing")
        if singleunit not in SINGLE_UNIT:
            raise InputError(f"{where}.singleunit: '{singleunit}' is not one of {', '.join(SINGLE_UNIT)}.")
        for key in ("strata", "psu", "weights", "fpc"):
            name = survey.get(key)
            if name and name not in data.columns:
                raise InputError(f"{where}.{key}: '{name}' is not a variable of the data.")
            if name and data[name].isna().any():
                raise InputError(f"{where}.{key}: '{name}' has missing values; every row needs its design.")
        design = cls(
            survey.get("strata"),
            survey.get("psu"),
            survey.get("weights"),
            survey.get("fpc"),
            bool(survey.get("nest", False)),
            singleunit,
            pd.Series(dtype=float),
            pd.Series(dtype=float),
        )
        strata, psu = design.codes(data, where)
        n_psu = pd.Series(psu).groupby(strata).nunique()
        fraction = pd.Series(0.0, index=n_psu.index)
        if design.fpc:
            fpc = data[design.fpc].astype(float).groupby(strata).agg(["min", "max"])
            if (fpc["min"] != fpc["max"]).any():
                raise InputError(f"{where}.fpc: '{design.fpc}' must be constant within each stratum.")
            size = fpc["min"]
            if (size <= 0).any():
                raise InputError(f"{where}.fpc: '{design.fpc}' must be positive.")
            fraction = pd.Series(np.where(size <= 1, size, n_psu / size), index=n_psu.index)
            if (fraction > 1 + 1e-12).any():
                raise InputError(f"{where}.fpc: a stratum has more sampled PSUs than its population size.")
        return cls(
            *[getattr(design, k) for k in ("strata", "psu", "weights", "fpc", "nest", "singleunit")], n_psu, fraction
        )

    def codes(self, data: pd.DataFrame, where: str = "survey") -> tuple[np.ndarray, np.ndarray]:
        """Each row's stratum and PSU identity (a PSU is (stratum, psu) when nested)."""
        n = len(data)
        strata = data[self.strata].astype(str).to_numpy() if self.strata else np.full(n, "1", dtype=object)
        if self.psu is None:  # each row its own PSU
            return strata, np.array([f"row{i}" for i in data.index], dtype=object)
        psu = data[self.psu].astype(str).to_numpy()
        if self.nest:
            return strata, np.char.add(np.char.add(strata.astype(str), "|"), psu.astype(str)).astype(object)
        shared = pd.Series(strata).groupby(psu).nunique()
        if (shared > 1).any():
            raise InputError(
                f"{where}: PSU '{shared[shared > 1].index[0]}' of '{self.psu}' appears in more than one "
                f"stratum; set nest: true when PSUs are numbered within strata."
            )
        return strata, psu.astype(object)

    @property
    def n_strata(self) -> int:
        return len(self.n_psu)


@dataclass(frozen=True)
class DesignRows:
    """The estimation rows' strata and PSUs within the whole file's design."""

    design: SurveyDesign
    strata: np.ndarray
    psu: np.ndarray
    index: np.ndarray  # the rows' labels, to align two fits on the same rows

    @classmethod
    def of(cls, design: SurveyDesign, data: pd.DataFrame, where: str = "survey") -> DesignRows:
        strata, psu = design.codes(data, where)
        unknown = sorted(set(strata) - set(design.n_psu.index))
        if unknown:
            raise InputError(f"{where}: strata {unknown[:3]} are not in the survey's design.")
        return cls(design, strata, psu, np.asarray(data.index))

    @property
    def df(self) -> float:
        """PSUs minus strata, over the strata with rows here (Stata omits the others)."""
        present = self.design.n_psu.loc[sorted(set(self.strata))]
        return float(present.sum() - len(present))


def linearised_variance(influence: np.ndarray, rows: DesignRows) -> tuple[np.ndarray, list[str]]:
    """sum_h (1 - f_h) n_h/(n_h - 1) sum_i (z_hi - zbar_h)(...)' of the influence rows (scores
    times the bread), and notes (single-PSU strata)."""
    design = rows.design
    k = influence.shape[1]
    psu_index = pd.factorize(rows.psu)[0]
    z = np.zeros((psu_index.max() + 1, k))
    np.add.at(z, psu_index, influence)
    psu_stratum = pd.Series(rows.strata).groupby(psu_index).first().to_numpy()
    n_h = design.n_psu
    single = [h for h in sorted(set(psu_stratum)) if n_h[h] == 1]
    notes = []
    total = np.zeros((k, k))
    z_sum = pd.DataFrame(z).groupby(psu_stratum).sum()
    grand_mean = z.sum(axis=0) / float(n_h.sum())
    for h in z_sum.index:
        members = z[psu_stratum == h]
        n, f = float(n_h[h]), float(design.fraction[h])
        if n == 1:
            if design.singleunit == "centered":  # deviation from the grand mean, no n/(n-1)
                d = members - grand_mean
                total += (1 - f) * d.T @ d
            continue
        mean = z_sum.loc[h].to_numpy() / n
        d = members - mean
        absent = n - len(members)  # PSUs of the stratum without rows here: z = 0
        total += (1 - f) * n / (n - 1) * (d.T @ d + absent * np.outer(mean, mean))
    if single:
        shown = ", ".join(map(str, single[:5])) + (" ..." if len(single) > 5 else "")
        if design.singleunit == "missing":
            notes.append(
                f"{len(single)} stratum(s) with a single PSU ({shown}): standard errors are missing, as "
                f"Stata's singleunit(missing); choose survey.singleunit certainty, scaled or centered."
            )
            total = np.full((k, k), np.nan)
        elif design.singleunit == "scaled":
            strata_here = len(z_sum.index)
            total = total * strata_here / (strata_here - len(single))
        if design.singleunit != "missing":
            notes.append(
                f"{len(single)} stratum(s) with a single PSU ({shown}), handled as singleunit({design.singleunit})."
            )
    return total, notes
