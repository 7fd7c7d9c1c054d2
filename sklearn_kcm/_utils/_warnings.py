"""Warnings that point at the user's line, found by walking the stack, not by counting."""

import sys
import warnings
from pathlib import Path

import joblib
import sklearn

# frames in these folders are the library's, scikit-learn's (its validation wrappers, its
# meta-estimators) or joblib's (its cache and its jobs), never the line a user wrote
_INTERNAL = tuple(str(Path(package.__file__).parent) for package in (sklearn, joblib)) + (
    str(Path(__file__).resolve().parent.parent),)


def warn(message, category=UserWarning):
    """``warnings.warn`` at the first frame outside sklearn_kcm, scikit-learn and joblib.

    The frames between a public method and the code that warns change as the
    code does; a counted ``stacklevel`` then points at the library's own lines.

    Parameters
    ----------
    message : str
    category : type of Warning, default=UserWarning
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level - 1 if frame is None else level)
