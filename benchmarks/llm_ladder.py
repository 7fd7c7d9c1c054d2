"""The paper's LLM row on the snippets, read from the pool's answers: no LLM call.

``python -m benchmarks.llm_ladder [--seeds 0,1,2] [--snippets 2000]``

The pool (``benchmarks/llm_pool.py``): 2,000 snippets, each answered by
Qwen2.5-Coder-1.5B-Instruct (Q4_K_M, llama.cpp, one thread) zero-shot and with
the hint of a small model (TF-IDF + logistic regression) trained on the 10,808
snippets outside the pool. Each seed splits the pool in halves: the routers'
judges learn on one, everything is scored on the other. The small model is the
hint's, frozen (it never saw the pool, so its answers on the training half are
as honest as out-of-fold ones). The LLM is counted right everywhere while the
judges learn (``LLMClassifier`` keeps a bill: the fallback asks it nothing), so
fitting the routers costs no call; their routing curves combine their
confidences on the test half with the pool's answers.

Rows: the small model, the LLM zero-shot and hinted, then the cascade (the small
model's confidence), MCM (an MLP judge) and KCM (the default KAN judge), each
sending the hinted prompt to the LLM, and each sending the plain one: accuracy at
the 20% budget and at 10/20/30% sent, the share for 99% of the zero-shot LLM's
accuracy, APGR; the oracle bound of each. The hint table:
the LLM's accuracy with and without the hint, where the hint is right and where
it is wrong, on the whole test half and on the rows each router sends. The bill:
tokens and seconds per 1,000 snippets from the pool's run. Writes
``docs/benchmarks/llm/results.{json,md}``.
"""

import argparse
import functools
import json
import platform
import sys
import time

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split

from sklearn_kcm import (
    KCMEnsemble,
    LargeShare,
    MLPJudgeClassifier,
    oracle_routing_curve,
    routing_curve,
)
from sklearn_kcm._routing._curves import accuracy_at_share

from ._ladder import curve_summary
from ._report import mean_std
from .llm_pool import OUT, pool_and_hints, pool_llm, restore_cache

SHARES = (0.1, 0.2, 0.3)
BUDGET = 0.2
TARGET_OF_LLM = 0.99
_cell = functools.partial(mean_std, missing="")  # a blank cell where a row has no value


def routers(seed):
    """The routers compared, by name: the judge of each."""
    return {"cascade (small model's confidence)": "small",
            "MCM (MLP judge)": MLPJudgeClassifier(random_state=seed),
            "KCM (KAN judge)": None}


def hint_table(hint_right, zero_right, hinted_right):
    """The LLM's accuracy without and with the hint, where the hint is right and wrong."""
    table = {}
    for name, rows in (("hint right", hint_right), ("hint wrong", ~hint_right)):
        table[name] = {"rows": int(rows.sum()),
                       "without": float(zero_right[rows].mean()) if rows.any() else None,
                       "with": float(hinted_right[rows].mean()) if rows.any() else None}
    return table


def run_seed(seed, pool):
    texts, labels, hints, classes, small = pool
    train, test = train_test_split(np.arange(len(texts)), test_size=0.5, stratify=labels,
                                   random_state=seed)
    llm = pool_llm().fit(texts[train][:20], labels[train][:20])
    zero = llm.predict(texts[test])
    hinted = llm.predict(texts[test], hint=hints[test])
    small_pred = classes[np.argmax(hints[test], axis=1)]
    y = labels[test]
    small_right, zero_right, hinted_right = small_pred == y, zero == y, hinted == y
    target = TARGET_OF_LLM * zero_right.mean()
    rows = [dict(seed=seed, method="small (TF-IDF + LR, 10,808 snippets)",
                 accuracy=float(small_right.mean()), large_share=0.0),
            dict(seed=seed, method="LLM zero-shot", accuracy=float(zero_right.mean()),
                 large_share=1.0),
            dict(seed=seed, method="LLM with the hint", accuracy=float(hinted_right.mean()),
                 large_share=1.0)]
    tables = {"all test rows": hint_table(small_right, zero_right, hinted_right)}
    answers = {"the hint": hinted_right, "no hint": zero_right}
    for name, judge in routers(seed).items():
        start = time.perf_counter()
        kcm = KCMEnsemble(FrozenEstimator(small), pool_llm(), judge,
                          epsilon=LargeShare(BUDGET), distill=False, random_state=seed)
        kcm.fit(texts[train], labels[train])
        fit_s = time.perf_counter() - start
        assert kcm.ledger_.summary()["fit_large_calls"] == 0  # the LLM was not asked
        confidence = kcm.routing_confidence(texts[test])
        sent = confidence <= kcm.epsilon_
        for prompt, large_right in answers.items():
            _, share, accuracy = routing_curve(confidence, small_right, large_right)
            at = accuracy_at_share(share, accuracy, list(SHARES))
            rows.append(dict(seed=seed, method=f"{name}, {prompt}", fit_s=fit_s,
                             routing_by=kcm.routing_by_,
                             **{f"accuracy_at_{s:.0%}": float(a) for s, a in zip(SHARES, at)},
                             accuracy=float(np.where(sent, large_right, small_right).mean()),
                             large_share=float(sent.mean()),
                             **curve_summary(share, accuracy, target)))
        order = np.argsort(confidence, kind="stable")
        for s in SHARES:
            routed = np.zeros(len(y), bool)
            routed[order[:round(s * len(y))]] = True
            tables[f"{name}, {s:.0%} sent"] = hint_table(small_right[routed],
                                                          zero_right[routed],
                                                          hinted_right[routed])
    for prompt, large_right in answers.items():
        _, share, accuracy = oracle_routing_curve(small_right, large_right)
        rows.append(dict(seed=seed, method=f"oracle (bound), {prompt}",
                         **{f"accuracy_at_{s:.0%}": float(a) for s, a in
                            zip(SHARES, accuracy_at_share(share, accuracy, list(SHARES)))},
                         **curve_summary(share, accuracy, target)))
    return rows, tables


