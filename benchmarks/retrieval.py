"""Retrieval ladder, the paper's image-text row offline: ``python -m benchmarks.retrieval``.

For each task and direction of :mod:`benchmarks._retrieval_tasks` and each
seed: the small and the large retriever alone, the large one reranking the
small one's top-20 shortlist (alone and fused with the small one's scores),
and KCMRetriever at the same budget of queries sent to the large retriever
with three routers: the cascade (the margin rule: the small retriever's top-1
minus top-2 standardised score), MCM (an MLP judge) and KCM (the KAN judge, and
the KAN judge alone, without the fallback to the margin), plus KCM without the
shortlist hint. Recall@1/5/10 on the test queries, the share sent, milliseconds
per query; and, from the routing curves of the test queries, Recall@1 of each
router at equal shares.

``--suite quick`` (one seed) takes about 1.5 minutes on 2 cores, ``full``
(three seeds) about 4.5. Writes ``docs/benchmarks/retrieval/<suite>/``:
``results.json``, ``results.md`` (rendered again from the JSON by
``--render``), ``<task>_routing.png`` (first seed). Needs the ``bench`` extra.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone

from sklearn_kcm import (
    Judge,
    LargeShare,
    MLPJudgeClassifier,
    gap_recovered,
    oracle_routing_curve,
    routing_curve,
)
from sklearn_kcm._routing._curves import accuracy_at_share
from sklearn_kcm.retrieval import KCMRetriever, recall_at_k

from ._retrieval_tasks import RETRIEVAL_TASKS

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "retrieval"
SUITES = {"quick": [0], "full": [0, 1, 2]}
BUDGET = 0.3
SHARES = (0.1, 0.2, 0.3, 0.5)
KS = (1, 5, 10)
ROUTERS = ("cascade (margin rule)", "MCM (MLP judge)", "KCM (KAN judge)", "KCM, KAN judge alone")


def _methods(task, seed, budget):
    """The ladder's estimators, by name."""
    def kcm(judge=None, **params):
        return KCMRetriever(task.small, task.large, judge=judge, random_state=seed, **params)

    at_budget = dict(epsilon=LargeShare(budget))
    return {
        "small": clone(task.small),
        "large": clone(task.large),
        "large, shortlist": kcm("small", epsilon=1.0, fusion=1.0),
        "fused, shortlist": kcm("small", epsilon=1.0),
        "cascade (margin rule)": kcm("small", **at_budget),
        "MCM (MLP judge)": kcm(MLPJudgeClassifier(random_state=seed), **at_budget),
        "KCM (KAN judge)": kcm(**at_budget),
        "KCM, KAN judge alone": kcm(Judge(fallback=False), **at_budget),
        "KCM, no hint": kcm(hint=None, fusion=1.0, **at_budget),
    }


def run_task(task, seed, budget, log=print):
    """Rows of the ladder, and the test routing curves, for one task and seed."""
    rows, fitted, predictions = [], {}, {}
    n_test = len(task.y_test)
    for method, estimator in _methods(task, seed, budget).items():
        start = time.perf_counter()
        estimator.fit(task.queries_fit, task.y_fit)
        fit_seconds = time.perf_counter() - start
        if task.forget:
            task.forget()
        start = time.perf_counter()
        scores = estimator.decision_function(task.queries_test)
        seconds = time.perf_counter() - start
        share = (estimator.ledger_.summary()["predict_large_share"]
                 if hasattr(estimator, "ledger_") else float(method == "large"))
        row = dict(task=task.name, method=method, seed=seed, share=share,
                   ms_per_query=1000 * seconds / n_test, fit_s=fit_seconds,
                   **{f"recall@{k}": recall_at_k(task.y_test, scores, k) for k in KS})
        if isinstance(estimator, KCMRetriever):
            row.update(routing_by=estimator.routing_by_, weight=estimator.routing_weight_,
                       fusion=estimator.fusion_weight_, shortlist=estimator.shortlist_recall_)
        rows.append(row)
        fitted[method] = estimator
        predictions[method] = np.argmax(scores, axis=1)
        log(f"    {method}: R@1 {row['recall@1']:.3f}, sent {share:.0%}")
    small_correct = predictions["small"] == task.y_test
    large_correct = predictions["fused, shortlist"] == task.y_test  # what a routed query gets
    curves = {}
    for method in ROUTERS:
        confidence = fitted[method].routing_confidence(task.queries_test)
        _, share, recall = routing_curve(confidence, small_correct, large_correct)
        curves[method] = dict(share=share.tolist(), recall=recall.tolist())
        rows.append(_curve_row(task, f"curve: {method}", seed, share, recall))
    # the bound of every router of the same two retrievers
    _, share, recall = oracle_routing_curve(small_correct, large_correct)
    rows.append(_curve_row(task, "curve: oracle (bound)", seed, share, recall))
    return rows, curves


def _curve_row(task, method, seed, share, recall):
    """Recall@1 at the shares of SHARES, and RouteLLM's APGR, CPT(50%), CPT(80%)."""
    recovered = gap_recovered(share, recall)
    return dict(task=task.name, method=method, seed=seed,
                **{f"at {s:.0%}": float(accuracy_at_share(share, recall, s)) for s in SHARES},
                APGR=recovered["apgr"], **{f"CPT({level:.0%})": value
                                          for level, value in recovered["cpt"].items()})


