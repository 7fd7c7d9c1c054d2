"""Pure functions of routing: confidence, masks, and members' class alignment."""

import numpy as np


def top_probability(proba):
    """Confidence ``C`` of each row of class probabilities: its largest entry."""
    return np.max(proba, axis=1)


def route_to_large(confidence, epsilon):
    """Boolean mask of the samples the large model answers: ``C <= epsilon``."""
    return np.asarray(confidence) <= epsilon


def check_same_classes(classes, member, name):
    """Raise when a fitted member knows other classes than the ensemble."""
    member_classes = getattr(member, "classes_", None)
    if member_classes is None:
        raise ValueError(
            f"The {name} model has no `classes_` after fitting; KCMEnsemble needs "
            "classifiers whose predict_proba columns follow `classes_`."
        )
    if len(member_classes) != len(classes) or not np.all(member_classes == classes):
        raise ValueError(
            f"The {name} model knows the classes {list(member_classes)[:10]} but the "
            f"training labels are {list(classes)[:10]}. A prefit {name} model must "
            "have been fitted on the same set of classes."
        )
