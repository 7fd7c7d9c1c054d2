"""Retrievers over a fixed corpus: any encoder (dense bi-encoder), and TF-IDF."""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from .._compat import StrOptions, _fit_context, _num_samples
from ._base import RetrieverMixin, check_relevant


def encode(encoder, items):
    """Vectors of ``items``: ``encoder.transform`` (scikit-learn), ``.encode``
    (sentence-transformers) or ``encoder(items)``; dense or sparse, 2-D."""
    if hasattr(encoder, "transform"):
        vectors = encoder.transform(items)
    elif hasattr(encoder, "encode"):
        vectors = encoder.encode(list(items))
    else:
        vectors = encoder(items)
    if sp.issparse(vectors):
        return sp.csr_matrix(vectors, dtype=np.float64)
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) != _num_samples(items):
        raise ValueError(
            f"The encoder {type(encoder).__name__} returned an array of shape "
            f"{vectors.shape} for {_num_samples(items)} items; it must return one vector "
            "per item, shape (n_items, n_dims)."
        )
    return vectors


def similarities(queries, docs, candidates=None):
    """Dot products of query vectors with every document, or with each row's candidates."""
    if candidates is None:
        scores = queries @ docs.T
        return scores.toarray() if sp.issparse(scores) else np.asarray(scores)
    n, k = candidates.shape
    if sp.issparse(queries) or sp.issparse(docs):
        pairs = sp.csr_matrix(queries)[np.repeat(np.arange(n), k)].multiply(
            sp.csr_matrix(docs)[candidates.ravel()])
        return np.asarray(pairs.sum(axis=1)).reshape(n, k)
    return np.einsum("nd,nkd->nk", queries, docs[candidates])


def _is_sklearn(encoder):
    return hasattr(encoder, "fit") and hasattr(encoder, "get_params")