def draw_curves(name, curves, rows, path):
    """Recall@1 against the share sent, one curve per router, the retrievers alone as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for method, curve in curves.items():
        ax.plot(curve["share"], curve["recall"], label=method, lw=1.3)
    for method, style in (("small", ":"), ("large", "--")):
        recall = next(row["recall@1"] for row in rows if row["method"] == method)
        ax.axhline(recall, ls=style, color="grey", lw=1, label=f"{method} alone")
    ax.set(xlabel="share of queries sent to the large retriever", ylabel="Recall@1",
           title=name)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cell(values, kind):
    values = np.asarray([v for v in values if v is not None], dtype=float)
    values = values[~np.isnan(values)]  # e.g. CPT where no gap is recovered
    if not values.size:
        return "-"
    mean, std = values.mean(), values.std()
    spread = len(values) > 1
    if kind == "share":
        return f"{mean:.0%}" + (f" ± {std:.0%}" if spread and std > 0 else "")
    if kind == "ms":
        return f"{mean:.2f}"
    return f"{mean:.3f}" + (f" ± {std:.3f}" if spread else "")


def _each(rows, key):
    return ", ".join(f"{row[key]:g}" if isinstance(row[key], float) else str(row[key])
                     for row in rows)


def render_markdown(results):
    """The tables of ``results.json``: mean ± std over seeds, per task and direction."""
    lines = [f"Seeds {results['seeds']}; {results['machine']}; `{results['command']}` took "
             f"{results['seconds'] / 60:.1f} min. Budget of the routers: "
             f"`epsilon=LargeShare({results['budget']})` (fitted on the "
             "training queries; the share the test queries sent is its own column).", ""]
    for name, info in results["tasks"].items():
        rows = [row for row in results["rows"] if row["task"] == name]
        ladder = [row for row in rows if not row["method"].startswith("curve: ")]
        kcm = [row for row in ladder if row["method"] == "KCM (KAN judge)"]
        lines += [
            f"### {name}", "",
            f"{info['description']}. Small: {info['small']}; large: {info['large']}. "
            f"KCM's routing per seed: {_each(kcm, 'routing_by')} (judge weight "
            f"{_each(kcm, 'weight')}); fusion weight of the large retriever "
            f"{_each(kcm, 'fusion')}; the small top-20 holds "
            f"the relevant document for {_cell([r['shortlist'] for r in kcm], 'share')} of "
            "the training queries.", "",
            "| method | Recall@1 | Recall@5 | Recall@10 | sent to large | ms / query |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for method in dict.fromkeys(row["method"] for row in ladder):
            mine = [row for row in ladder if row["method"] == method]
            cells = [_cell([row[f"recall@{k}"] for row in mine], "recall") for k in KS]
            cells += [_cell([row["share"] for row in mine], "share"),
                      _cell([row["ms_per_query"] for row in mine], "ms")]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        curves = [row for row in rows if row["method"].startswith("curve: ")]
        # runs recorded before APGR and CPT have the shares only
        columns = [key for key in curves[0] if key.startswith(("at ", "APGR", "CPT"))]
        lines += ["", "Recall@1 of the test queries at equal shares sent to the large "
                  "retriever (the routing curves; routed queries get the fused shortlist), "
                  "with RouteLLM's APGR and CPT(x) of each curve and the oracle's bound:", "",
                  "| router | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
        for method in dict.fromkeys(row["method"] for row in curves):
            mine = [row for row in curves if row["method"] == method]
            lines.append(f"| {method.removeprefix('curve: ')} | " + " | ".join(
                _cell([row[column] for row in mine],
                      "share" if column.startswith("CPT") else "recall")
                for column in columns) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.retrieval", description=__doc__)
    parser.add_argument("--suite", choices=list(SUITES), default="quick")
    parser.add_argument("--tasks", default=",".join(RETRIEVAL_TASKS))
    parser.add_argument("--budget", type=float, default=BUDGET)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--render", action="store_true",
                        help="only rewrite results.md from results.json")
    args = parser.parse_args(argv)
    folder = args.out / args.suite
    folder.mkdir(parents=True, exist_ok=True)
    if args.render:
        results = json.loads((folder / "results.json").read_text())
        (folder / "results.md").write_text(render_markdown(results))
        return 0
    from .run import _machine

    seeds = SUITES[args.suite]
    results = dict(suite=args.suite, seeds=seeds, budget=args.budget, machine=_machine(),
                   command="python -m benchmarks.retrieval " + " ".join(argv or sys.argv[1:]),
                   tasks={}, rows=[])
    start = time.perf_counter()
    for name in args.tasks.split(","):
        for index, seed in enumerate(seeds):
            print(f"{name}, seed {seed}", flush=True)
            for task in RETRIEVAL_TASKS[name](seed):
                print(f"  {task.name}", flush=True)
                rows, curves = run_task(task, seed, args.budget,
                                        log=lambda text: print(text, flush=True))
                results["tasks"].setdefault(task.name, dict(
                    description=task.description, small=task.small_name,
                    large=task.large_name))
                results["rows"] += rows
                if index == 0:
                    draw_curves(task.name, curves, rows, folder / (
                        task.name.split()[0] + "_" + task.name.split()[-1].replace("->", "_to_")
                        + "_routing.png"))
    results["seconds"] = time.perf_counter() - start
    (folder / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (folder / "results.md").write_text(render_markdown(results))
    print((folder / "results.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
