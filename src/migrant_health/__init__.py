"""Reproducible analyses of health insurance and health care use among China's internal migrants."""

__version__ = "0.1.0"
