"""Does distillation pay? ``python -m benchmarks.distill few-labels|stream|llm-teacher|knobs
[--seeds 0,1,2]``.

``few-labels``: the training rows keep their label with probability 5%, 10%
or 25% (per class; rotten-tomatoes snippets: 500 labels), the rest are passed
with y = -1. Rungs: the small and the large model fitted on the labelled rows
alone, and the small model after ``KCMEnsemble.fit`` distilled the large one
into it, with the paper's settings (confidence threshold epsilon = 0.98,
temperature 1), and with every answer of the large model sharpened at
temperature 0.25 or softened at 2 (Hinton's setting; a neural small model
learns it on logits / T with the loss times T²), with the mean of the large and
the small model's answers at 0.25 (``Distillation(mix=0.5)``), and with the share of
the small model's answer chosen out of fold (``mix="auto"``: 0 or 0.5,
whichever fixes more answers net in the check). ``digits_kan`` is digits with
a one-layer KAN as the small model. ``closed`` is the share of the small-to-large gap on the
test set that distillation closed; ``taught`` says how often the out-of-fold
check let the large model teach (it refuses when distillation would make the
small model worse). Routing is the cascade: this measures the small model.

``stream``: MNIST and digits, the ensemble with the defaults but its budget
(``epsilon="auto"``, 30% routed at the start) fitted on 5% (MNIST) or 20%
(digits) of the training rows; the other rows arrive as 20 unlabelled batches.
For each batch, before learning from it: the share routed to the large model
and the accuracy of the ensemble on it; then ``partial_fit(batch)`` without
labels (the large model's answers on the routed rows teach, unless the
out-of-fold check refuses them), and the test accuracy of the ensemble and of
the small model alone.

``llm-teacher``: the snippets with Gemma 3 270M (``bench`` extra) as the
large model, 100 labelled and 300 unlabelled training snippets: the small model
alone, the LM alone and with the small model's hint, and the small model after
the LM taught it the unlabelled snippets (one seed: each LM call costs about a
second).

``knobs``: the parameters that tune the loop, each against the same base
(the default judge, the large model's every answer on the unlabelled rows at
temperature 0.25, 10% and 25% of the labels, three seeds): more rounds
(``distill_rounds``), fewer or more passes of a small model that learns soft
labels (``distill_epochs``, the KAN of ``digits_kan``; a logistic regression
is refitted, so they change nothing there), a lighter or heavier teacher row
(``distill_weight``; and with every label given, 30% of them drawn at random)
and the judge's answers on the easy rows as teachers too
(``distill="both"``, the paper's ``L_js``; it makes the large model teach the
labelled rows as well, from out-of-fold fits). The small model's test accuracy
after, and the ensemble's at 20% of the inputs sent to the large model.

In ``few-labels``, ``knobs`` and ``llm-teacher``, steps before a model's final one
(scaling, PCA, a TF-IDF vocabulary) learn no label: they are fitted on every
training row, labelled or not, and frozen. The stream's rows arrive after the
fit, so there they are fitted on the labelled start.

Writes ``docs/benchmarks/distill/results.json``, ``results.md`` and
``stream.png``.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_kcm import Distillation, KANClassifier, KCMEnsemble, LargeShare

from ._report import mean_std
from ._tasks import TASKS

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "distill"
FRACTIONS = (0.05, 0.10, 0.25)
SNIPPET_LABELS = 500
LLM_RUNGS = {
    "student after the LM taught, T 0.25": dict(distill=Distillation(threshold=0.0, mix=0.0,
                                                                     temperature=0.25)),
    "student after the LM taught, mean, T 0.25": dict(distill=Distillation(threshold=0.0, mix=0.5,
                                                                           temperature=0.25)),
}
RUNGS = {
    "distilled, paper (eps 0.98, T 1)": dict(distill=Distillation(threshold=None, mix=0.0,
                                                                  temperature=1.0)),
    "distilled, all answers at T 0.25": dict(distill=Distillation(threshold=0.0, mix=0.0,
                                                                  temperature=0.25)),
    "distilled, all answers at T 2": dict(distill=Distillation(threshold=0.0, mix=0.0,
                                                               temperature=2.0)),
    "distilled, mean of large and small at T 0.25": dict(
        distill=Distillation(threshold=0.0, mix=0.5, temperature=0.25)),
    "distilled, mix chosen out of fold at T 0.25": dict(
        distill=Distillation(threshold=0.0, mix="auto", temperature=0.25)),
}


def label_some(y, fraction, seed, count=None):
    """A boolean mask keeping ``fraction`` of each class (at least 3), or ``count`` rows."""
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(y), dtype=bool)
    if count is not None:
        for label in np.unique(y):  # stratified: the same share of every class
            rows = np.flatnonzero(y == label)
            keep[rng.choice(rows, round(count * len(rows) / len(y)), replace=False)] = True
        return keep
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        keep[rng.choice(rows, max(3, round(fraction * len(rows))), replace=False)] = True
    return keep


def _preprocessing_on_every_row(model, X):
    """``model`` with the steps before its final one fitted on every training row and frozen.

    Scaling, PCA and a vocabulary learn no label: with few labels they are best fitted on
    every row. Fitted on the labelled rows alone, a pixel that is almost constant there
    (MNIST at 5%) is scaled by its tiny spread, the unlabelled rows reach values in the
    thousands, and the distilled logistic regression needs ~8x the iterations.
    """
    if not hasattr(model, "steps") or len(model.steps) < 2:
        return model
    fitted = make_pipeline(*[clone(step) for _, step in model.steps[:-1]]).fit(X)
    return make_pipeline(FrozenEstimator(fitted), clone(model.steps[-1][1]))


def _task(name, seed):
    task = TASKS[name.removesuffix("_kan")]("full", seed)
    if name.endswith("_kan"):  # a neural small model: it learns the soft targets directly
        task.small = make_pipeline(StandardScaler(), KANClassifier(
            hidden_layer_sizes=(), max_epochs=60, random_state=seed))
        task.small_name = "one-layer KAN"
    task.small = _preprocessing_on_every_row(task.small, task.X_train)
    task.large = _preprocessing_on_every_row(task.large, task.X_train)
    return task


def few_labels(name, fraction, seed, log=print):
    task = _task(name, seed)
    X_train, y_train = task.X_train, task.y_train
    keep = (label_some(y_train, None, seed, count=SNIPPET_LABELS) if fraction is None
            else label_some(y_train, fraction, seed))
    X_labelled = X_train[keep] if isinstance(X_train, np.ndarray) else np.asarray(X_train)[keep]
    text_labels = y_train.dtype.kind in "OU"  # strings beside -1: an object array
    y_semi = np.where(keep, y_train.astype(object) if text_labels else y_train, -1)
    small = clone(task.small).fit(X_labelled, y_train[keep])
    large = clone(task.large).fit(X_labelled, y_train[keep])
    before, large_accuracy = small.score(task.X_test, task.y_test), large.score(task.X_test,
                                                                                 task.y_test)
    label = f"{SNIPPET_LABELS} labels" if fraction is None else f"{fraction:.0%} labels"
    rows = [dict(task=name, labels=label, seed=seed, method="small", accuracy=before),
            dict(task=name, labels=label, seed=seed, method="large", accuracy=large_accuracy)]
    # MNIST skips the T 2 rung: with a logistic regression it never passed the check on
    # digits, and each check refits the small model on 38,000 expanded rows per fold
    rungs = {k: v for k, v in RUNGS.items() if not (name == "mnist" and "T 2" in k)}
    for rung, params in rungs.items():
        start = time.perf_counter()
        kcm = KCMEnsemble(task.small, task.large, judge="small", cv=task.cv, unlabelled_label=-1,
                          **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the check's refusal, recorded below
            kcm.fit(X_train, y_semi)
        after = kcm.small_.score(task.X_test, task.y_test)
        gap = large_accuracy - before
        rows.append(dict(
            task=name, labels=label, seed=seed, method=rung, accuracy=after,
            closed=(after - before) / gap if gap > 0.005 else None,
            taught=bool(kcm.unlabelled_teacher_["used"]), check=kcm.unlabelled_teacher_,
            teacher_samples=kcm.distillation_[0]["teacher_samples"],
            seconds=time.perf_counter() - start))
        log(f"    {label:>10} {rung:<34} {before:.3f} -> {after:.3f} (large {large_accuracy:.3f})"
            f" taught={rows[-1]['taught']} mix={kcm.distill_mix_}")
    return rows


KNOB_BASE = Distillation(threshold=0.0, mix=0.0, temperature=0.25)
# the teachers of each rung
KNOB_RUNGS = {
    "base (1 round, 10 epochs, weight 1, the large model teaches)": "auto",
    # distill_rounds (2, 3), distill_epochs (3, 30) and distill_weight (0.5, 2) were
    # measured here too, in version 0.1, and removed: their rows stay in results.json
    "distill='large' (+ the labelled rows, out of fold)": "large",
    "distill='judge' (the judge on easy rows, no large)": "judge",
    "distill='both' (+ the judge on easy rows)": "both",
}
KNOB_FRACTIONS = (0.10, 0.25)
# the teachers of each rung; a teacher weighed above the labels (distill_weight 3) was
# measured no better than weight 1 and removed: its rows stay in results.json
NOISY_RUNGS = {
    "noisy labels: no distillation": False,
    "noisy labels: distill='large', weight 1": "large",
}
NOISE = 0.3


def noisy_labels(name, seed, log=print):
    """Every training row labelled, :data:`NOISE` of the labels drawn at random: whether
    the large model's out-of-fold answers clean them."""
    task = _task(name, seed)
    rng = np.random.default_rng(seed)
    noisy = task.y_train.copy()
    flip = rng.random(len(noisy)) < NOISE
    noisy[flip] = rng.choice(np.unique(task.y_train), flip.sum())
    label = f"every label, {NOISE:.0%} noisy"
    rows = [dict(task=name, labels=label, seed=seed, method="small alone",
                 accuracy=clone(task.small).fit(task.X_train, noisy).score(task.X_test,
                                                                           task.y_test))]
    for rung, teachers in NOISY_RUNGS.items():
        start = time.perf_counter()
        kcm = KCMEnsemble(task.small, task.large, judge="small", cv=task.cv,
                          epsilon=LargeShare(0.2),
                          distill=Distillation(teachers, threshold=0.3, temperature=1.0))
        kcm.fit(task.X_train, noisy)
        rows.append(dict(task=name, labels=label, seed=seed, method=rung,
                         accuracy=kcm.small_.score(task.X_test, task.y_test),
                         ensemble=kcm.score(task.X_test, task.y_test), taught=None,
                         seconds=time.perf_counter() - start))
        log(f"    {label} {rung:<45} {rows[0]['accuracy']:.3f} -> {rows[-1]['accuracy']:.3f}")
    return rows


