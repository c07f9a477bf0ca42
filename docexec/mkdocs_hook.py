"""The thin MkDocs side of the engine: verify and render every page while the site is built.

Named under `hooks:` in mkdocs.yml. Every failing block is logged as an error with its place, so a
strict build reports all of them and then fails. DOCEXEC=off builds without executing anything.
"""

from __future__ import annotations

import logging
import os
import posixpath
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # MkDocs loads hooks by path, not as a package
from docexec import diagram, engine, notebook  # noqa: E402

log = logging.getLogger("mkdocs.plugins.docexec")
RENDERERS = {"markdown": lambda text: text, "diagram": diagram.to_svg}
_state: dict = {}


def on_config(config):
    root = Path(config.config_file_path).parent
    snippets = config.mdx_configs.get("pymdownx.snippets", {}).get("base_path", ["snippets"])
    repository = config.extra.get("repository") or ""
    if repository and not config.edit_uri:
        # An absolute edit_uri without repo_url: an edit link, and no request to the GitHub API from the page.
        config.edit_uri = f"https://github.com/{repository}/edit/main/docs/"
    _state.update(
        root=root,
        cache=engine.Cache(root / ".cache" / "docexec"),
        snippets=root / (snippets[0] if isinstance(snippets, list) else snippets),
        execute=os.environ.get("DOCEXEC", "on") != "off",
        repository=repository,
    )


def on_pre_build(config):
    _state.update(pages=0, blocks=0, cached=0, failed=0, chapter_notebooks={})


def _links(page_path: str, src_uri: str, notebooks: dict) -> str:
    """Download (and, with a public repository configured, Colab) links for the page's notebooks."""
    links = []
    for path in notebooks:
        kind = "exercises" if "/exercises/" in path else "chapter"
        in_docs = path.split("/", 1)[1]
        relative = posixpath.relpath(in_docs, posixpath.dirname(src_uri) or ".")
        label = "Exercises notebook" if kind == "exercises" else "Chapter notebook"
        links.append(f'[:material-download: {label}]({relative}){{ .md-button download="{posixpath.basename(path)}" }}')
        if _state["repository"] and kind == "chapter":
            colab = f"https://colab.research.google.com/github/{_state['repository']}/blob/main/{path}"
            links.append(f"[:simple-googlecolab: Open in Colab]({colab}){{ .md-button }}")
    return " ".join(links)


def _keep_notebooks(notebooks: dict) -> None:
    """Chapter notebooks are written into the site after the build, fresh from this run (the copies in
    docs/notebooks/ serve Colab, and the tests check them). Exercise notebooks are rendered from docs/exercises/
    by mkdocs-jupyter, so a stale one is an error."""
    for path, text in notebooks.items():
        if "/notebooks/" in path:
            _state["chapter_notebooks"][path.split("/", 1)[1]] = text
            continue
        problem = notebook.out_of_date(_state["root"], path, text)
        if problem:
            log.error(problem)


def on_page_markdown(markdown, page, config, files):
    source = Path(page.file.abs_src_path)
    page_path = source.relative_to(_state["root"]).as_posix()
    raw = source.read_text(encoding="utf-8")
    line_offset = raw[: len(raw) - len(markdown)].count("\n") if raw.endswith(markdown) else 0
    try:
        run = engine.verify(
            markdown, page_path, _state["cache"], _state["snippets"], line_offset, execute=_state["execute"]
        )
        rendered = engine.render(run, RENDERERS)
    except engine.PageError as error:
        log.error(str(error))
        return markdown
    for failure in run.failures:
        log.error(failure.report())
    _state["pages"] += bool(run.blocks)
    _state["blocks"] += len(run.blocks)
    _state["cached"] += len(run.blocks) if run.cached else 0
    _state["failed"] += len(run.failures)
    if not run.blocks:
        return rendered
    notebooks = notebook.files_for(run, diagram.to_svg) if _state["execute"] else {}
    _keep_notebooks(notebooks)
    links = _links(page_path, page.file.src_uri, notebooks)
    if links:  # under the page's title
        head, sep, rest = rendered.partition("\n")
        rendered = f"{head}\n\n{links}\n{sep}{rest}" if head.startswith("# ") else f"{links}\n\n{rendered}"
    python = run.environment.get("python", "")
    versions = f"torch {run.environment['torch']} and Python {python}" if run.environment else "nothing (DOCEXEC=off)"
    return rendered + f"\n\n---\n\nEvery output on this page was printed by {versions} when the site was built.\n{{: .torch-stamp }}\n"


def on_post_build(config):
    for path, text in _state["chapter_notebooks"].items():
        target = Path(config.site_dir) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    log.info(
        "docexec: %(blocks)d blocks on %(pages)d pages verified (%(cached)d from the cache), %(failed)d failed",
        _state,
    )
