"""Peak memory of a KAN judge on wide sparse input: ``python benchmarks/bench_memory.py``.

The LLM guide shows ``make_pipeline(TfidfVectorizer(), KANJudgeClassifier())``.
Each configuration fits that judge on synthetic documents (``n_docs`` texts
over a vocabulary of ``n_words`` words) in a fresh subprocess, which reports
its peak resident memory (``ru_maxrss``) before and after the fit; the growth
is what the judge costs, next to the size of the sparse TF-IDF matrix it
reads. One run, one machine: the ratios compare within it.
"""

import argparse
import json
import subprocess
import sys

CONFIGS = [(4_000, 4_000), (4_000, 8_000), (10_000, 20_000)]

CHILD = """
import json, resource, sys
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn_kcm import KANJudgeClassifier

n_docs, n_words = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
words = np.array([f"w{i}" for i in range(n_words)])
# Zipf-like word frequencies, 30 words a document; the label follows the first 50 words
draws = rng.zipf(1.3, size=(n_docs, 30)) % n_words
texts = [" ".join(words[row]) for row in draws]
y = (np.isin(draws, np.arange(50)).sum(axis=1) > 3).astype(int)
X = TfidfVectorizer(token_pattern=r"\\S+").fit_transform(texts)
matrix_mb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
judge = make_pipeline(TfidfVectorizer(token_pattern=r"\\S+"),
                      KANJudgeClassifier(max_epochs=2, random_state=0)).fit(texts, y)
judge.predict_proba(texts)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(n_docs=n_docs, n_words=X.shape[1], matrix_mb=matrix_mb,
                      growth_mb=after - before)))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--configs", default=",".join(f"{d}x{w}" for d, w in CONFIGS),
                        help="comma-separated n_docs x n_words")
    args = parser.parse_args(argv)
    print(f"{'docs':>7} {'words':>7} {'TF-IDF MB':>10} {'judge fit+predict MB':>21} {'ratio':>7}")
    for config in args.configs.split(","):
        n_docs, n_words = config.split("x")
        out = subprocess.run([sys.executable, "-c", CHILD, n_docs, n_words], check=True,
                             capture_output=True, text=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        print(f"{row['n_docs']:>7} {row['n_words']:>7} {row['matrix_mb']:>10.1f} "
              f"{row['growth_mb']:>21.0f} {row['growth_mb'] / row['matrix_mb']:>7.0f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
