"""The first stages of the latest seeded fits, kept in this process.

``GridSearchCV(KCMEnsemble(...), {"epsilon": [...]})`` fits the ensemble once
per candidate and split, but the threshold acts after the first stage (the
members, the judge, the out-of-fold answers): without a cache every candidate
refits them. ``memory=`` caches
them on disk; by default the first stages of the last few fits stay in memory,
as pickles, keyed by the :class:`~._plan.MemberPlan` and the data, so that the
candidates of a split after the first load them. A hit returns a fresh copy
(distillation changes the small model in place), and the keys hold everything
that shapes the fit, so a hit is what the fit would compute: only where the
ensemble's ``random_state`` is an integer; an unseeded fit is fitted anew, as a
user who fits twice expects.
"""

import pickle
import threading
from collections import OrderedDict
from numbers import Integral

import joblib

# at most this many first stages, and this many bytes of them, stay in memory
MAX_ENTRIES = 8
MAX_BYTES = 256 * 2**20


class RecentFits:
    """A bounded, least-recently-used store of pickled first stages."""

    def __init__(self, max_entries=MAX_ENTRIES, max_bytes=MAX_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """A fresh copy of the first stage stored under ``key``, or None."""
        with self._lock:
            stored = self._entries.get(key)
            if stored is None:
                return None
            self._entries.move_to_end(key)
        return pickle.loads(stored)

    def put(self, key, result):
        """Keep ``result`` under ``key`` unless it is larger than the whole store."""
        stored = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        if len(stored) > self.max_bytes:
            return
        with self._lock:
            self._entries[key] = stored
            self._entries.move_to_end(key)
            while (len(self._entries) > self.max_entries
                   or sum(map(len, self._entries.values())) > self.max_bytes):
                self._entries.popitem(last=False)

    def clear(self):
        with self._lock:
            self._entries.clear()


RECENT_FITS = RecentFits()


def keeps_first_stage(memory, random_state):
    """Whether a fit's first stage is cached: on disk (``memory``), or in this process
    where the fit asks to be reproducible (an integer ``random_state``; members left
    unseeded then give the same members on a hit, as they do from ``memory=``)."""
    return memory is not None or isinstance(random_state, Integral)


def cached_first_stage(fit, plan, *args, **kwargs):
    """``fit(plan, *args, **kwargs)``, from :data:`RECENT_FITS` where a seeded fit with the
    same plan and data was made (``verbose`` is not part of the key)."""
    if not keeps_first_stage(None, plan.random_state):
        return fit(plan, *args, **kwargs)
    try:
        key = joblib.hash((plan, args, {k: v for k, v in kwargs.items() if k != "verbose"}))
    except Exception:  # something of the plan or data does not pickle: no cache
        return fit(plan, *args, **kwargs)
    result = RECENT_FITS.get(key)
    if result is None:
        result = fit(plan, *args, **kwargs)
        try:
            RECENT_FITS.put(key, result)
        except Exception:  # a fitted member that does not pickle: not kept
            pass
    return result
