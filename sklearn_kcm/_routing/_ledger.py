"""Cost accounting of a router: samples, calls and seconds per member."""

import threading
import time
from contextlib import contextmanager

from .._utils._counters import Counters


def timed(function):
    """``function``, returning ``(its result, its seconds)``: a job's own time, where a
    ledger's timer around parallel jobs counts their wall time together."""

    def run(*args, **kwargs):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        return result, time.perf_counter() - start

    return run


class CostLedger(Counters):
    """Counts what each member of an ensemble costs.

    Made in ``fit`` and updated in place by ``fit`` and the predict methods, so
    that predicting never changes the estimator's own attributes. Safe to share
    between threads; pickles without its lock. ``KCMEnsemble.ledger_`` is one.

    ``fit_large_fits`` counts the fits of the large model that learnt something
    (itself, its out-of-fold teachers, the refit after a certificate; not a
    ``FrozenEstimator``'s nor an LLM's); ``*_large_calls`` and
    ``*_large_samples`` count its answers: the calls made and the rows asked.

    Parameters
    ----------
    verbose : int, default=0
        When positive, print each timed block of training (``fit_*`` keys:
        every member fit, teacher fit and distillation step) as it ends.
    owner : str, default="KCMEnsemble"
        The estimator whose costs these are, named in what ``verbose`` prints.

    See Also
    --------
    sklearn_kcm.llm.LLMUsage : The calls and tokens of one LLM classifier.

    Examples
    --------
    >>> from sklearn_kcm import CostLedger
    >>> ledger = CostLedger()
    >>> ledger.add(predict_samples=10, predict_large_samples=3, predict_large_calls=1)
    >>> ledger.summary()["predict_large_share"]
    0.3
    """

    NAMES = (
        "fit_large_fits",
        "fit_large_samples",
        "fit_large_calls",
        "predict_samples",
        "predict_large_samples",
        "predict_large_calls",
    )

    def __init__(self, verbose=0, owner="KCMEnsemble"):
        self.verbose = verbose
        self.owner = owner
        super().__init__()

    def _reset_extra(self):
        self._seconds = {}
        self._open = threading.local()  # the timers running in each thread, innermost last

    @contextmanager
    def timer(self, key):
        """Add the wall-clock seconds spent in the ``with`` block to ``key``.

        Seconds are counted once: a timer inside another (the large model's
        answers inside the check of distillation, say) takes its seconds out
        of the outer one, so the ``seconds_fit_*`` of a fit add up to its wall
        time.

        Parameters
        ----------
        key : str
            The phase and member, e.g. ``"predict_large"``.

        Yields
        ------
        None
            Control to the timed block.
        """
        stack = self._open.__dict__.setdefault("stack", [])
        stack.append(0.0)  # seconds of the timers inside this one
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            own = elapsed - stack.pop()
            if stack:
                stack[-1] += elapsed
            with self._lock:
                self._seconds[key] = self._seconds.get(key, 0.0) + own
            if self.verbose and key.startswith("fit_"):
                print(f"[{self.owner}] {key.removeprefix('fit_')}: {own:.2f} s", flush=True)

    def absorb(self, other):
        """Add the counts and seconds of ``other``, a ledger of the same kind.

        Parameters
        ----------
        other : CostLedger
            Work done for the same fit (a first pass whose models were replaced).
        """
        self.add(**other.counts())
        with self._lock:
            for key, value in other._seconds.items():
                self._seconds[key] = self._seconds.get(key, 0.0) + value

    def report_fits(self, name, seconds):
        """With ``verbose``, print the seconds of each of several parallel fits.

        One timer counts their wall time together; this shows each job's own.

        Parameters
        ----------
        name : str
            What was fitted, e.g. ``"teacher"`` (the out-of-fold teachers).
        seconds : list of float
            Each fit's seconds, in order.
        """
        if self.verbose:
            for index, elapsed in enumerate(seconds, 1):
                print(f"[{self.owner}] {name} {index}/{len(seconds)}: {elapsed:.2f} s",
                      flush=True)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_open", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._open = threading.local()

    def summary(self):
        """Counts, seconds per member and phase, and the share sent to the large model.

        Returns
        -------
        dict
            The counters of ``NAMES``, ``predict_large_share``, and one
            ``seconds_<phase>_<member>`` entry per timed block.
        """
        out = self.counts()
        with self._lock:
            out.update({f"seconds_{key}": round(value, 6) for key, value in self._seconds.items()})
        samples = out["predict_samples"]
        out["predict_large_share"] = out["predict_large_samples"] / samples if samples else 0.0
        return out


class RetrievalLedger(CostLedger):
    """The :class:`CostLedger` of a KCMRetriever: queries, calls and documents scored.

    ``*_samples`` count queries; ``*_large_documents`` count the documents the
    large retriever scored (``n_candidates`` per routed query with the
    shortlist hint, the whole corpus without it). Index building is timed
    apart from the queries (``seconds_fit_index_small``,
    ``seconds_fit_index_large``).

    Examples
    --------
    >>> from sklearn_kcm._routing._ledger import RetrievalLedger
    >>> ledger = RetrievalLedger()
    >>> ledger.add(predict_samples=10, predict_large_samples=2, predict_large_documents=40)
    >>> ledger.summary()["predict_large_documents"]
    40
    """

    NAMES = CostLedger.NAMES + ("fit_large_documents", "predict_large_documents")

    def __init__(self, verbose=0, owner="KCMRetriever"):
        super().__init__(verbose, owner)
