"""The layer widths of a network, checked once for every architecture."""

from itertools import pairwise


def layer_pairs(layers):
    """``(in, out)`` widths of each layer of a network listed as ``[in, h1, ..., out]``.

    Examples
    --------
    >>> layer_pairs([4, 8, 3])
    [(4, 8), (8, 3)]
    """
    widths = [int(w) for w in layers]
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(
            f"layers must list at least an input and an output width, all >= 1; "
            f"got {list(layers)}."
        )
    return list(pairwise(widths))
