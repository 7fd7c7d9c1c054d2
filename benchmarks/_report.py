"""Tables and figures from the rows a benchmark run wrote.

``render_markdown(results)`` is a pure function of ``results.json``: the docs
include the markdown it produced, and a test renders it again from the JSON
to check that the two still agree.
"""

import json
import math
from pathlib import Path

import numpy as np

METHOD_ORDER = [
    "small", "large", "large + hint", "small + distillation", "cascade", "MCM (MLP judge)",
    "KCM (KAN judge)", "KCM, paper judge", "oracle (bound)",
    # the LLM ladder
    "LM, no hint", "LM + hint", "cascade + hint",
]
GROUPS = ("many", "medium", "few")


def _order(method):
    return METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER)


def aggregate(rows):
    """Mean and standard deviation over seeds, per (task, method).

    Returns ``{task: {method: {column: (mean, std)}}}``.
    """
    table = {}
    for row in rows:
        table.setdefault(row["task"], {}).setdefault(row["method"], []).append(row)
    summary = {}
    for task, methods in table.items():
        summary[task] = {}
        for method in sorted(methods, key=_order):
            runs = methods[method]
            columns = [key for key in runs[0] if key not in ("task", "method", "seed")]
            summary[task][method] = {
                column: (float(np.mean([run[column] for run in runs])),
                         float(np.std([run[column] for run in runs])))
                for column in columns
            }
    return summary


def mean_std(values, missing="-"):
    """``mean ± std`` of the values that are not None (the value alone for one; ``missing``
    for none), three decimals."""
    values = [v for v in values if v is not None]
    if not values:
        return missing
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}" if len(values) > 1 else \
        f"{values[0]:.3f}"


def _cell(value, kind, with_std):
    mean, std = value
    with_std = with_std and std > 0
    if math.isnan(mean):
        return "-" if kind != "share99" else "never"
    if kind in ("share", "share99"):
        text = f"{mean:.0%}"
        return text + (f" ± {std:.0%}" if with_std else "")
    if kind == "seconds":
        text = f"{mean:.2f}" if mean >= 0.1 else f"{mean:.3f}"
        return text + (f" ± {std:.2f}" if with_std and mean >= 0.1 else "")
    text = f"{mean:.3f}"
    return text + (f" ± {std:.3f}" if with_std else "")


def _task_table(methods, with_std):
    grouped = any("few" in columns for columns in methods.values())
    large = methods.get("large", methods.get("LM, no hint"))
    header = ["method", "accuracy"] + (list(GROUPS) if grouped else []) + [
        "to large", "calls saved", "% of large acc.", "share for 99% of large", "APGR",
        "CPT(50%)", "CPT(80%)", "fit s", "predict s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method, columns in methods.items():
        share = columns["large_share"]
        cells = [method, _cell(columns["accuracy"], "accuracy", with_std)]
        if grouped:
            cells += [_cell(columns[group], "accuracy", with_std) for group in GROUPS]
        saved = (1 - share[0], share[1])
        cells += [
            _cell(share, "share", with_std),
            "-" if share[0] == 1 else _cell(saved, "share", with_std),
            f"{columns['accuracy'][0] / large['accuracy'][0]:.1%}",
            _cell(columns["share_for_99"], "share99", False) if "share_for_99" in columns else "",
            # RouteLLM's metrics (runs recorded before them leave the cells empty)
            _cell(columns["apgr"], "accuracy", False) if "apgr" in columns else "",
            *(_cell(columns[key], "share99", False) if key in columns else ""
              for key in ("cpt_50", "cpt_80")),
            _cell(columns["fit_s"], "seconds", with_std),
            _cell(columns["predict_s"], "seconds", with_std),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def regenerate(folder):
    """Rewrite ``results.md`` of a run folder from its ``results.json`` (no rerun)."""
    folder = Path(folder)
    results = json.loads((folder / "results.json").read_text())
    (folder / "results.md").write_text(render_markdown(results))


def render_markdown(results):
    """The markdown tables of a run, from its ``results.json`` content."""
    seeds = results["seeds"]
    with_std = len(seeds) > 1
    summary = aggregate(results["rows"])
    spread = " (mean ± std over seeds)" if with_std else ""
    lines = [
        (f"Suite `{results['suite']}`, seeds {', '.join(map(str, seeds))}, budget: "
         f"{results['budget']:.0%} of the inputs to the large model{spread}. "
         f"Run with `{results['command']}` in {results['seconds'] / 60:.1f} min "
         f"({results['machine']})."),
        "",
    ]
    for task, methods in summary.items():
        info = results["tasks"][task]
        lines += [f"### {task}", "", info["description"] + ".",
                  f"Small: {info['small']}; large: {info['large']}.", ""]
        lines += _task_table(methods, with_std)
        lines += ["", f"![routing curves of {task}]({task}_routing.png)", ""]
    return "\n".join(lines).rstrip() + "\n"


def draw_curves(task, curves, large_accuracy, path):
    """Accuracy against the share sent to the large model, one line per routing method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_kcm import RoutingCurveDisplay

    figure, ax = plt.subplots(figsize=(6, 4.2))
    for method, curve in curves.items():
        RoutingCurveDisplay(
            thresholds=np.asarray(curve["thresholds"]),
            large_share=np.asarray(curve["large_share"]),
            accuracy=np.asarray(curve["accuracy"]),
            name=method, epsilon=curve["epsilon"],
        ).plot(ax=ax, show_endpoints=method == next(iter(curves)))
    ax.axhline(0.99 * large_accuracy, color="grey", linestyle=":", linewidth=1,
               label="99% of the large model")
    ax.set_title(f"{task}: accuracy vs share sent to the large model")
    ax.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
