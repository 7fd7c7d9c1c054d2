"""Options: a group of parameters that makes one decision, given as one parameter.

An estimator's parameter may take an :class:`Options` object (a budget, the
judge's reading of the data, the distillation's settings) where a single
value is not enough. Being a ``BaseEstimator``, it clones, prints and nests in
``get_params``, so that ``GridSearchCV`` reaches its fields as
``epsilon__share`` or ``distill__temperature``, as skorch's ``optimizer__lr``.
"""

from sklearn.base import BaseEstimator


class Options(BaseEstimator):
    """Parameters stored untouched, checked by :meth:`validated` against
    ``_parameter_constraints`` when the estimator that holds them fits."""

    _parameter_constraints: dict = {}

    def validated(self):
        """Check every field against ``_parameter_constraints``.

        Returns
        -------
        self : Options
            Unchanged; an invalid field raises an error that names it.
        """
        self._validate_params()
        return self
