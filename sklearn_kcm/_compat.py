"""The one place that imports private scikit-learn helpers.

scikit-learn offers no public home for its parameter-constraint machinery or
for ``_check_sample_weight``; every third-party estimator library imports them
from the private modules. Keeping the imports here means one file to mend when
they move.
"""

from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.metadata_routing import _routing_enabled
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import _check_sample_weight, _num_features, _num_samples

__all__ = [
    "HasMethods",
    "_BaseComposition",
    "Interval",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_num_features",
    "_num_samples",
    "_routing_enabled",
    "_safe_indexing",
    "validate_params",
]
