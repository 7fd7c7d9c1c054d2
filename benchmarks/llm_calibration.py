"""Gemma 3 270M raw, calibrated, few-shot, with and without the hint: ``python -m
benchmarks.llm_calibration [--n-test 200]``.

A label-scoring LM prefers some labels whatever the text; on the two-class
rotten-tomatoes snippets the raw 270M model is below chance. Each variant is an
``LLMClassifier`` over the same loaded model (see :mod:`benchmarks._llm_task`),
fitted on 4,000 training snippets (which only draws its few-shot examples and
its calibration texts) and scored on the same ``--n-test`` held-out ones; the
hint is the TF-IDF + logistic regression small model's answer, as
``KCMEnsemble`` passes it. One seed: every snippet costs the CPU about a
second (a few-shot prompt, several), so the table gives the binomial standard
error of each accuracy.

Writes ``docs/benchmarks/llm_calibration/results.json`` and ``results.md``.
Needs the ``bench`` extra.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_kcm import LLMClassifier

from ._llm_task import N_TRAIN, _language_model
from ._tasks import _tfidf, load_snippets

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "llm_calibration"
VARIANTS = {  # name -> (LLMClassifier parameters, with the hint)
    "raw": (dict(), False),
    "raw + hint": (dict(), True),
    "content-free calibration": (dict(calibration="content_free"), False),
    "labelled calibration (50 texts)": (dict(calibration="labelled"), False),
    "labelled calibration + hint": (dict(calibration="labelled"), True),
    "4-shot": (dict(n_shots=4), False),
    "4-shot + labelled calibration": (dict(n_shots=4, calibration="labelled"), False),
}


def run(n_test, seed=0, log=print):
    texts, labels = load_snippets()
    rows = np.random.default_rng(seed).permutation(len(texts))
    train, test = rows[:N_TRAIN], rows[N_TRAIN:N_TRAIN + n_test]
    X_train, y_train, X_test, y_test = texts[train], labels[train], texts[test], labels[test]
    small = make_pipeline(_tfidf(), LogisticRegression(C=3, max_iter=2000)).fit(X_train, y_train)
    hint = small.predict_proba(X_test)
    results = [dict(variant="small (TF-IDF + LR)",
                    accuracy=float(np.mean(small.predict(X_test) == y_test)), seconds=0.0,
                    negative_share=float(np.mean(small.predict(X_test) == "negative")))]
    base = LLMClassifier(_language_model(), random_state=seed)
    for name, (params, with_hint) in VARIANTS.items():
        start = time.perf_counter()
        model = clone(base).set_params(**params).fit(X_train, y_train)
        predicted = model.predict(X_test, hint=hint if with_hint else None)
        seconds = time.perf_counter() - start
        results.append(dict(variant=name, accuracy=float(np.mean(predicted == y_test)),
                            seconds=seconds,
                            negative_share=float(np.mean(predicted == "negative")),
                            label_bias=model.label_bias_.tolist()))
        log(f"  {name:34s} acc={results[-1]['accuracy']:.3f} "
            f"negative={results[-1]['negative_share']:.2f} {seconds:.0f}s")
    return dict(seed=seed, n_train=N_TRAIN, n_test=n_test,
                negative_share_true=float(np.mean(y_test == "negative")), rows=results)


def render_markdown(results):
    n = results["n_test"]
    lines = [f"Seed {results['seed']}; {results['machine']}; `{results['command']}` took "
             f"{results['seconds'] / 60:.1f} min. {n} held-out snippets "
             f"({results['negative_share_true']:.0%} negative); ± is the binomial standard "
             "error.", "",
             "| variant | accuracy | answers 'negative' | label bias (neg, pos) | seconds |",
             "|---|---:|---:|---:|---:|"]
    for row in results["rows"]:
        error = np.sqrt(row["accuracy"] * (1 - row["accuracy"]) / n)
        bias = row.get("label_bias")
        bias = "–" if bias is None else f"{bias[0]:+.2f}, {bias[1]:+.2f}"
        lines.append(f"| {row['variant']} | {row['accuracy']:.3f} ± {error:.3f} | "
                     f"{row['negative_share']:.0%} | {bias} | {row['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.llm_calibration",
                                     description=__doc__)
    parser.add_argument("--n-test", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from .run import _machine

    start = time.perf_counter()
    results = run(args.n_test, args.seed)
    results.update(seconds=time.perf_counter() - start, machine=_machine(),
                   command="python -m benchmarks.llm_calibration "
                           + " ".join(argv or sys.argv[1:]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "results.md").write_text(render_markdown(results))
    print(f"wrote {args.out} in {results['seconds'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
