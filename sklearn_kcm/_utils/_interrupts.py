"""An interrupted fit leaves the estimator as it was before the call."""

import copy
import functools


def restores_on_interrupt(*mutated, copied=()):
    """Decorate a ``fit``-like method: on ``KeyboardInterrupt``, put the estimator back.

    A half-finished fit must not look finished (``predict`` then answers with
    models that differ from an uninterrupted fit's) nor half-fitted (some
    fitted attributes missing). The attributes are restored from a shallow
    copy of ``__dict__`` taken before the call; those named in ``mutated``,
    which the method changes in place (a model that ``partial_fit`` updates),
    from deep copies; those named in ``copied`` from shallow copies (objects
    that only rebind their own attributes). The interrupt then propagates. What was paid stays
    paid: counters shared with the old state (the ledger) keep their counts.

    Parameters
    ----------
    *mutated : str
        Attributes the method changes in place.
    copied : tuple of str, default=()
        Attributes whose own attributes the method rebinds.
    """
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            saved = dict(self.__dict__)
            copies = {name: copy.deepcopy(saved[name]) for name in mutated if name in saved}
            copies.update({name: copy.copy(saved[name]) for name in copied if name in saved})
            try:
                return method(self, *args, **kwargs)
            except KeyboardInterrupt:
                self.__dict__.clear()
                self.__dict__.update(saved, **copies)
                raise
        return wrapper
    return decorate
