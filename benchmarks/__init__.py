"""Benchmarks of sklearn_kcm; run as scripts, never collected by pytest."""
