"""`make serve` rebuilds only what a save changed, and serves what a full build would (docexec/serve_hook.py).

Both tests run `make serve`'s own command (tools/bench_serve.py reads it with `make -n`) on a copy in a temporary
folder, save files, and fetch the served pages over HTTP until the change shows.
"""

import json
import os
import shutil

import pytest

from conftest import ROOT
from tools import bench_serve
from tools.bench_serve import PAGE, URL

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
FAILED = "This example failed when the site was built"


def test_make_serve_shows_a_prose_save_a_code_save_and_a_failing_block(tmp_path):
    """The course itself: each save shows on the served page, a changed block runs again (its page alone), a
    wrong output is the failure box, and the next save recovers."""
    bench_serve.copy_site(tmp_path)
    page = tmp_path / PAGE
    original = page.read_text(encoding="utf-8")
    block = '```python\nprint("saved", 6 * 7)\n```\n\n```text title="Output"\n{}\n```\n'
    with bench_serve.served(tmp_path) as server:
        server.shown(URL, "Computing gradients")
        server.save(page, bench_serve.prose_edit(original, "Saved once."), URL, "Saved once.")

        server.save(page, f"{original}\n{block.format('saved 41')}", URL, FAILED)
        assert "+saved 42" in server.page(URL)  # the box's diff: the block ran
        builds = [line for line in server.log.read_text().splitlines() if "docexec:" in line]
        assert builds[-1].endswith(" on 1 pages verified (0 from the cache), 1 failed"), builds[-1]

        server.save(page, f"{original}\n{block.format('saved 42')}", URL, "saved 42", absent=FAILED)


NOTEBOOK = {
    "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Notebook"]}],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}


def test_a_rebuild_keeps_search_links_nav_tooltips_and_the_notebook_cache_as_a_full_build_has_them(tmp_path):
    """Each save below breaks one thing MkDocs' --dirty rebuild gets wrong alone."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "snippets").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nAD, and a [link](other.md#part).\n")
    (tmp_path / "docs" / "other.md").write_text("# Other\n\n## Part\n\nText.\n")
    (tmp_path / "docs" / "notebook.ipynb").write_text(json.dumps(NOTEBOOK))
    (tmp_path / "snippets" / "abbreviations.md").write_text("*[AD]: first meaning\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        f"site_name: t\ntheme: material\nhooks: [{ROOT / 'docexec' / 'serve_hook.py'}]\n"
        "plugins: [search, {mkdocs-jupyter: {include: ['*.ipynb']}}]\n"
        "nav: [{Home: index.md}, {Other: other.md}, {Notebook: notebook.ipynb}]\n"
        "validation: {links: {anchors: warn}}\n"
        "markdown_extensions: [abbr, toc, {pymdownx.snippets: {base_path: [snippets], auto_append: [abbreviations.md]}}]\n"
    )
    notebook_cache = tmp_path / ".cache" / "mkdocs-jupyter"
    with bench_serve.served(tmp_path) as server:
        assert len(list(notebook_cache.glob("*.json"))) == 1
        # The home page rebuilt: Material's own merge would keep its entries alone.
        server.save(tmp_path / "docs" / "index.md", "# Home\n\nAD, and a [link](other.md#part). Saved.\n", "/", "Saved.")
        index = json.loads(server.page("/search/search_index.json"))
        assert {entry["location"].partition("#")[0] for entry in index["docs"]} == {"", "other/", "notebook/"}
        assert len(list(notebook_cache.glob("*.json"))) == 1, "mkdocs-jupyter evicted the notebook it did not render"
        # Saved again while the last build ran: older than the page it built, yet not what that build read.
        home = tmp_path / "docs" / "index.md"
        read = home.stat().st_mtime_ns
        home.write_text("# Home\n\nAD, and a [link](other.md#part). Saved twice.\n")
        os.utime(home, ns=(read + 1_000_000, read + 1_000_000))
        server.shown("/", "Saved twice.")
        # A heading renamed: the link to it on the page not rebuilt is reported.
        server.save(tmp_path / "docs" / "other.md", "# Other\n\n## Piece\n\nText.\n", "/other/", "Piece")
        assert "Doc file 'index.md' contains a link 'other.md#part'" in server.log.read_text()
        # The nav renamed in mkdocs.yml, the abbreviations changed: every page shows it.
        server.save(config, config.read_text().replace("{Other: other.md}", "{Elsewhere: other.md}"), "/", "Elsewhere")
        server.save(tmp_path / "snippets" / "abbreviations.md", "*[AD]: second meaning\n", "/", 'title="second meaning"')
