"""Every course page, run uncached by the runner the build uses (a fresh process per page, pages in
parallel): one test per page.

`pytest --update-outputs` (or `make update`) writes what the blocks print into the pages instead.
"""

import pytest

from conftest import ROOT
from docexec import annotations, diagram, engine, notebook
from docexec.runner import Runner

PAGES = sorted((ROOT / "docs").rglob("*.md"))
UNCOMPARED = []  # the results of blocks that ran but whose output this platform does not compare


def page_name(path):
    return path.relative_to(ROOT).as_posix()


@pytest.fixture(scope="module")
def runs(request):
    """Every selected page submitted at once; each test waits for its own."""
    selected = [item.callspec.params["path"] for item in request.session.items if item.fspath == request.fspath]
    runner = Runner(ROOT)
    texts = {path: path.read_bytes().decode("utf-8") for path in selected}  # keep \r\n: update changes nothing else
    submitted = runner.submit_all([(text, page_name(path), 0) for path, text in texts.items()], snippets_dir=ROOT / "snippets")
    futures = dict(zip(texts, submitted))
    yield texts, futures
    runner.close()


@pytest.mark.parametrize("path", PAGES, ids=page_name)
def test_page_outputs(path, runs, request):
    texts, futures = runs
    text, run = texts[path], futures[path].result()
    if request.config.getoption("--update-outputs"):
        updated = engine.update(run)
        if updated != text:
            path.write_bytes(updated.encode("utf-8"))
        run.failures = [f for f in run.failures if f.problem is not None]  # what update could not fix
    UNCOMPARED.extend(run.uncompared)  # listed at the end of the session (conftest.py)
    annotations.report(run.failures, heading=f"Failing examples of {page_name(path)}")  # in GitHub Actions
    assert not run.failures, "\n\n".join(failure.report() for failure in run.failures)
    kept = notebook.files_for(run, diagram.to_svg)
    if request.config.getoption("--update-outputs"):
        for notebook_path, expected in kept.items():
            (ROOT / notebook_path).parent.mkdir(exist_ok=True)
            (ROOT / notebook_path).write_text(expected, encoding="utf-8")
    problems = notebook.stale(ROOT, kept, run)
    assert not problems, f"{page_name(path)}: " + "\n".join(problems)
