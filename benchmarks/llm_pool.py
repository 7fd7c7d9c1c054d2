"""Ask a competent LLM once per snippet and prompt variant, and keep every answer.

``python -m benchmarks.llm_pool [--snippets 2000] [--variants zero_shot,hinted] [--threads 1]``

The LLM rows of the language ladder cost about a second a prompt on two CPU
cores, so the LLM is asked once per snippet and variant, and every later run
(each seed's split, each router) reads the answers. The pool: 2,000 of the
12,808 rotten-tomatoes snippets, drawn once (seed 0); the other 10,808 train
the small model (TF-IDF + logistic regression) whose answer is the hint, so
the hinted prompts are the same whatever split a seed draws inside the pool.
The LLM: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (Apache-2.0 upstream;
:func:`~benchmarks._wheels.qwen_coder_path` joins it from PyPI and checks its
sha256), behind ``python -m llama_cpp.server`` on loopback, asked by
``LLMClassifier(OpenAIChat(...))`` one request at a time with the default
prompt (the text delimited as data; "Answer with the label only").

Answers land in the classifier's disk cache and, as they come, in
``docs/benchmarks/llm/answers.jsonl`` (the cache file's name, i.e. the
SHA-256 of the model and prompt, and the stored answer): a run that stops
resumes from it, and a fresh machine rebuilds the cache from it. The seconds
and tokens of each variant go to ``pool.json`` (the seconds per prompt of every
chunk too: the bill quotes the median chunk, which a paused or shared run does
not move). Needs ``make test-integration``'s
``llama-cpp-python[server]``.
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone

from sklearn_kcm._testing._llama_server import LlamaServer
from sklearn_kcm.llm import LLMClassifier, OpenAIChat

from ._tasks import _tfidf, load_snippets
from ._wheels import CACHE, QWEN_CODER_FILE, qwen_coder_path

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "llm"
CACHE_DIR = CACHE / "llm_answers" / "qwen2.5-coder-1.5b"
MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"
POOL = 2000
CHUNK = 25  # prompts between two saves
# the server's address is part of every answer's cache key (OpenAIChat.cache_key): a fixed
# port keeps the keys the same from run to run
PORT = 18437
BASE_URL = f"http://127.0.0.1:{PORT}/v1"


def pool_and_hints():
    """The pool's texts and labels, the hint (the small model's probabilities on them), the
    classes and the small model, learnt from the snippets outside the pool."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, labels = load_snippets()
    order = np.random.default_rng(0).permutation(len(texts))
    pool, rest = order[:POOL], order[POOL:]
    small = make_pipeline(_tfidf(), LogisticRegression(C=3, max_iter=2000))
    small.fit(texts[rest], labels[rest])
    return (texts[pool], labels[pool], small.predict_proba(texts[pool]), small.classes_,
            small)


def pool_llm():
    """The LLM classifier whose answers the pool keeps: asking it again reads them."""
    return LLMClassifier(OpenAIChat(MODEL, base_url=BASE_URL, timeout=600),
                         max_concurrency=1, cache=str(CACHE_DIR), on_error="uniform")


def restore_cache(answers_file, cache_dir):
    """Write every answer of ``answers_file`` into the disk cache; the keys it holds."""
    keys = set()
    if not answers_file.exists():
        return keys
    for line in answers_file.read_text().splitlines():
        entry = json.loads(line)
        path = cache_dir / entry["key"][:2] / f"{entry['key']}.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(entry["answer"]))
        keys.add(entry["key"])
    return keys


def save_new_answers(answers_file, cache_dir, saved):
    """Append the cache's answers not in ``saved`` (updated) to ``answers_file``."""
    with open(answers_file, "a") as out:
        for path in sorted(cache_dir.glob("*/*.json")):
            if path.stem not in saved:
                out.write(json.dumps({"key": path.stem,
                                      "answer": json.loads(path.read_text())}) + "\n")
                saved.add(path.stem)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.llm_pool", description=__doc__)
    parser.add_argument("--snippets", type=int, default=POOL)
    parser.add_argument("--variants", default="zero_shot,hinted")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    answers_file, summary_file = OUT / "answers.jsonl", OUT / "pool.json"
    saved = restore_cache(answers_file, CACHE_DIR)
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    texts, labels, hints, _, _ = pool_and_hints()
    texts, labels, hints = texts[:args.snippets], labels[:args.snippets], hints[:args.snippets]
    with LlamaServer(qwen_coder_path(), threads=args.threads, port=PORT, startup_timeout=300):
        llm = pool_llm()
        llm.fit(texts[:20], labels[:20])  # the label set only: no shots
        variants = args.variants.split(",")
        # chunk by chunk, every variant: the first n snippets are complete for any n
        for start in range(0, len(texts), CHUNK):
            rows = slice(start, start + CHUNK)
            for variant in variants:
                record = summary.setdefault(variant, {"prompts": 0, "seconds": 0.0,
                                                      "prompt_tokens": 0,
                                                      "completion_tokens": 0})
                clf = clone(llm).fit(texts[:20], labels[:20])
                began = time.perf_counter()
                clf.predict(texts[rows], hint=hints[rows] if variant == "hinted" else None)
                usage = clf.usage_.summary()
                if usage["calls"]:
                    seconds = time.perf_counter() - began
                    record["prompts"] += usage["calls"]
                    record["seconds"] += seconds
                    # per chunk too: a run that was paused (or shared the cores) has slow
                    # chunks, and the bill quotes the median chunk
                    record.setdefault("seconds_per_prompt_by_chunk", []).append(
                        round(seconds / usage["calls"], 3))
                    record["prompt_tokens"] += usage.get("prompt_tokens", 0)
                    record["completion_tokens"] += usage.get("completion_tokens", 0)
            save_new_answers(answers_file, CACHE_DIR, saved)
            summary_file.write_text(json.dumps(
                {**summary, "model": QWEN_CODER_FILE[0], "threads": args.threads,
                 "machine": f"{platform.processor() or 'CPU'}, Python "
                            f"{platform.python_version()}"}, indent=1))
            print(f"{min(start + CHUNK, len(texts))}/{len(texts)} snippets: " + ", ".join(
                f"{v} {summary[v]['seconds'] / max(summary[v]['prompts'], 1):.2f} s a prompt"
                for v in variants), flush=True)


if __name__ == "__main__":
    main()
