"""The large model's recent answers, so that a stream does not pay twice for a row.

Production predicts a batch, then hands the same batch to ``partial_fit`` to
learn from it: the routed rows' answers were bought at predict time. A bounded
memo, keyed by a digest of each row and of the hint it was asked with, made in
``fit`` (``predict`` must not change the estimator's attributes) and updated in
place, lets ``partial_fit`` reuse them. It is kept only for a large model that
bills its calls (an LLM client): an estimator's answer costs less than the
digest.
"""

import hashlib
import threading
from collections import OrderedDict

import numpy as np
import scipy.sparse as sp

from .._compat import _safe_indexing

# answers kept; the oldest go first
MAX_ANSWERS = 10_000


def row_digests(X_rows, hint):
    """One digest per row of ``X_rows`` (array, sparse, DataFrame or texts) and its hint."""
    hint = np.ascontiguousarray(hint, dtype=np.float64)
    digests = []
    for i in range(hint.shape[0]):
        row = _safe_indexing(X_rows, [i])
        if sp.issparse(row):
            content = row.toarray().tobytes()
        elif hasattr(row, "to_numpy"):
            content = repr(row.to_numpy().tolist()).encode()
        else:
            content = repr(np.asarray(row, dtype=object).tolist()).encode()
        digests.append(hashlib.sha1(content + hint[i].tobytes()).hexdigest())
    return digests


class RecentAnswers:
    """The last ``MAX_ANSWERS`` probabilities of a large model, by row and hint digest."""

    def __init__(self):
        self._lock = threading.Lock()
        self._answers = OrderedDict()

    def get(self, digests):
        """The stored answers of ``digests`` (None for those not stored)."""
        with self._lock:
            return [self._answers.get(digest) for digest in digests]

    def put(self, digests, proba):
        with self._lock:
            for digest, row in zip(digests, proba):
                self._answers[digest] = row
                self._answers.move_to_end(digest)
            while len(self._answers) > MAX_ANSWERS:
                self._answers.popitem(last=False)

    def __getstate__(self):
        return {"_answers": OrderedDict()}  # answers about other data are no use elsewhere

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()
