"""KCMRetriever: a judge routes each query to a cheap or an expensive retriever."""

import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch
from sklearn.utils.validation import indexable

from .._compat import HasMethods, Interval, StrOptions, _fit_context, _safe_indexing
from .._routing._base import BaseRouter
from .._routing._budgets import EPSILON_CONSTRAINT, share_of
from .._routing._judge import Judge, judge_spec
from .._routing._judging import default_judge, fit_judge
from .._routing._ledger import RetrievalLedger
from .._routing._signals import confidence_from_proba, probability_features
from ._base import RetrieverMixin, check_relevant
from ._scores import (
    fit_fusion_weight,
    fuse,
    margin_confidence,
    rank_candidates_first,
    relevant_positions,
    shortlist_distribution,
    standardise,
    top_candidates,
)

JUDGE_TARGET = "small_correct"  # the judge learns whether the small retriever's top-1 is right


def _takes_candidates(retriever):
    try:
        return "candidates" in inspect.signature(retriever.decision_function).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


def ask(retriever, queries, small_scores, n_candidates):
    """One call of ``retriever`` on ``queries``: its scores, and the small scores they pair with.

    With ``n_candidates``, only the small retriever's best ``n_candidates``
    documents of each row are scored (the shortlist hint). Returns
    ``(candidates or None, large_scores, small_scores_of_the_same_documents)``.
    """
    if n_candidates is None:
        return None, retriever.decision_function(queries), small_scores
    candidates = top_candidates(small_scores, n_candidates)
    large = retriever.decision_function(queries, candidates=candidates)
    return candidates, np.asarray(large, dtype=np.float64), np.take_along_axis(
        small_scores, candidates, axis=1)