class EncoderRetriever(RetrieverMixin, BaseEstimator):
    """Retrieve the documents whose vectors are nearest a query's: a bi-encoder.

    ``fit`` builds the index (the vectors of the corpus); ``decision_function``
    encodes the queries and scores documents by cosine similarity (or dot
    product). A scikit-learn transformer that encodes both sides is fitted on
    the corpus (e.g. a ``TfidfVectorizer`` or a ``PCA``); pretrained encoders
    (``sentence_transformers.SentenceTransformer``, a function, a transformer
    wrapped in :class:`~sklearn.frozen.FrozenEstimator`) are used as given.
    Nothing is learnt from the training queries.

    Parameters
    ----------
    corpus : array-like or list
        The documents, in the form ``doc_encoder`` reads (texts, image rows...).
        Document ``i`` is class ``i``.
    query_encoder : object
        Queries to vectors: a scikit-learn transformer, an object with
        ``encode`` (sentence-transformers) or a callable ``f(items) -> array``.
    doc_encoder : object or None, default=None
        Documents to vectors (two towers, e.g. the two sides of a contrastive
        model); None encodes documents with ``query_encoder``, fitted on the
        corpus first when it is a scikit-learn transformer (a clone of it; one
        wrapped in ``FrozenEstimator`` is used as it is). Two
        scikit-learn towers must be fitted already (wrap them in
        ``FrozenEstimator``): the retriever cannot know what to fit them on.
    similarity : {"cosine", "dot"}, default="cosine"
        Cosine normalises both sides' vectors first.

    Attributes
    ----------
    classes_ : ndarray of shape (n_docs,)
        ``arange(n_docs)``.
    index_ : ndarray or sparse matrix of shape (n_docs, n_dims)
        The documents' vectors.
    query_encoder_, doc_encoder_ : object
        The encoders in use (fitted where the retriever fitted them).

    See Also
    --------
    TfidfRetriever : The same over TF-IDF vectors.
    KCMRetriever : Routes queries between a cheap and an expensive retriever.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn_kcm.retrieval import EncoderRetriever
    >>> corpus = np.eye(4)
    >>> retriever = EncoderRetriever(corpus, PCA(3)).fit(corpus, [0, 1, 2, 3])
    >>> retriever.predict(corpus + 0.01).tolist()
    [0, 1, 2, 3]
    """

    _parameter_constraints = {
        "corpus": ["array-like", list],
        "query_encoder": [object],
        "doc_encoder": [None, object],
        "similarity": [StrOptions({"cosine", "dot"})],
    }
    learns_from_queries = False  # KCMRetriever needs no out-of-fold answers

    def __init__(self, corpus, query_encoder, doc_encoder=None, *, similarity="cosine"):
        self.corpus = corpus
        self.query_encoder = query_encoder
        self.doc_encoder = doc_encoder
        self.similarity = similarity

    def _encoders(self):
        """The two encoders in use: fitted on the corpus where that is ours to do."""
        if self.doc_encoder is None:
            encoder = self.query_encoder
            if _is_sklearn(encoder) and not isinstance(encoder, FrozenEstimator):
                encoder = clone(encoder).fit(self.corpus)
            return encoder, encoder
        for name in ("query_encoder", "doc_encoder"):
            encoder = getattr(self, name)
            if _is_sklearn(encoder) and not _fitted(encoder):
                raise ValueError(
                    f"{name}={type(encoder).__name__}(...) is not fitted. With two encoders "
                    "neither is fitted by the retriever: fit them (e.g. as the two towers "
                    "of a contrastive model) and wrap each in "
                    "sklearn.frozen.FrozenEstimator, or give one encoder for both sides."
                )
        return self.query_encoder, self.doc_encoder

    def _vectors(self, encoder, items):
        vectors = encode(encoder, items)
        return normalize(vectors) if self.similarity == "cosine" else vectors

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, queries, y):
        """Build the index of the corpus.

        Parameters
        ----------
        queries : array-like or list
            Training queries (only checked: nothing is learnt from them).
        y : array-like of int, shape (n_queries,)
            Index of each query's relevant document in ``corpus``.

        Returns
        -------
        self : EncoderRetriever
            The retriever, with its index built.
        """
        n_docs = _num_samples(self.corpus)
        if n_docs < 2:
            raise ValueError(f"The corpus holds {n_docs} document(s); retrieval needs 2 or more.")
        check_relevant(y, n_docs)
        self.query_encoder_, self.doc_encoder_ = self._encoders()
        self.index_ = self._vectors(self.doc_encoder_, self.corpus)
        self.classes_ = np.arange(n_docs)
        return self

    def decision_function(self, queries, candidates=None):
        """Similarity of each query to every document, or to its candidates only.

        Parameters
        ----------
        queries : array-like or list
            Queries, in the form the retrievers read.
        candidates : array-like of int, shape (n_queries, n_candidates), default=None
            Document indices to score for each query (a shortlist); None
            scores the whole corpus.

        Returns
        -------
        ndarray of shape (n_queries, n_docs) or (n_queries, n_candidates)
            Cosine similarities (or dot products), higher for better documents.
        """
        check_is_fitted(self)
        vectors = self._vectors(self.query_encoder_, queries)
        if vectors.shape[1] != self.index_.shape[1]:
            raise ValueError(
                f"The queries encode to {vectors.shape[1]} dimensions but the documents to "
                f"{self.index_.shape[1]}: the two encoders must map to the same space."
            )
        if candidates is not None:
            candidates = np.asarray(candidates, dtype=np.intp)
            if candidates.ndim != 2 or len(candidates) != vectors.shape[0]:
                raise ValueError(
                    f"candidates must have one row of document indices per query, shape "
                    f"({vectors.shape[0]}, n_candidates); got shape {candidates.shape}."
                )
        return similarities(vectors, self.index_, candidates)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags


def _fitted(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


class TfidfRetriever(EncoderRetriever):
    """Retrieve by cosine similarity of TF-IDF vectors, fitted on the corpus.

    The cheap retriever of text: the vocabulary and document frequencies are
    learnt from the corpus in ``fit``; a query costs one sparse product.

    Parameters
    ----------
    corpus : list of str
        The documents; document ``i`` is class ``i``.
    vectorizer : TfidfVectorizer or None, default=None
        None means ``TfidfVectorizer(sublinear_tf=True)``; any text
        transformer fitted on the corpus works.

    Attributes
    ----------
    classes_ : ndarray of shape (n_docs,)
    index_ : sparse matrix of shape (n_docs, n_terms)
    query_encoder_, doc_encoder_ : the fitted vectorizer.

    See Also
    --------
    EncoderRetriever : Any encoder, e.g. a sentence encoder.

    Examples
    --------
    >>> from sklearn_kcm.retrieval import TfidfRetriever
    >>> docs = ["a cat sat on the mat", "dogs chase cats", "the stock market fell"]
    >>> retriever = TfidfRetriever(docs).fit(["cat on a mat"], [0])
    >>> retriever.predict(["the market fell", "the dogs"]).tolist()
    [2, 1]
    """

    _parameter_constraints = {
        "corpus": ["array-like", list],
        "vectorizer": [None, object],
    }

    def __init__(self, corpus, *, vectorizer=None):
        self.corpus = corpus
        self.vectorizer = vectorizer

    @property
    def query_encoder(self):
        """The vectorizer that encodes queries and documents."""
        return TfidfVectorizer(sublinear_tf=True) if self.vectorizer is None else self.vectorizer

    doc_encoder = None
    similarity = "cosine"