def knobs(name, fraction, seed, rungs=KNOB_RUNGS, log=print):
    """Each rung of ``rungs`` on ``fraction`` of the labels of task ``name``."""
    task = _task(name, seed)
    keep = label_some(task.y_train, fraction, seed)
    y_semi = np.where(keep, task.y_train, -1)
    before = clone(task.small).fit(task.X_train[keep], task.y_train[keep]).score(
        task.X_test, task.y_test)
    label = f"{fraction:.0%} labels"
    rows = [dict(task=name, labels=label, seed=seed, method="small alone", accuracy=before)]
    for rung, teachers in rungs.items():
        start = time.perf_counter()
        kcm = KCMEnsemble(task.small, task.large, cv=task.cv, unlabelled_label=-1,
                          epsilon=LargeShare(0.2), random_state=seed,
                          distill=clone(KNOB_BASE).set_params(teachers=teachers))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the check's refusal, recorded below
            kcm.fit(task.X_train, y_semi)
        rows.append(dict(
            task=name, labels=label, seed=seed, method=rung,
            accuracy=kcm.small_.score(task.X_test, task.y_test),
            ensemble=kcm.score(task.X_test, task.y_test),
            taught=None if kcm.unlabelled_teacher_ is None else kcm.unlabelled_teacher_["used"],
            teacher_samples=sum(r["teacher_samples"] for r in kcm.distillation_),
            seconds=time.perf_counter() - start))
        log(f"    {label:>10} {rung:<45} {before:.3f} -> {rows[-1]['accuracy']:.3f}, "
            f"ensemble {rows[-1]['ensemble']:.3f}, {rows[-1]['seconds']:.1f} s")
    return rows


