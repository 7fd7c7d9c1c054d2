"""Helpers that know nothing of routing: validation, soft labels, metadata, threads, dask."""
