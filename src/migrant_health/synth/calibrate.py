"""Solving a few DGP parameters so that chosen statistics of the synthetic data hit their
published values: Newton's method on a finite-difference Jacobian (the statistics are
smooth in the parameters, and there are only two or three of them)."""
import numpy as np


def newton(gaps, start, label: str, step: float = 1e-6, tol: float = 1e-9, max_iter: int = 50) -> np.ndarray:
    """Parameters x with gaps(x) = 0 (one gap per parameter), from `start`."""
    x = np.asarray(start, dtype=float).copy()
    for _ in range(max_iter):
        gap = np.asarray(gaps(x), dtype=float)
        if np.max(np.abs(gap)) < tol:
            return x
        jacobian = np.column_stack([(np.asarray(gaps(x + step * e)) - gap) / step for e in np.eye(len(x))])
        x = x - np.linalg.solve(jacobian, gap)
    raise ValueError(f"{label}: calibration did not converge (gaps {gap})")
