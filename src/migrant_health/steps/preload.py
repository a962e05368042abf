"""Imported once by the job server (rules/common.smk): every step module and, through them,
pandas, numpy, scipy, statsmodels and matplotlib, so that each job starts warm."""

import importlib
import pkgutil

from .. import steps

for _module in pkgutil.iter_modules(steps.__path__):
    importlib.import_module(f"{steps.__name__}.{_module.name}")
