"""The training loop of KCMEnsemble: who teaches the small model, and how it learns.

A mixin of :class:`~sklearn_kcm.KCMEnsemble`, kept apart so that the estimator's
module holds its public face (parameters, fit, predict, routing) and this one
the distillation rounds of the paper: route the training rows, ask honest
teachers about the hard ones, distil their confident outputs.
"""

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

from ._compat import _safe_indexing
from ._distill import distill, soften
from ._routing import route_to_large, top_probability


class DistillationLoop:
    """Teacher selection and distillation rounds; expects KCMEnsemble's attributes."""

    def _teacher_rows(self, X, routed, small_proba, teacher_models):
        """Rows and probabilities of the teachers in ``distill`` for one pass."""
        teachers = self._teachers()
        threshold = self.epsilon_ if self.distill_threshold is None else self.distill_threshold
        hard = np.flatnonzero(routed)
        rows, probas = [np.empty(0, dtype=int)], [np.empty((0, len(self.classes_)))]
        if "large" in teachers and hard.size:
            large_proba = self._teacher_proba(teacher_models, X, hard, small_proba)
            keep = top_probability(large_proba) > threshold
            rows.append(hard[keep])
            probas.append(large_proba[keep])
        if "judge" in teachers:
            easy = np.flatnonzero(~routed)
            rows.append(easy)
            probas.append(self._judge_proba(_safe_indexing(X, easy), small_proba[easy]))
        return np.concatenate(rows), np.vstack(probas)

    def _teachers(self):
        if self.distill is False:
            return set()
        if self.distill is True or self.distill == "large":
            return {"large"}
        return {"judge"} if self.distill == "judge" else {"large", "judge"}

    def _distill(self, X, y, sample_weight, teachers):
        for round_ in range(self.distill_rounds):
            record, _ = self._distillation_pass(X, y, sample_weight, teachers,
                                                epochs=self.distill_epochs)
            if self.verbose:
                print(f"[KCMEnsemble] round {round_ + 1}/{self.distill_rounds}: "
                      f"{record['large_samples']} hard samples, "
                      f"{record['teacher_samples']} teacher samples, {record['method']}")

    def _distillation_pass(self, X, y, sample_weight, teachers, *, epochs, incremental=False):
        """Route X, ask the teachers about it, distil into the small model; one record.

        ``teachers()`` gives the large models and the rows each may answer; it is
        only called when some row goes to the large model. In ``incremental``
        mode (a batch of a stream) the small model learns the batch's labels
        even when no teacher speaks.
        """
        small_proba = self.small_.predict_proba(X)
        routed = route_to_large(self._confidence(X, small_proba), self.epsilon_)
        models = teachers() if routed.any() and "large" in self._teachers() else None
        rows, probas = self._teacher_rows(X, routed, small_proba, models)
        record = {"round": len(self.distillation_), "large_samples": int(routed.sum()),
                  "teacher_samples": int(rows.size), "method": None}
        if rows.size or incremental:
            with self.ledger_.timer("fit_distill"):
                record["method"] = distill(
                    self.small_, X, y, rows, soften(probas, self.temperature), self.classes_,
                    sample_weight=sample_weight, distill_weight=self.distill_weight,
                    epochs=epochs, incremental=incremental,
                )
        self.distillation_.append(record)
        return record, small_proba

    def _fit_teachers(self, X, y, cv, small_oof, large_fit_params):
        """Large models whose outputs on the training rows are honest soft labels.

        A FrozenEstimator was not trained on X: it teaches directly. Otherwise
        each training row is answered by a clone fitted without it (out of
        fold), as the fitted large model has seen its label.
        """
        if isinstance(self.large_, FrozenEstimator):
            return [(self.large_, np.arange(len(y)))]
        models = []
        for train, test in cv.split(X, y):
            model = clone(self.large)
            X_train = _safe_indexing(X, train)
            hint_train = small_oof[train] if self.hint == "features" else None
            params = {k: _safe_indexing(v, train) for k, v in large_fit_params.items()}
            with self.ledger_.timer("fit_large"):
                model.fit(self._large_input(X_train, hint_train), y[train], **params)
            models.append((model, test))
        return models

    def _teacher_proba(self, teacher_models, X, rows, small_proba):
        proba = np.empty((rows.size, len(self.classes_)))
        for model, held_out in teacher_models:
            mine = np.isin(rows, held_out)
            if mine.any():
                proba[mine] = self._ask_large(model, X, rows[mine], small_proba, "fit")
        return proba

    # -------------------------------------------------------------- predict
