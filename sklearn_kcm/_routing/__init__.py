"""What the two routers, KCMEnsemble and KCMRetriever, share.

Pure functions of routing (thresholds, masks, curves, the judge's signals and
the fallback to the cascade), fitting the judge on out-of-fold signals, and the
cost ledger. Knows nothing of either router.
"""
