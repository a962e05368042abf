"""Figures drawn from the analytic sample's aggregates; PNG and PDF, byte-identical on rerun."""
