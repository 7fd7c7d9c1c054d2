"""Choosing and judging a router: deferral-aware scorers, ``tune_epsilon``, the routing display."""