def every_label(name, seed):
    """The small model trained on every training label: the most distillation could reach."""
    task = _task(name, seed)
    small = clone(task.small).fit(task.X_train, task.y_train)
    return dict(task=name, labels="every label", seed=seed, method="small",
                accuracy=small.score(task.X_test, task.y_test))


# the labelled start of each stream task: 5% of MNIST's 4,000 training images, 20% of
# digits' 1,257 (5% would leave 6 images a class)
STREAM_START = {"mnist": 0.05, "digits": 0.2}


def stream(name, seed, batches=20, log=print):
    # the rows of a stream are not there yet at fit time: preprocessing fitted on the start
    task = TASKS[name]("full", seed)
    keep = label_some(task.y_train, STREAM_START[name], seed)
    # the defaults but the budget: the default judge, the distillation's settings and
    # the out-of-fold check of every batch's teacher rows
    kcm = KCMEnsemble(task.small, task.large, epsilon=LargeShare(0.3), cv=task.cv,
                      random_state=seed)
    kcm.fit(task.X_train[keep], task.y_train[keep])
    order = np.random.default_rng(seed).permutation(np.flatnonzero(~keep))
    rows = []
    for index, batch in enumerate(np.array_split(order, batches)):
        X, y = task.X_train[batch], task.y_train[batch]
        routed = kcm.route(X)
        accuracy = float(np.mean(kcm.predict(X) == y))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # refused batches are counted below
            kcm.partial_fit(X)  # no labels: the large model's answers on the routed rows teach
        record = kcm.distillation_[-1]
        rows.append(dict(task=name, seed=seed, batch=index, share=float(routed.mean()),
                         accuracy=accuracy,
                         test_accuracy=float(kcm.score(task.X_test, task.y_test)),
                         small_test_accuracy=float(kcm.small_.score(task.X_test, task.y_test)),
                         teacher_rows=record["teacher_samples"],
                         refused=record["method"] == "refused"))
        log(f"    {name} batch {index:2d}: {routed.mean():.0%} routed, accuracy {accuracy:.3f}"
            f", small {rows[-1]['small_test_accuracy']:.3f}, refused {rows[-1]['refused']}")
    return rows


