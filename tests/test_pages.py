"""Every course page, run uncached through the engine the build uses: one test per page.

`pytest --update-outputs` (or `make update`) writes what the blocks print into the pages instead.
"""

import os

import pytest

from conftest import ROOT
from docexec import diagram, engine, notebook

PAGES = sorted((ROOT / "docs").rglob("*.md"))


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_page_outputs(path, request):
    page = path.relative_to(ROOT).as_posix()
    text = path.read_bytes().decode("utf-8")  # keep \r\n, if any: update must change nothing else
    os.chdir(ROOT)  # pages see the same working directory as in `mkdocs build`
    run = engine.verify(text, page, snippets_dir=ROOT / "snippets")
    if request.config.getoption("--update-outputs"):
        updated = engine.update(run)
        if updated != text:
            path.write_bytes(updated.encode("utf-8"))
        run.failures = [f for f in run.failures if f.problem is not None]  # what update could not fix
    assert not run.failures, "\n\n".join(failure.report() for failure in run.failures)
    for notebook_path, expected in notebook.files_for(run, diagram.to_svg).items():
        target = ROOT / notebook_path
        if request.config.getoption("--update-outputs"):
            target.parent.mkdir(exist_ok=True)
            target.write_text(expected, encoding="utf-8")
        problem = notebook.out_of_date(ROOT, notebook_path, expected)
        assert problem is None, f"{page}: {problem}"
