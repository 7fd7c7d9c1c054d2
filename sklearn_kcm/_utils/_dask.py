"""Prediction over out-of-core data, one block of rows at a time (optional dask)."""


def predict_blocks(estimator, X, method="predict"):
    """Apply ``estimator.<method>`` lazily to each block of rows of a dask collection.

    Each task holds one block of rows and its result, so memory is bounded by
    the block size whatever the number of rows; on a ``dask.distributed``
    cluster the blocks run on the workers. Cost counters (``ledger_``,
    ``usage_``) are updated on the workers' copies of the estimator, not on
    yours.

    Parameters
    ----------
    estimator : fitted estimator
        Any fitted estimator with ``method``; shipped to the workers.
    X : dask.array.Array of shape (n_samples, n_features) or (n_samples,), or dask DataFrame
        A 1-D array holds texts (for text pipelines or an LLMClassifier).
        Column chunks are merged so that each block holds whole rows. The
        partitions of a (numeric) dask DataFrame reach the estimator as pandas
        DataFrames with their column names.
    method : {"predict", "predict_proba", "route", "confidence"}, default="predict"
        The method to apply.

    Returns
    -------
    dask.array.Array
        ``(n_samples,)`` for predict, route and confidence; ``(n_samples,
        n_classes)`` for predict_proba. Call ``.compute()`` (or store it
        block by block with ``da.to_zarr``) to run it.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_kcm import predict_blocks
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=1000).fit(X, y)
    >>> lazy = predict_blocks(model, da.from_array(X, chunks=(50, 4)))
    >>> bool((lazy.compute() == model.predict(X)).all())
    True
    """
    import dask
    import dask.array as da
    import numpy as np

    columns = None
    if hasattr(X, "to_dask_array"):  # dask DataFrame: blocks become frames again below
        columns = list(X.columns)
        X = X.to_dask_array(lengths=True)
    if X.ndim == 2 and X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    model = dask.delayed(estimator, pure=True)

    def apply(block, model):
        if columns is not None:
            import pandas as pd

            block = pd.DataFrame(block, columns=columns)
        return getattr(model, method)(block)

    if method == "predict_proba":
        n_classes = len(estimator.classes_)
        return da.map_blocks(apply, X, model, chunks=(X.chunks[0], (n_classes,)),
                             new_axis=None if X.ndim == 2 else 1, dtype=float,
                             meta=np.empty((0, 0), dtype=float))
    dtype = estimator.classes_.dtype if method == "predict" else (
        bool if method == "route" else float)
    # meta is given: dask must not call the model on an empty block to guess it
    return da.map_blocks(apply, X, model, drop_axis=1 if X.ndim == 2 else None, dtype=dtype,
                         chunks=(X.chunks[0],), meta=np.empty((0,), dtype=dtype))
