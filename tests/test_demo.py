"""The main job, `python -m sklearn_kcm demo`, end to end on a small bundled set."""

import io
import re
from pathlib import Path

import matplotlib.image
import pytest

from sklearn_kcm.__main__ import demo, main


def test_demo_prints_the_ladder_and_writes_the_curves(tmp_path):
    out = io.StringIO()
    figure = tmp_path / "curves.png"
    rows = demo("iris", figure=str(figure), out=out)
    text = out.getvalue()
    for name in ("small", "large", "cascade", "MCM", "KCM"):
        assert name in text
    assert "calls saved" in text and f"written to {figure}" in text
    assert [name.split()[0] for name in rows] == ["small", "large", "cascade", "MCM", "KCM"]
    assert all(0 <= row["large_share"] <= 1 and 0 < row["accuracy"] <= 1
               for row in rows.values())
    image = matplotlib.image.imread(figure)
    assert image.shape[0] > 200 and image.shape[1] > 300


def test_unknown_dataset_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--dataset", "imagenet"])
    assert "invalid choice" in capsys.readouterr().err


ROOT = Path(__file__).resolve().parents[1]
# the demo is seeded; the judges' float sums may differ in the last bits with the number of
# torch threads or the kernel in use, which can move a row or two across a threshold
ACCURACY_TOLERANCE, SHARE_TOLERANCE = 0.003, 1


def _quoted_table(page):
    """The lines of the page's block after "What `make demo` prints"."""
    text = page.read_text()
    block = text[text.index("What `make demo` prints"):]
    block = block[block.index("```\n") + 4:]
    return block[:block.index("```")].rstrip("\n").splitlines()


def _numbers(line):
    return [float(n) for n in re.findall(r"[-+]?\d+\.\d+|\d+", line.replace(",", ""))]


@pytest.fixture(scope="module")
def demo_output():
    out = io.StringIO()
    demo(figure="", out=out)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("model "))
    end = next(i for i, line in enumerate(lines) if line.startswith("seconds"))
    return lines[start:end - 1]


@pytest.mark.parametrize("page", ["README.md", "docs/getting_started.md"])
def test_the_pages_quote_what_the_demo_prints(page, demo_output):
    quoted = _quoted_table(ROOT / page)
    assert len(quoted) == len(demo_output)
    for mine, printed in zip(quoted, demo_output):
        # the same words, and the same numbers within the tolerance
        assert re.sub(r"[-+]?[\d.,]+%?", "#", mine) == re.sub(r"[-+]?[\d.,]+%?", "#", printed)
        for a, b in zip(_numbers(mine), _numbers(printed)):
            tolerance = SHARE_TOLERANCE if "%" in mine else ACCURACY_TOLERANCE
            assert abs(a - b) <= tolerance + 1e-9, (page, mine, printed)


def test_the_demo_says_where_kcm_pays_and_where_it_would_not(demo_output):
    text = "\n".join(demo_output)
    assert "the routers tie within noise" in text  # it points at the other case
    gains = _numbers(text[text.index("KCM minus cascade:"):].splitlines()[0])
    noise = gains[6]
    assert all(gain > 2 * noise for gain in gains[0:6:2])  # beyond noise at every share


def test_the_readme_is_a_newcomers_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 100
    for part in ("## Install", "pip install", "make demo", "make test", "```python",
                 "docs/benchmarks.md", "CITATION.cff"):
        assert part in readme


def test_the_citation_file_names_the_library_and_the_paper():
    yaml = pytest.importorskip("yaml")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software"
    assert citation["title"] and citation["message"] and citation["authors"]
    (paper,) = citation["references"]
    assert paper["title"].startswith("KCM: KAN-Based Collaboration Models")
    assert paper["type"] and paper["authors"]


def test_show_versions_prints_what_a_bug_report_needs(capsys):
    assert main(["show-versions"]) == 0
    out = capsys.readouterr().out
    for part in ("sklearn_kcm: 0.1.0", "scikit-learn:", "torch:", "skorch:",
                 "torch threads:", "KAN kernel:", "GPU:"):
        assert part in out
