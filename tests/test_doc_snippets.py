"""The Python snippets of the README and the docs run as shown, page by page.

Each page's ``python`` blocks run in order in one namespace, as a reader would
type them; a block whose first line is ``# not run by the docs test: <why>``
(an OpenAI key, a Dask cluster) is skipped, and says so on the page.
"""

import re
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "docs" / "user_guide").glob("*.md"))]
SKIP = "# not run by the docs test:"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(page):
    return [block for block in BLOCK.findall(page.read_text()) if not block.startswith(SKIP)]


@pytest.mark.parametrize("page", [page for page in PAGES if _blocks(page)],
                         ids=lambda page: str(page.relative_to(ROOT)))
def test_the_snippets_of_a_page_run(page, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # a snippet may write files
    namespace = {}
    for number, block in enumerate(_blocks(page), start=1):
        try:
            exec(compile(block, f"{page.name}, python block {number}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"{page.name}, python block {number} fails: {error!r}\n"
                                 f"{block}") from error


def test_every_skipped_snippet_says_why():
    for page in PAGES:
        for block in BLOCK.findall(page.read_text()):
            if block.startswith(SKIP):
                assert len(block.splitlines()[0]) > len(SKIP) + 5, page
