"""The main job, `python -m sklearn_kcm demo`, end to end on a small bundled set."""

import io

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
