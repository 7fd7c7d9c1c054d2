"""Cost accounting of a KCMEnsemble: samples, calls and seconds per member."""

import threading
import time
from collections import defaultdict
from contextlib import contextmanager

COUNTERS = (
    "fit_large_samples",
    "fit_large_calls",
    "predict_samples",
    "predict_large_samples",
    "predict_large_calls",
)


class CostLedger:
    """Counts what each member of an ensemble costs.

    Made in ``fit`` and updated in place by ``fit`` and the predict methods, so
    that predicting never changes the estimator's own attributes. Safe to share
    between threads; pickles without its lock.

    Examples
    --------
    >>> from sklearn_kcm._ledger import CostLedger
    >>> ledger = CostLedger()
    >>> ledger.add(predict_samples=10, predict_large_samples=3, predict_large_calls=1)
    >>> ledger.summary()["predict_large_share"]
    0.3
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        """Set every counter and timer back to zero."""
        with self._lock:
            self._counts = dict.fromkeys(COUNTERS, 0)
            self._seconds = defaultdict(float)

    def add(self, **counts):
        """Add to the named counters (see ``COUNTERS``)."""
        with self._lock:
            for name, value in counts.items():
                if name not in self._counts:
                    raise KeyError(f"Unknown counter {name!r}; known: {COUNTERS}.")
                self._counts[name] += int(value)

    @contextmanager
    def timer(self, key):
        """Add the wall-clock seconds spent in the block to ``key``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self._seconds[key] += elapsed

    def summary(self):
        """Counts, seconds per member and phase, and the share sent to the large model.

        Returns
        -------
        dict
            The counters of ``COUNTERS``, ``predict_large_share``, and one
            ``seconds_<phase>_<member>`` entry per timed block.
        """
        with self._lock:
            out = dict(self._counts)
            out.update({f"seconds_{key}": round(value, 6) for key, value in self._seconds.items()})
        samples = out["predict_samples"]
        out["predict_large_share"] = out["predict_large_samples"] / samples if samples else 0.0
        return out

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_lock"]
        state["_seconds"] = dict(state["_seconds"])
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._seconds = defaultdict(float, self._seconds)
        self._lock = threading.Lock()

    def __repr__(self):
        return f"CostLedger({self.summary()})"