class KCMRetriever(RetrieverMixin, BaseRouter):
    """KAN-judged collaboration of a cheap and an expensive retriever.

    A query goes to the ``small`` retriever, which scores the whole corpus. A
    judge reads the small retriever's score row (its best standardised
    scores, the top-1 minus top-2 margin, their spread and entropy: the
    query-performance-prediction signals) and gives ``C_x``, the probability
    that the small retriever's first document is the right one. Queries with
    ``C_x <= epsilon`` go to the ``large`` retriever, in one call per batch,
    with the small retriever's shortlist as the hint: the large retriever
    scores only those ``n_candidates`` documents, and its standardised scores
    are fused with the small one's (``fusion``).

    Parameters
    ----------
    small, large : retriever
        Estimators with ``fit(queries, y)`` and ``decision_function(queries)``
        over the same corpus (:class:`EncoderRetriever`,
        :class:`TfidfRetriever`); the large one's ``decision_function`` takes
        ``candidates=`` for the shortlist hint. Clones are fitted (a
        :class:`~sklearn.frozen.FrozenEstimator` is not refitted).
    judge : classifier, Judge, "small" or None, default=None
        Learns, on out-of-fold queries, whether the small retriever's first
        document is right. None means the KAN judge of a small model's answer,
        ``KANJudgeClassifier(**SMALL_ANSWER_JUDGE)`` (KCM); an
        :class:`~sklearn_kcm.MLPJudgeClassifier` gives the MCM ablation;
        ``Judge(estimator, fallback=False)`` routes by the judge alone (by
        default the judge's routing is compared, out of fold on the training
        queries, with the cascade's and with geometric blends of the two, and
        the best routes, as in :class:`~sklearn_kcm.KCMEnsemble`; ``routing_by_``);
        ``"small"`` routes by the small retriever's own confidence, the margin
        rule (the cascade): ``1 - exp(-(z1 - z2))``, ``z1 - z2`` the top-1
        minus top-2 of its standardised scores.
    epsilon : float in [0, 1], LargeShare or "auto", default=0.5
        Queries with ``C_x > epsilon`` are answered by the small retriever
        (0.5, where the judge alone routes: those it more likely gets right
        than wrong; the margin rule and the blends have scales of their own,
        see ``routing_by_``). A :class:`~sklearn_kcm.LargeShare` fits
        ``epsilon_`` so that its share of the training queries, out of fold,
        would go to the large retriever, whatever routes: the way to compare
        routers. ``"auto"`` is ``LargeShare()`` (20%).
    n_candidates : int, default=20
        Size of the shortlist the large retriever reranks (``hint="shortlist"``).
    hint : {"shortlist"} or None, default="shortlist"
        ``"shortlist"``: the large retriever scores the small retriever's best
        ``n_candidates`` documents only (cost ``n_candidates`` per query
        instead of the corpus; the recall of the shortlist bounds the answer,
        see ``shortlist_recall_``). None: it scores the whole corpus.
    fusion : float in [0, 1] or "auto", default="auto"
        Weight of the large retriever's standardised scores against the small
        one's on the documents it scores: 1 keeps its ranking, 0 the small
        one's. ``"auto"`` picks the weight in 0, 0.1, ..., 1 with the best
        mean reciprocal rank of the relevant document on the training queries
        (``fusion_weight_``).
    cv : int, cross-validation generator or iterable, default=5
        Folds for the out-of-fold signals: the judge's own confidences
        (a ``LargeShare`` budget, the judge's fallback) and, for a retriever that
        learns from the training queries, its answers (the retrievers of
        this module only build an index, ``learns_from_queries = False``, so
        their answers on the training queries are used as they are).
    random_state : int, RandomState instance or None, default=None
        Seeds the default judge.
    verbose : int, default=0
        Print each member fit with its seconds.

    Attributes
    ----------
    small_, large_ : retriever
        The fitted retrievers.
    judge_ : classifier or None
        The fitted judge (None with ``judge="small"``).
    routing_by_ : {"judge", "blend", "small"}
    routing_weight_ : float
        The judge's weight ``w`` in ``C_x = judge ** w * margin ** (1 - w)``,
        ``margin`` the cascade's confidence.
    routing_quality_ : dict or None
        Mean out-of-fold Recall@1 over shares sent to the large retriever in
        [0, 0.5] of the judge, the cascade and the best blend.
    epsilon_ : float
    fusion_weight_ : float
    fusion_mrr_ : dict or None
        Training mean reciprocal rank of each fusion weight tried
        (``fusion="auto"``).
    shortlist_recall_ : float or None
        Share of training queries whose relevant document is in the small
        retriever's shortlist (the best Recall@1 reranking can reach).
    classes_ : ndarray of shape (n_docs,)
    ledger_ : RetrievalLedger
        Queries, calls, documents scored by the large retriever and seconds
        per member; index building (``fit_index_*``) apart from queries.

    See Also
    --------
    KCMEnsemble : The same collaboration for classifiers.
    EncoderRetriever, TfidfRetriever : Retrievers to collaborate.

    Notes
    -----
    ``decision_function`` returns, for queries the small retriever answers,
    its standardised scores; for routed queries the reranked candidates are
    lifted above every other document, in the order of their fused scores.
    Scores rank documents within a row; rows are not on one scale.

    References
    ----------
    KCM: KAN-Based Collaboration Models Enhance Pretrained Large Models
    (the image-text retrieval experiment, reproduced offline with stand-ins).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn_kcm.retrieval import EncoderRetriever, KCMRetriever
    >>> rng = np.random.RandomState(0)
    >>> corpus = rng.normal(size=(30, 8))
    >>> queries = corpus + rng.normal(scale=0.8, size=corpus.shape)
    >>> small = EncoderRetriever(corpus, PCA(2))
    >>> large = EncoderRetriever(corpus, PCA(8))
    >>> kcm = KCMRetriever(small, large, judge="small", n_candidates=5).fit(queries, np.arange(30))
    >>> kcm.predict(queries[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        "small": [HasMethods(["fit", "decision_function"])],
        "large": [HasMethods(["fit", "decision_function"])],
        "judge": [None, StrOptions({"small"}), Judge, HasMethods(["fit", "predict_proba"])],
        "epsilon": EPSILON_CONSTRAINT,
        "n_candidates": [Interval(Integral, 1, None, closed="left")],
        "hint": [None, StrOptions({"shortlist"})],
        "fusion": [Interval(Real, 0, 1, closed="both"), StrOptions({"auto"})],
        "cv": ["cv_object"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, small, large, judge=None, *, epsilon=0.5, n_candidates=20,
                 hint="shortlist", fusion="auto", cv=5,
                 random_state=None, verbose=0):
        self.small = small
        self.large = large
        self.judge = judge
        self.epsilon = epsilon
        self.n_candidates = n_candidates
        self.hint = hint
        self.fusion = fusion
        self.cv = cv
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, queries, y):
        """Fit both retrievers, then the judge on their answers to the training queries.

        Parameters
        ----------
        queries : array-like or list
            Training queries, in the form the retrievers read.
        y : array-like of int, shape (n_queries,)
            Index of each query's relevant document in the corpus.

        Returns
        -------
        self : KCMRetriever
            The fitted collaboration.
        """
        share = share_of(self.epsilon)
        if self.hint == "shortlist" and not _takes_candidates(self.large):
            raise ValueError(
                f"hint='shortlist' asks the large retriever to score the small one's "
                f"shortlist, but {type(self.large).__name__}.decision_function takes no "
                "`candidates` argument. Give it one (see EncoderRetriever), or hint=None to "
                "let it score the whole corpus."
            )
        (queries,) = indexable(queries)
        self.ledger_ = RetrievalLedger(verbose=self.verbose)
        with self.ledger_.timer("fit_index_small"):
            self.small_ = clone(self.small).fit(queries, y)
        n_docs = len(self.small_.classes_)
        y = check_relevant(y, n_docs)
        with self.ledger_.timer("fit_index_large"):
            self.large_ = clone(self.large).fit(queries, y)
        if len(self.large_.classes_) != n_docs:
            raise ValueError(
                f"The small retriever's corpus holds {n_docs} documents and the large one's "
                f"{len(self.large_.classes_)}: both must rank the same corpus."
            )
        if self.hint == "shortlist" and self.n_candidates > n_docs:
            raise ValueError(
                f"n_candidates={self.n_candidates} exceeds the {n_docs} documents of the "
                f"corpus: give at most {n_docs}, or hint=None."
            )
        self.classes_ = np.arange(n_docs)
        splits = list(check_cv(self.cv).split(np.zeros((len(y), 1))))
        small = standardise(self._training_answers(
            "small", queries, y, splits, lambda retriever, rows: retriever.decision_function(
                _safe_indexing(queries, rows))))
        small_correct = np.argmax(small, axis=1) == y
        large_correct = self._fit_fusion(queries, y, splits, small)
        routing = fit_judge(
            self._judge_template(), None, small_correct,
            small_oof=shortlist_distribution(small), small_correct=small_correct,
            large_correct=large_correct, judge_input="small", judge_target=JUDGE_TARGET,
            cv=check_cv(self.cv, small_correct, classifier=True), groups=None,
            fallback=self._fallback(), need_confidence=share is not None,
            fit_params={}, ledger=self.ledger_, verbose=self.verbose,
            small_confidence=margin_confidence(small))
        self._set_routing(routing)
        return self

    def _judge_template(self):
        """The unfitted judge: the default KAN judge, the given one, or None (cascade)."""
        judging = judge_spec(self.judge)
        if judging == "small":
            return None
        if (judging.input, judging.target) != ("auto", "auto"):
            raise ValueError(
                f"{judging!r} sets what the judge reads or learns, but a retriever's judge "
                "always reads the small retriever's scores and learns whether its first "
                "document is right: leave input and target 'auto'.")
        if judging.estimator is None:
            return default_judge(self.random_state, judge_input="small")
        return judging.estimator

    def _fallback(self):
        """Whether the judge's routing is compared with the cascade's (``Judge(fallback=)``)."""
        judging = judge_spec(self.judge)
        return judging != "small" and judging.fallback

    def _training_answers(self, member, queries, y, splits, answer):
        """``answer(retriever, rows)`` on every training query by a retriever that did not
        learn from it: the fitted one, or fold clones for a retriever that learns from queries."""
        fitted = getattr(self, f"{member}_")
        if not getattr(getattr(self, member), "learns_from_queries", True):
            return answer(fitted, np.arange(len(y)))
        out = None
        for train, test in splits:
            with self.ledger_.timer(f"fit_oof_{member}"):
                retriever = clone(getattr(self, member)).fit(_safe_indexing(queries, train),
                                                             y[train])
            scores = answer(retriever, test)
            if out is None:
                out = np.empty((len(y), scores.shape[1]))
            out[test] = scores
        return out

    def _fit_fusion(self, queries, y, splits, small):
        """Set the fusion weight (and shortlist recall); whether the large retriever's
        answers on the training queries are right, or None when nothing needs them."""
        self.fusion_mrr_ = None
        n_candidates = self.n_candidates if self.hint == "shortlist" else None
        candidates = None if n_candidates is None else top_candidates(small, n_candidates)
        relevant = y if candidates is None else relevant_positions(candidates, y)
        self.shortlist_recall_ = None if candidates is None else float(np.mean(relevant >= 0))
        needed = self.fusion == "auto" or self._fallback()
        if not needed:
            self.fusion_weight_ = float(self.fusion)
            return None
        calls = []

        def answer(retriever, rows):
            calls.append(len(rows))
            return ask(retriever, _safe_indexing(queries, rows), small[rows], n_candidates)[1]

        with self.ledger_.timer("fit_large_answers"):
            large = self._training_answers("large", queries, y, splits, answer)
        paired = small if candidates is None else np.take_along_axis(small, candidates, axis=1)
        self.ledger_.add(fit_large_samples=len(y), fit_large_calls=len(calls),
                         fit_large_documents=large.size)
        if self.fusion == "auto":
            self.fusion_weight_, self.fusion_mrr_ = fit_fusion_weight(paired, large, relevant)
        else:
            self.fusion_weight_ = float(self.fusion)
        return np.argmax(fuse(paired, large, self.fusion_weight_), axis=1) == relevant

    def _small_answer(self, queries):
        return standardise(self.small_.decision_function(queries))

    def _own_confidence(self, small):
        return margin_confidence(small)

    def _judge_confidence(self, queries, small):
        features = probability_features(shortlist_distribution(small))
        return confidence_from_proba(self.judge_.predict_proba(features),
                                     self.judge_.classes_, JUDGE_TARGET)

    def _ask_large(self, queries, rows, small):
        """The large retriever's fused answers on ``rows`` (one call): candidates and scores."""
        n_candidates = self.n_candidates if self.hint == "shortlist" else None
        with self.ledger_.timer("predict_large"):
            candidates, large, paired = ask(self.large_, _safe_indexing(queries, rows),
                                            small[rows], n_candidates)
        self.ledger_.add(predict_large_samples=len(rows), predict_large_calls=1,
                         predict_large_documents=large.size)
        return Bunch(candidates=candidates, scores=fuse(paired, large, self.fusion_weight_))

    def decision_function(self, queries):
        """Score every document for each query; the large retriever reranks routed queries.

        The large retriever is called once, on the routed queries only, and
        scores only their shortlists (``hint="shortlist"``).

        Parameters
        ----------
        queries : array-like or list
            Queries, in the form the retrievers read.

        Returns
        -------
        ndarray of shape (n_queries, n_docs)
            Scores that rank the documents of each row (see Notes).
        """
        small, routed, answer = self._routed_answers(queries)
        if answer is None:
            return small
        out = small.copy()
        out[routed] = answer.scores if answer.candidates is None else rank_candidates_first(
            small[routed], answer.candidates, answer.scores)
        return out

    def _answers_right(self, small, large, y):
        y = check_relevant(y, len(self.classes_))
        top = np.argmax(large.scores, axis=1)
        large_pred = top if large.candidates is None else large.candidates[np.arange(len(y)), top]
        return np.argmax(small, axis=1) == y, large_pred == y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags
