"""Which ``fit`` parameters (and rows) reach which member of an ensemble.

With metadata routing enabled, scikit-learn's router sends each parameter to the
members that request it. Without it, ``sample_weight`` goes to every member
whose ``fit`` (or, for a Pipeline, whose final step's) takes it, and any other
parameter is refused with the fix.
"""

from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing

from .._compat import _routing_enabled, _safe_indexing
from ._validation import fit_takes_sample_weight


def fit_router(owner, members):
    """The router of ``owner.fit`` to the ``fit`` of each named member (None: left out)."""
    router = MetadataRouter(owner=owner)
    for name, member in members.items():
        if member is not None:
            router.add(**{name: member},
                       method_mapping=MethodMapping().add(caller="fit", callee="fit"))
    return router


def subset_fit_params(routed, rows, n_samples):
    """``routed`` with every per-sample parameter (length ``n_samples``) cut to ``rows``."""
    def cut(value):
        if hasattr(value, "__len__") and not isinstance(value, str) and len(value) == n_samples:
            return _safe_indexing(value, rows)
        return value

    return Bunch(**{member: Bunch(**{method: {key: cut(value) for key, value in params.items()}
                                     for method, params in methods.items()})
                    for member, methods in routed.items()})


def labelled_part(X, y, groups, routed, labelled):
    """X, y, groups and the routed fit parameters of the ``labelled`` rows only."""
    n_samples = len(y)
    if len(labelled) == n_samples:
        return X, y, groups, routed
    return (_safe_indexing(X, labelled), y[labelled],
            None if groups is None else _safe_indexing(groups, labelled),
            subset_fit_params(routed, labelled, n_samples))


def route_fit_params(owner, members, sample_weight, fit_params):
    """``Bunch(member=Bunch(fit=params))`` for ``owner.fit``'s parameters.

    Parameters
    ----------
    owner : estimator
        Its ``get_metadata_routing`` is used when routing is enabled.
    members : dict of str to estimator or None
        The members; None ones get nothing.
    sample_weight : array-like or None
    fit_params : dict
        Other parameters of ``owner.fit``.
    """
    if _routing_enabled():
        if sample_weight is not None:
            fit_params = {**fit_params, "sample_weight": sample_weight}
        return process_routing(owner, "fit", **fit_params)
    if fit_params:
        raise ValueError(
            f"Passing {sorted(fit_params)} to {type(owner).__name__}.fit needs metadata "
            "routing: call sklearn.set_config(enable_metadata_routing=True) and request the "
            "parameters on the members (e.g. small.set_fit_request(...))."
        )
    routed = Bunch()
    for name, member in members.items():
        key = _sample_weight_key(member) if sample_weight is not None else None
        routed[name] = Bunch(fit={key: sample_weight} if key else {})
    return routed


def routed_sample_weight(fit_params):
    """The sample weights among a member's routed ``fit`` parameters, or None
    (``sample_weight``, or ``<step>__sample_weight`` for a Pipeline)."""
    return next((value for key, value in fit_params.items()
                 if key.split("__")[-1] == "sample_weight"), None)


def _sample_weight_key(member):
    """The ``fit`` parameter that gives ``member`` sample weights, or None.

    A Pipeline passes them to its final step, as ``<step>__sample_weight``
    (the Pipeline's own convention without metadata routing).
    """
    if isinstance(member, Pipeline):
        name, last = member.steps[-1]
        return f"{name}__sample_weight" if fit_takes_sample_weight(last) else None
    return "sample_weight" if fit_takes_sample_weight(member) else None
