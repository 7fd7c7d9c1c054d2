"""Thread-safe named counters that pickle without their lock."""

import threading


class Counters:
    """Named integer counters, safe to update from several threads.

    Subclasses list their counter names in ``NAMES``.
    """

    NAMES = ()

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        """Set every counter back to zero."""
        with self._lock:
            self._counts = dict.fromkeys(self.NAMES, 0)
            self._reset_extra()

    def _reset_extra(self):
        """Hook for subclasses holding more state; called under the lock."""

    def add(self, **counts):
        """Add to the named counters.

        Parameters
        ----------
        **counts : int
            Amount to add to each named counter.
        """
        with self._lock:
            for name, value in counts.items():
                if name not in self._counts:
                    raise KeyError(f"Unknown counter {name!r}; known: {self.NAMES}.")
                self._counts[name] += int(value)

    def counts(self):
        """Return a copy of the counters.

        Returns
        -------
        dict
            Counter name to value.
        """
        with self._lock:
            return dict(self._counts)

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self):
        return f"{type(self).__name__}({self.counts()})"
