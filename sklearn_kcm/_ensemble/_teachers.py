"""Large models whose answers on training rows are honest soft labels.

The fitted large model has seen the label of every training row, so its answer
there says nothing the label does not. A teacher must not have seen the row: a
clone fitted on the other folds (out of fold), a prefit model
(:class:`~sklearn.frozen.FrozenEstimator`) that was trained elsewhere, or the
fitted model on a batch of a stream that is new to it.
"""

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

from .._compat import _num_samples, _safe_indexing
from .._routing._folds import aligned_proba
from .._routing._ledger import timed
from ._large_calls import ask_large, fit_large, learns_in_fit


class LargeTeachers:
    """Large models, each answering only the rows it has not seen; fitted on first use.

    Parameters
    ----------
    fit_models : callable
        ``fit_models() -> [(model, rows), ...]``: fitted models and the rows of
        X each may answer; called once, on the first :meth:`answer`, so that a
        fit whose teachers are never asked pays nothing for them.
    hint : {"auto", "features"} or None
        How the small model's answer reaches the large model.
    n_classes : int
    ledger : CostLedger
        Counts the calls (phase ``"fit"``).
    classes : ndarray or None
        The classes, sorted, where a teacher fitted on a part of the rows may
        have missed some (a class with fewer rows than folds): it gives them 0.
    """

    def __init__(self, fit_models, *, hint, n_classes, ledger, classes=None, recent=None):
        self._fit_models = fit_models
        self._models = None
        self._answers = {}
        self.hint = hint
        self.n_classes = n_classes
        self.ledger = ledger
        self.classes = classes
        self.recent = recent

    def also(self, model, rows):
        """These teachers, and a fitted ``model`` that has not seen ``rows`` answering them.

        The teachers are fitted once: the new set reuses them (fitting them
        first if no one has asked them yet).
        """
        teachers = type(self)(lambda: [*self.models(), (model, rows)], hint=self.hint,
                              n_classes=self.n_classes, ledger=self.ledger,
                              classes=self.classes)
        teachers._answers = self._answers  # what was asked need not be asked again
        return teachers

    @classmethod
    def out_of_fold(cls, large, X, y, *, rows, splits, small_oof, fit_params, hint, n_classes,
                    ledger, n_jobs=None):
        """One clone of the unfitted ``large`` per ``(train, test)`` fold of ``splits``.

        ``rows`` are the labelled rows of X; ``splits``, ``small_oof`` and
        ``fit_params`` index them. Each clone answers its held-out rows. Each
        clone is trained on its rows' out-of-fold small probabilities
        ``small_oof`` where the fitted large model was (see
        :func:`~._large.fit_large`). The clones are fitted in parallel
        (``n_jobs``, joblib), timed together as ``fit_teachers``.
        """

        def fit_one(train):
            params = {k: _safe_indexing(v, train) for k, v in fit_params.items()}
            return timed(fit_large)(clone(large), _safe_indexing(X, rows[train]),
                                    y[rows[train]],
                                    None if small_oof is None else small_oof[train], hint=hint,
                                    fit_params=params)

        def fit_models():
            with ledger.timer("fit_teachers"):
                fitted = Parallel(n_jobs=n_jobs)(delayed(fit_one)(train) for train, _ in splits)
            ledger.report_fits("teacher", [seconds for _, seconds in fitted])
            ledger.add(fit_large_fits=sum(learns_in_fit(model) for model, _ in fitted))
            return [(model, rows[test]) for (model, _), (_, test) in zip(fitted, splits)]

        return cls(fit_models, hint=hint, n_classes=n_classes, ledger=ledger,
                   classes=np.unique(y[rows]))

    @classmethod
    def for_training(cls, large, fitted_large, X, y, **kwargs):
        """Teachers of the labelled training rows of a fitted large model.

        A :class:`~sklearn.frozen.FrozenEstimator` was trained elsewhere, so X
        is new to it: it answers every row. Otherwise, clones of ``large``
        fitted out of fold (see :meth:`out_of_fold`, whose parameters
        ``kwargs`` holds).
        """
        if isinstance(fitted_large, FrozenEstimator):
            return cls.unseen(fitted_large, len(y), hint=kwargs["hint"],
                              n_classes=kwargs["n_classes"], ledger=kwargs["ledger"])
        return cls.out_of_fold(large, X, y, **kwargs)

    @classmethod
    def unseen(cls, model, n_rows, *, hint, n_classes, ledger, recent=None):
        """A fitted ``model`` that has seen none of the ``n_rows`` rows: it answers them all
        (those of ``recent``, a :class:`~._recent.RecentAnswers`, without a call)."""
        return cls(lambda: [(model, np.arange(n_rows))], hint=hint, n_classes=n_classes,
                   ledger=ledger, recent=recent)

    def answer(self, X, rows, small_proba):
        """The teachers' probabilities on ``rows`` of X, one call per teacher concerned."""
        proba = np.empty((rows.size, self.n_classes))
        for model, held_out in self.models():
            mine = np.isin(rows, held_out)
            if mine.any():
                proba[mine] = self.ask(model, X, rows[mine], small_proba)
        return proba

    def answer_rows(self, X, rows, rows_small_proba):
        """:meth:`answer` given the small model's probabilities on ``rows`` only (or None)."""
        small_proba = np.zeros((_num_samples(X), self.n_classes))
        if rows_small_proba is not None:
            small_proba[rows] = rows_small_proba
        return self.answer(X, rows, small_proba)

    def ask(self, model, X, rows, small_proba):
        """One counted call of one of these teachers' ``model`` on ``rows`` of X.

        The same question (model, rows and hint) is answered once: the check
        of distillation from unlabelled rows and the distillation itself ask
        a shared teacher the same thing, and a large model that bills its
        calls answers each unlabelled row once per fit.
        """
        key = (id(model), rows.tobytes())
        hint = small_proba[rows]
        if key in self._answers and np.array_equal(self._answers[key][0], hint):
            return self._answers[key][1]
        seen = getattr(model, "classes_", None)
        partial = self.classes is not None and seen is not None and len(seen) < self.n_classes
        proba = ask_large(model, X, rows, small_proba, hint=self.hint,
                          n_classes=len(seen) if partial else self.n_classes,
                          ledger=self.ledger, phase="fit", recent=self.recent)
        if partial:  # a clone fitted on folds that lacked a class: 0 for it
            proba = aligned_proba(proba, seen, self.classes)
        self._answers[key] = (hint, proba)
        return proba

    def fitted(self):
        """The teachers fitted so far (none if they were never asked)."""
        return [model for model, _ in self._models or []]

    def models(self):
        """The fitted teachers and the rows each may answer (fitted now if not yet)."""
        if self._models is None:
            if self._fit_models is None:
                raise RuntimeError("These teachers were pickled before they were fitted; "
                                   "call models() before pickling them.")
            self._models = self._fit_models()
        return list(self._models)

    def __getstate__(self):
        # the recipe is a closure over the training data, which does not pickle;
        # fitted teachers no longer need it (KCMEnsemble(memory=...) caches them)
        return {**self.__dict__, "_fit_models": None, "_answers": {}}