def llm_teacher(seed, n_labels=100, n_unlabelled=300, n_test=200, log=print):
    """The snippets with a local generative LM as the large model: it answers the
    unlabelled snippets, with the small model's answer as its hint, and teaches."""
    from sklearn.linear_model import LogisticRegression

    from sklearn_kcm import LLMClassifier

    from ._llm_task import _language_model
    from ._tasks import _tfidf, load_snippets

    texts, labels = load_snippets()
    order = np.random.default_rng(seed).permutation(len(texts))
    labelled, test = order[:n_labels], order[n_labels + n_unlabelled:][:n_test]
    X = texts[order[:n_labels + n_unlabelled]]
    y = np.concatenate([labels[labelled].astype(object), np.full(n_unlabelled, -1, object)])
    small = _preprocessing_on_every_row(
        make_pipeline(_tfidf(), LogisticRegression(C=3, max_iter=2000)), X)
    large = LLMClassifier(_language_model(), calibration="labelled", random_state=seed)
    plain = clone(small).fit(texts[labelled], labels[labelled])
    fitted_large = clone(large).fit(texts[labelled], labels[labelled])
    hint = plain.predict_proba(texts[test])
    rows = [dict(method="small alone", accuracy=plain.score(texts[test], labels[test])),
            dict(method="LM alone", accuracy=fitted_large.score(texts[test], labels[test])),
            dict(method="LM + hint", accuracy=float(np.mean(
                fitted_large.predict(texts[test], hint=hint) == labels[test])))]
    for row in rows:
        log(f"    {row['method']:<40} {row['accuracy']:.3f}")
    for rung, params in LLM_RUNGS.items():
        start = time.perf_counter()
        kcm = KCMEnsemble(small, large, judge="small", cv=2, unlabelled_label=-1, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the check's refusal, recorded
            kcm.fit(X, y)
        rows.append(dict(method=rung, accuracy=kcm.small_.score(texts[test], labels[test]),
                         taught=bool(kcm.unlabelled_teacher_["used"]),
                         check=kcm.unlabelled_teacher_,
                         lm_calls=int(kcm.ledger_.summary()["fit_large_samples"]),
                         seconds=time.perf_counter() - start))
        log(f"    {rung:<40} {rows[-1]['accuracy']:.3f} taught={rows[-1]['taught']} "
            f"({rows[-1]['lm_calls']} LM calls, {rows[-1]['seconds']:.0f} s)")
    return [dict(seed=seed, n_labels=n_labels, n_unlabelled=n_unlabelled, n_test=n_test,
                 **row) for row in rows]


def _taught(rows):
    known = [r["taught"] for r in rows if r.get("taught") is not None]
    return f"{sum(known)}/{len(known)}" if known else "-"


def render_markdown(results):
    """The tables of ``results.json``: mean ± std over seeds."""
    lines = [f"Mean ± std over the seeds (column `seeds`); {results['machine']}; "
             f"`{results['command']}` took {sum(results['seconds_by_part'].values()) / 60:.1f} "
             "min in all.", ""]
    if results.get("few_labels"):
        lines += ["### Few labels", "",
                  "`every label`: the small model trained on every training label. `gap closed`: "
                  "the share of the small-to-large gap that distillation closed; `of reachable`: "
                  "of the gap to the lower of the large model and `every label` (a linear model "
                  "does not reach an SVM's accuracy from any labels). `hurt`: the seeds where "
                  "the small model ended less accurate than alone.", "",
                  "| task | labels | seeds | small alone | large alone | every label | rung | "
                  "small after | gap closed | of reachable | taught | hurt |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        rows = results["few_labels"]

        def accuracy_of(task, labels, seed, method="small"):
            return next(r["accuracy"] for r in rows if (r["task"], r["labels"], r["seed"],
                                                        r["method"]) == (task, labels, seed,
                                                                         method))

        def reachable_closed(r):
            before = accuracy_of(r["task"], r["labels"], r["seed"])
            reach = min(accuracy_of(r["task"], r["labels"], r["seed"], "large"),
                        accuracy_of(r["task"], "every label", r["seed"]))
            return (r["accuracy"] - before) / (reach - before) if reach - before > 0.005 else None

        keys = list(dict.fromkeys((r["task"], r["labels"]) for r in rows
                                  if r["labels"] != "every label"))
        for task, labels in keys:
            mine = [r for r in rows if r["task"] == task and r["labels"] == labels]
            small = mean_std([r["accuracy"] for r in mine if r["method"] == "small"])
            large = mean_std([r["accuracy"] for r in mine if r["method"] == "large"])
            ceiling = mean_std([r["accuracy"] for r in rows
                                 if r["task"] == task and r["labels"] == "every label"])
            for rung in RUNGS:
                got = [r for r in mine if r["method"] == rung]
                if not got:
                    continue
                taught = f"{sum(r['taught'] for r in got)}/{len(got)}"
                distillation = RUNGS[rung].get("distill")
                if distillation is not None and distillation.mix == "auto":  # each seed's
                    taught += " (mix " + ", ".join(f"{r['check']['mix']:g}" for r in got) + ")"
                seeds = len({r["seed"] for r in got})
                hurt = sum(r["accuracy"] < accuracy_of(task, labels, r["seed"]) for r in got)
                lines.append(f"| {task} | {labels} | {seeds} | {small} | {large} | {ceiling} | "
                             f"{rung} | {mean_std([r['accuracy'] for r in got])} | "
                             f"{mean_std([r['closed'] for r in got])} | "
                             f"{mean_std([reachable_closed(r) for r in got])} | {taught} | "
                             f"{hurt}/{len(got)} |")
        lines.append("")
    if results.get("stream"):
        lines += ["### Stream", "",
                  "The defaults but the budget (`epsilon=LargeShare(0.3)`): the "
                  "default KAN judge, `Distillation(threshold=0.0, temperature=0.25)`, each "
                  "batch's teacher rows checked out of fold on the labelled start.", ""]
        for name in dict.fromkeys(r.get("task", "mnist") for r in results["stream"]):
            rows = [r for r in results["stream"] if r.get("task", "mnist") == name]
            n = max(r["batch"] for r in rows) + 1
            first = [r for r in rows if r["batch"] == 0]
            last = [r for r in rows if r["batch"] == n - 1]
            share_first, share_last = (np.mean([r["share"] for r in first]),
                                       np.mean([r["share"] for r in last]))
            lines += [f"#### {name}", "", f"Seeds {sorted({r['seed'] for r in rows})}; "
                      f"{sum(r.get('refused', False) for r in rows)} of {len(rows)} batches "
                      "refused by the check.", "",
                      "| batch | routed to large | accuracy on the batch | test accuracy | "
                      "small alone, test |", "|---|---|---|---|---|"]
            for index in range(n):
                got = [r for r in rows if r["batch"] == index]
                lines.append(f"| {index + 1} | {mean_std([r['share'] for r in got])} | "
                             f"{mean_std([r['accuracy'] for r in got])} | "
                             f"{mean_std([r['test_accuracy'] for r in got])} | "
                             f"{mean_std([r['small_test_accuracy'] for r in got])} |")
            early = [r for r in rows if r["batch"] < 5]
            late = [r for r in rows if r["batch"] >= n - 5]
            early_share, late_share = (np.mean([r["share"] for r in early]),
                                       np.mean([r["share"] for r in late]))
            lines += ["", f"Share routed, first batch {share_first:.1%}, last "
                      f"{share_last:.1%}; over the first five batches {early_share:.1%}, the "
                      f"last five {late_share:.1%} ({1 - late_share / early_share:.0%} lower), "
                      "accuracy on those batches "
                      f"{np.mean([r['accuracy'] for r in early]):.3f} and "
                      f"{np.mean([r['accuracy'] for r in late]):.3f}.", ""]
    if results.get("knobs"):
        rows = results["knobs"]
        lines += ["", "### The loop's knobs", "",
                  "Each rung changes one parameter of the base (see the module docstring). "
                  "`small after`: the small model's test accuracy; `ensemble`: the ensemble's, "
                  "20% of the inputs to the large model; `seconds`: the ensemble's fit.", "",
                  "| task | labels | rung | seeds | small alone | small after | ensemble | "
                  "taught | seconds |", "|---|---|---|---|---|---|---|---|---|"]
        for task, labels in dict.fromkeys((r["task"], r["labels"]) for r in rows):
            alone = [r["accuracy"] for r in rows if (r["task"], r["labels"], r["method"])
                     == (task, labels, "small alone")]
            for rung in dict.fromkeys(r["method"] for r in rows if r["method"] != "small alone"):
                got = [r for r in rows if (r["task"], r["labels"], r["method"])
                       == (task, labels, rung)]
                if got:
                    lines.append(
                        f"| {task} | {labels} | {rung} | {len(got)} | {mean_std(alone)} | "
                        f"{mean_std([r['accuracy'] for r in got])} | "
                        f"{mean_std([r['ensemble'] for r in got])} | "
                        f"{_taught(got)} | "
                        f"{np.mean([r['seconds'] for r in got]):.1f} |")
    if results.get("llm_teacher"):
        rows = results["llm_teacher"]
        first = rows[0]
        lines += ["", "### A local LM as the teacher", "",
                  f"Rotten-tomatoes snippets, {first['n_labels']} labelled and "
                  f"{first['n_unlabelled']} unlabelled training snippets, {first['n_test']} "
                  f"test snippets; Gemma 3 270M, its label bias fitted on 50 labelled "
                  f"snippets; seeds {sorted({r['seed'] for r in rows})}.", "",
                  "| model | accuracy | taught | LM calls in fit | seconds |",
                  "|---|---|---|---|---|"]
        for method in dict.fromkeys(r["method"] for r in rows):
            got = [r for r in rows if r["method"] == method]
            taught = (f"{sum(r['taught'] for r in got)}/{len(got)}" if "taught" in got[0]
                      else "")
            calls = (f"{np.mean([r['lm_calls'] for r in got]):.0f}" if "lm_calls" in got[0]
                     else "")
            seconds = (f"{np.mean([r['seconds'] for r in got]):.0f}" if "seconds" in got[0]
                       else "")
            lines.append(f"| {method} | {mean_std([r['accuracy'] for r in got])} | {taught} | "
                         f"{calls} | {seconds} |")
    return "\n".join(lines) + "\n"


def draw_stream(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(r["batch"] for r in rows) + 1
    share = [np.mean([r["share"] for r in rows if r["batch"] == i]) for i in range(n)]
    accuracy = [np.mean([r["accuracy"] for r in rows if r["batch"] == i]) for i in range(n)]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    batches = np.arange(1, n + 1)
    ax.plot(batches, share, "o-", label="share sent to the large model")
    ax.set_xlabel("unlabelled batch of the stream")
    ax.set_ylabel("share routed")
    ax.set_ylim(0, max(share) * 1.2)
    other = ax.twinx()
    other.plot(batches, accuracy, "s-", color="C1", label="accuracy on the batch")
    other.set_ylabel("accuracy")
    other.set_ylim(min(accuracy) - 0.05, 1.0)
    fig.legend(loc="lower left", bbox_to_anchor=(0.12, 0.15))
    ax.set_title("MNIST stream: the small model learns from the large one's answers")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distill", description=__doc__)
    parser.add_argument("what", choices=["few-labels", "stream", "llm-teacher", "knobs",
                                         "render"])
    parser.add_argument("--tasks", default="digits,digits_kan,mnist,rotten_tomatoes")
    parser.add_argument("--seeds", help="default 0,1,2; 0 for llm-teacher (a second per LM "
                                            "call)")
    parser.add_argument("--rungs", help="knobs: run the rungs whose names hold one of these "
                                        "';'-separated parts (default: all)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    if args.what != "render":
        import os
        import platform

        import torch

        default_seeds = "0" if args.what == "llm-teacher" else "0,1,2"
        seeds = [int(seed) for seed in (args.seeds or default_seeds).split(",")]
        seconds = results.setdefault("seconds_by_part", {})  # parts may run apart
        if args.what == "few-labels":
            names = args.tasks.split(",")
            # the rows of the tasks not run now are kept
            rows = [row for row in results.get("few_labels", []) if row["task"] not in names]
            for name in names:
                start = time.perf_counter()
                for seed in seeds:
                    print(f"{name}, seed {seed}", flush=True)
                    fractions = [None] if name.startswith("rotten_tomatoes") else FRACTIONS
                    rows.append(every_label(name, seed))
                    for fraction in fractions:
                        rows += few_labels(name, fraction, seed,
                                           log=lambda text: print(text, flush=True))
                    results["few_labels"] = rows
                    seconds[f"few-labels {name}"] = time.perf_counter() - start
                    path.write_text(json.dumps(results, indent=1) + "\n")  # after each seed
        elif args.what == "knobs":
            start, new = time.perf_counter(), []

            def chosen(table):
                return {rung: params for rung, params in table.items() if args.rungs is None
                        or any(part in rung for part in args.rungs.split(";"))}

            rungs, noisy_rungs = chosen(KNOB_RUNGS), chosen(NOISY_RUNGS)
            for name in args.tasks.split(","):
                for seed in seeds:
                    print(f"knobs, {name}, seed {seed}", flush=True)
                    for fraction in KNOB_FRACTIONS if rungs else ():
                        new += knobs(name, fraction, seed, rungs,
                                     log=lambda text: print(text, flush=True))
                    if noisy_rungs:
                        new += noisy_labels(name, seed, log=lambda text: print(text, flush=True))

            def key(row):
                return row["task"], row["labels"], row["seed"], row["method"]

            # the rows of an earlier run that this one did not redo are kept
            done = {key(row) for row in new}
            results["knobs"] = [row for row in results.get("knobs", [])
                                if key(row) not in done] + new
            seconds["knobs"] = seconds.get("knobs", 0.0) + time.perf_counter() - start
        elif args.what == "llm-teacher":
            start, rows = time.perf_counter(), []
            for seed in seeds:
                print(f"llm-teacher, seed {seed}", flush=True)
                rows += llm_teacher(seed, log=lambda text: print(text, flush=True))
            results["llm_teacher"] = rows
            seconds["llm-teacher"] = time.perf_counter() - start
        else:
            start, rows = time.perf_counter(), []
            for name in STREAM_START:
                for seed in seeds:
                    print(f"stream {name}, seed {seed}", flush=True)
                    rows += stream(name, seed, log=lambda text: print(text, flush=True))
            results["stream"] = rows
            draw_stream([r for r in rows if r["task"] == "mnist"], args.out / "stream.png")
            seconds["stream"] = time.perf_counter() - start
        results.pop("seconds", None)  # the total of an older layout
        results.update(
            machine=f"{os.cpu_count()} CPU cores, torch {torch.__version__}, Python "
                    f"{platform.python_version()}",
            command="python -m benchmarks.distill few-labels|stream|llm-teacher|knobs")
        path.write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "results.md").write_text(render_markdown(results))
    print((args.out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