def _seconds_per_prompt(record):
    """The LLM's seconds a prompt in the pool's run: the median chunk (a paused or shared
    run's slow chunks do not move it); None without a record."""
    if not record or not record.get("prompts"):
        return None
    chunks = record.get("seconds_per_prompt_by_chunk")
    return float(np.median(chunks)) if chunks else record["seconds"] / record["prompts"]


def _share_for_99(values):
    """The share for 99% of the LLM over the seeds; "not reached" where a curve never got
    there (NaN), with how often."""
    values = [v for v in values if v is not None]
    reached = [v for v in values if np.isfinite(v)]
    if not values:
        return ""
    if len(reached) < len(values):
        return f"not reached in {len(values) - len(reached)} of {len(values)}"
    return _cell(reached)


def render_markdown(results):
    pool = results["pool"]
    lines = [f"`{results['command']}` on {results['machine']}; the LLM "
             f"{pool.get('model', '?')} behind llama.cpp's server, {pool.get('threads', 1)} "
             f"thread; {results['snippets']} pooled snippets, seeds {results['seeds']} "
             "(each: a judge-training half and a test half). Mean ± std over the seeds.", "",
             "| method | accuracy | share sent | LLM s / 1,000 inputs | accuracy at 10% / 20% / "
             "30% sent | share for 99% of the LLM | APGR |", "|---|---|---|---|---|---|---|"]
    seconds = {variant: _seconds_per_prompt(pool.get(variant)) for variant in
               ("zero_shot", "hinted")}
    methods = list(dict.fromkeys(row["method"] for row in results["rows"]))
    for method in methods:
        got = [row for row in results["rows"] if row["method"] == method]
        at = " / ".join(_cell([row.get(f"accuracy_at_{s:.0%}") for row in got])
                        for s in SHARES) if "accuracy_at_10%" in got[0] else ""
        # what a user pays the LLM: the share sent times its seconds a prompt (the hinted
        # prompt for the routers, which send it)
        per_prompt = seconds["zero_shot" if method == "LLM zero-shot" or method.endswith(
            "no hint") else "hinted"]
        shares = [row["large_share"] for row in got if row.get("large_share") is not None]
        bill = (f"{1000 * per_prompt * np.mean(shares):,.0f}"
                if per_prompt is not None and shares else "")
        lines.append(f"| {method} | {_cell([row.get('accuracy') for row in got])} | "
                     f"{_cell([row.get('large_share') for row in got])} | {bill} | {at} | "
                     f"{_share_for_99([row.get('share_for_99') for row in got])} | "
                     f"{_cell([row.get('apgr') for row in got])} |")
    lines += ["", "The hint, where it is right and where it is wrong (the LLM's accuracy "
              "without / with it; rows summed over the seeds):", "",
              "| rows | hint right: rows | without | with | hint wrong: rows | without | with |",
              "|---|---|---|---|---|---|---|"]
    for name in results["tables"][0]:
        cells = []
        for part in ("hint right", "hint wrong"):
            entries = [table[name][part] for table in results["tables"]]
            cells += [str(sum(e["rows"] for e in entries)),
                      _cell([e["without"] for e in entries]),
                      _cell([e["with"] for e in entries])]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    bill = []
    for variant in ("zero_shot", "hinted"):
        record = pool.get(variant)
        if record and record["prompts"]:
            per = 1000 / record["prompts"]
            chunks = record.get("seconds_per_prompt_by_chunk", [])
            bill.append(f"{variant.replace('_', '-')}: {record['prompt_tokens'] * per:,.0f} "
                        f"prompt and {record['completion_tokens'] * per:,.0f} completion tokens, "
                        f"{1000 * _seconds_per_prompt(record):,.0f} s per 1,000 snippets (the "
                        f"median of {len(chunks) or 'all'} chunks)")
    if bill:
        lines += ["", "The bill (the pool's run, one request at a time): " + "; ".join(bill)
                  + "."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.llm_ladder",
                                     description=__doc__)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--snippets", type=int, default=2000)
    args = parser.parse_args(argv)
    from .llm_pool import CACHE_DIR
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    restore_cache(OUT / "answers.jsonl", CACHE_DIR)
    texts, labels, hints, classes, small = pool_and_hints()
    n = args.snippets
    pool = (texts[:n], labels[:n], hints[:n], classes, small)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    rows, tables = [], []
    for seed in seeds:
        seed_rows, seed_tables = run_seed(seed, pool)
        rows += seed_rows
        tables.append(seed_tables)
    pool_record = json.loads((OUT / "pool.json").read_text())
    results = {"command": "python -m benchmarks.llm_ladder " + " ".join(sys.argv[1:] or []),
               "machine": f"{platform.processor() or 'CPU'}, Python "
                          f"{platform.python_version()}",
               "snippets": n, "seeds": seeds, "pool": pool_record, "rows": rows,
               "tables": tables}
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    (OUT / "results.md").write_text(render_markdown(results))
    print(render_markdown(results))


if __name__ == "__main__":
    main()
