"""Reproduce the paper's ladders offline: ``python -m benchmarks.run --suite quick|full``.

Each task (vision: digits, MNIST; tabular: long-tailed digits; language:
rotten-tomatoes snippets with a sentence encoder as the large model, and a
small generative LM through LLMClassifier on a subsample)
runs the ladder small / large / small + distillation / cascade / MCM / KCM /
KCM small_correct for each seed, and the run writes to ``--out/<suite>/``:

- ``results.json``: every row, plus what produced them (command, seeds, time);
- ``results.csv``: the same rows, flat;
- ``results.md``: the tables (mean ± std over seeds in ``full``), as included
  in the docs' benchmarks page;
- ``<task>_routing.png``: the routing curves of the first seed.

``quick`` (one seed, 4,000 snippets, 40 for the LM) takes about 8 minutes
on 2 cores; ``full`` (three seeds, all 12,808 snippets, 200 for the LM) about
42. ``language`` (three seeds) runs the snippets with a fine-tuned MiniLM as
the large model, trained to read the small model's hint (``rotten_tomatoes_ft``).

Needs the ``bench`` extra: ``pip install -e '.[bench]'``.
"""

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from ._ladder import run_ladder
from ._report import draw_curves, regenerate, render_markdown
from ._tasks import TASKS

SUITES = {
    "quick": dict(seeds=[0], tasks=["digits", "mnist", "digits_lt", "rotten_tomatoes", "llm"]),
    "full": dict(seeds=[0, 1, 2], tasks=["digits", "mnist", "digits_lt", "rotten_tomatoes",
                                         "llm"]),
    # a fine-tuned large model: every large fit fine-tunes an encoder on the CPU
    "language": dict(seeds=[0, 1, 2], tasks=["rotten_tomatoes_ft"]),
    # a large model far above the small one: mpnet-base embeddings (#32)
    "mpnet": dict(seeds=[0, 1, 2], tasks=["rotten_tomatoes_mpnet"]),
}
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"


def _machine():
    return f"{os.cpu_count()} CPU cores, torch {torch.__version__}, {torch.get_num_threads()} " \
           f"threads, Python {platform.python_version()}"


def run(suite, tasks=None, seeds=None, budget=0.25, out=DEFAULT_OUT, log=print):
    """Run a suite and write its files; returns the results dict."""
    config = SUITES[suite]
    tasks = tasks or config["tasks"]
    seeds = config["seeds"] if seeds is None else seeds
    folder = Path(out) / suite
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results = dict(suite=suite, seeds=seeds, budget=budget, machine=_machine(),
                   command="python -m benchmarks.run " + " ".join(sys.argv[1:]),
                   tasks={}, rows=[])
    for name in tasks:
        for index, seed in enumerate(seeds):
            log(f"{name}, seed {seed}")
            if name == "llm":
                try:
                    from ._llm_task import run_llm

                    info, rows, curves = run_llm(suite, seed, budget, log=log)
                except ImportError as error:
                    log(f"    skipped ({error}): pip install -e '.[bench]'")
                    break
            else:
                task = TASKS[name](suite, seed)
                info = dict(description=task.description, small=task.small_name,
                            large=task.large_name, n_train=len(task.y_train),
                            n_test=len(task.y_test))
                rows, curves = run_ladder(task, seed, budget, log=log)
            results["tasks"][name] = info
            results["rows"] += rows
            if index == 0:
                large = next(row for row in rows if row["large_share"] == 1.0)
                draw_curves(name, curves, large["accuracy"], folder / f"{name}_routing.png")
    results["seconds"] = time.perf_counter() - start
    (folder / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    with open(folder / "results.csv", "w", newline="") as handle:
        columns = list(dict.fromkeys(key for row in results["rows"] for key in row))
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(results["rows"])
    (folder / "results.md").write_text(render_markdown(results))
    log(f"wrote {folder} in {results['seconds'] / 60:.1f} min")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--suite", choices=sorted(SUITES), default="quick")
    parser.add_argument("--tasks", help="comma-separated subset of "
                        + ", ".join([*TASKS, "llm"]))
    parser.add_argument("--seeds", help="comma-separated seeds (default: the suite's)")
    parser.add_argument("--budget", type=float, default=0.25,
                        help="share of inputs each routing method may send to the large model")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--render", type=Path, metavar="FOLDER",
                        help="only rewrite FOLDER/results.md from its results.json")
    args = parser.parse_args(argv)
    if args.render:
        regenerate(args.render)
        return 0
    run(args.suite, tasks=args.tasks.split(",") if args.tasks else None,
        seeds=[int(seed) for seed in args.seeds.split(",")] if args.seeds else None,
        budget=args.budget, out=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
