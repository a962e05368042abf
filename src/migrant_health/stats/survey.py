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
from scipy import sparse

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
    stratum_values: pd.Index  # the strata as they appear in the data
    n_psu: np.ndarray  # per stratum: PSUs in the whole file
    fraction: np.ndarray  # per stratum: sampling fraction f_h (0 without fpc)

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
        strata = survey.get("strata")
        codes, values = pd.factorize(data[strata], sort=True) if strata else (np.zeros(len(data), int), pd.Index([1]))
        design = cls(
            strata,
            survey.get("psu"),
            survey.get("weights"),
            survey.get("fpc"),
            bool(survey.get("nest", False)),
            singleunit,
            pd.Index(values),
            np.empty(0),
            np.empty(0),
        )
        psu = design._psu_codes(data, codes, where)
        n_psu = np.bincount(codes[np.unique(psu, return_index=True)[1]], minlength=len(values)).astype(float)
        fraction = np.zeros(len(values))
        if design.fpc:
            fpc = data[design.fpc].astype(float).groupby(codes).agg(["min", "max"])
            if (fpc["min"] != fpc["max"]).any():
                raise InputError(f"{where}.fpc: '{design.fpc}' must be constant within each stratum.")
            size = fpc["min"].to_numpy()
            if (size <= 0).any():
                raise InputError(f"{where}.fpc: '{design.fpc}' must be positive.")
            fraction = np.where(size <= 1, size, n_psu / size)
            if (fraction > 1 + 1e-12).any():
                raise InputError(f"{where}.fpc: a stratum has more sampled PSUs than its population size.")
        return cls(
            *[getattr(design, k) for k in ("strata", "psu", "weights", "fpc", "nest", "singleunit")],
            design.stratum_values,
            n_psu,
            fraction,
        )

    def stratum_codes(self, data: pd.DataFrame, where: str = "survey") -> np.ndarray:
        """Each row's stratum as a position in the whole file's strata."""
        if not self.strata:
            return np.zeros(len(data), dtype=int)
        codes = self.stratum_values.get_indexer(data[self.strata])
        if (codes < 0).any():
            raise InputError(f"{where}: strata {sorted(set(data[self.strata][codes < 0]))[:3]} are not in the design.")
        return codes

    def _psu_codes(self, data: pd.DataFrame, strata: np.ndarray, where: str) -> np.ndarray:
        """Each row's PSU as an integer identity: (stratum, psu) when nested; each row its own PSU
        (its row label) without psu. A PSU identifier in two strata without `nest` is refused."""
        if self.psu is None:
            return _combined(strata, pd.factorize(np.asarray(data.index))[0])
        psu = pd.factorize(data[self.psu])[0]
        if not self.nest:
            first = np.full(psu.max() + 1, -1)
            first[psu] = strata
            if (first[psu] != strata).any():
                shared = data[self.psu].to_numpy()[first[psu] != strata][0]
                raise InputError(
                    f"{where}: PSU '{shared}' of '{self.psu}' appears in more than one stratum; set "
                    f"nest: true when PSUs are numbered within strata."
                )
        return _combined(strata, psu)

    @property
    def n_strata(self) -> int:
        return len(self.n_psu)


def _combined(strata: np.ndarray, psu: np.ndarray) -> np.ndarray:
    """One integer per (stratum, PSU) pair."""
    return strata.astype(np.int64) * (int(psu.max(initial=0)) + 1) + psu


@dataclass(frozen=True)
class DesignRows:
    """The estimation rows' strata (positions in the design) and PSU identities (the original
    identifiers, or the row labels, so that two fits on overlapping rows share them)."""

    design: SurveyDesign
    strata: np.ndarray
    psu: np.ndarray
    index: np.ndarray  # the rows' labels, to align two fits on the same rows

    @classmethod
    def of(cls, design: SurveyDesign, data: pd.DataFrame, where: str = "survey") -> DesignRows:
        strata = design.stratum_codes(data, where)
        psu = np.asarray(data.index) if design.psu is None else data[design.psu].to_numpy()
        return cls(design, strata, psu, np.asarray(data.index))

    @property
    def df(self) -> float:
        """PSUs minus strata, over the strata with rows here (Stata omits the others)."""
        present = np.unique(self.strata)
        return float(self.design.n_psu[present].sum() - len(present))


def linearised_variance(influence: np.ndarray, rows: DesignRows) -> tuple[np.ndarray, list[str]]:
    """sum_h (1 - f_h) n_h/(n_h - 1) sum_i (z_hi - zbar_h)(...)' of the rows' estimating functions
    (scores, or influence rows: scores times the bread), and notes (single-PSU strata)."""
    design = rows.design
    k = influence.shape[1]
    psu_index = pd.factorize(_combined(rows.strata, pd.factorize(rows.psu)[0]))[0]
    n_units = psu_index.max() + 1
    z = np.zeros((n_units, k))
    _sum_rows(z, psu_index, influence)
    unit_stratum = np.zeros(n_units, dtype=int)
    unit_stratum[psu_index] = rows.strata
    present = np.unique(unit_stratum)
    n_h, f_h = design.n_psu, design.fraction
    stratum_sums = np.zeros((len(n_h), k))
    np.add.at(stratum_sums, unit_stratum, z)
    units_here = np.bincount(unit_stratum, minlength=len(n_h))
    multiple = n_h > 1
    mean = np.divide(stratum_sums, n_h[:, None], out=np.zeros_like(stratum_sums), where=n_h[:, None] > 0)
    d = z - mean[unit_stratum]
    factor = np.where(multiple, (1 - f_h) * n_h / np.where(multiple, n_h - 1, 1), 0.0)
    # Each stratum's PSUs without rows here have z = 0: (n_h - m_h) zbar zbar' more.
    absent = np.where(multiple, n_h - units_here, 0.0)
    total = (d * factor[unit_stratum][:, None]).T @ d + (mean * (factor * absent)[:, None]).T @ mean
    single = [h for h in present if n_h[h] == 1]
    notes = []
    if single and design.singleunit == "centered":  # its PSU's deviation from the grand mean, no n/(n-1)
        grand = z.sum(axis=0) / float(n_h.sum())
        for h in single:
            dev = z[unit_stratum == h] - grand
            total += (1 - f_h[h]) * dev.T @ dev
    if single:
        names = [str(design.stratum_values[h]) for h in single]
        shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
        if design.singleunit == "missing":
            notes.append(
                f"{len(single)} stratum(s) with a single PSU ({shown}): standard errors are missing, as "
                f"Stata's singleunit(missing); choose survey.singleunit certainty, scaled or centered."
            )
            total = np.full((k, k), np.nan)
        else:
            if design.singleunit == "scaled":
                total = total * len(present) / (len(present) - len(single))
            notes.append(
                f"{len(single)} stratum(s) with a single PSU ({shown}), handled as singleunit({design.singleunit})."
            )
    return total, notes


def _sum_rows(out: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """out[index] += values, as a sparse indicator product (np.add.at is slow on many rows)."""
    n = len(index)
    out += sparse.csr_matrix((np.ones(n), (index, np.arange(n))), shape=(len(out), n)) @ values
