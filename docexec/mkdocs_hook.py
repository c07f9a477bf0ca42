"""The thin MkDocs side of the engine: verify and render every page while the site is built.

Named under `hooks:` in mkdocs.yml. Every page is submitted to the runner as soon as the files are known
(`on_files`; in a dirty build, as `make serve`'s, every page MkDocs renders again), so the pages run, in
processes of their own, while MkDocs loads the theme and the nav; each `on_page_markdown` collects its page's
run. Every failing block is logged as an error with its place, so a strict build reports all of them and then
fails. DOCEXEC=off builds without executing anything.
"""

from __future__ import annotations

import html
import logging
import os
import posixpath
import re
import sys
from pathlib import Path

from mkdocs.utils import meta

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # MkDocs loads hooks by path, not as a package
from docexec import annotations, diagram, engine, figures, notebook, runner  # noqa: E402

log = logging.getLogger("mkdocs.plugins.docexec")
RENDERERS = {"markdown": lambda text: text, "diagram": diagram.to_svg, "figure": figures.html_for}
_state: dict = {}


def on_startup(command, dirty):
    _state["dirty"] = dirty  # MkDocs then renders only the files it finds modified: only those run


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
    _state.update(pages=0, blocks=0, cached=0, failed=0, chapter_notebooks={}, submitted={}, failures=[])
    if _state["execute"] and not all(_is_cached(path) for path in Path(config.docs_dir).rglob("*.md")):
        runner.Runner.start_server()  # torch is imported while the plugins collect their files


def _is_cached(path: Path) -> bool:
    try:
        markdown, offset = _markdown(path)
    except (OSError, UnicodeDecodeError):
        return True
    page = path.resolve().relative_to(_state["root"]).as_posix()
    return engine.is_cached(markdown, page, _state["cache"], _state["snippets"], offset)


def _markdown(path: Path) -> tuple[str, int]:
    """A page's Markdown as MkDocs passes it to `on_page_markdown` (front matter removed), and the number of
    lines removed: the engine reports the file's own line numbers."""
    raw = path.read_text(encoding="utf-8-sig")
    markdown, _ = meta.get_data(raw)
    return markdown, _line_offset(raw, markdown)


def _line_offset(raw: str, markdown: str) -> int:
    return raw[: len(raw) - len(markdown)].count("\n") if raw.endswith(markdown) else 0


def on_files(files, config):
    """Submit every page now: they run while MkDocs goes on with the theme and the nav."""
    if not _state["execute"]:
        return files
    _state["runner"] = runner.Runner(_state["root"])
    pages = []
    for file in files.documentation_pages():
        if not file.src_uri.endswith(".md") or (_state.get("dirty") and not file.is_modified()):
            continue
        source = Path(file.abs_src_path)
        try:
            markdown, offset = _markdown(source)
        except (OSError, UnicodeDecodeError):
            continue  # MkDocs reports it when it reads the page
        pages.append((file.src_uri, markdown, source.relative_to(_state["root"]).as_posix(), offset))
    futures = _state["runner"].submit_all([page[1:] for page in pages], _state["cache"], _state["snippets"])
    for (src_uri, markdown, _, _), future in zip(pages, futures):
        _state["submitted"][src_uri] = (markdown, future)
    return files


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


def _keep_notebooks(notebooks: dict, run: engine.PageRun) -> None:
    """Chapter notebooks are written into the site after the build, fresh from this run (the copies in
    docs/notebooks/ serve Colab, and the tests check them). Exercise notebooks are rendered from docs/exercises/
    by mkdocs-jupyter, so a stale one is an error."""
    for path, text in notebooks.items():
        if "/notebooks/" in path:
            _state["chapter_notebooks"][path.split("/", 1)[1]] = text
            continue
        problem = notebook.out_of_date(_state["root"], path, text, run)
        if problem:
            log.error(problem)


def on_page_markdown(markdown, page, config, files):
    source = Path(page.file.abs_src_path)
    page_path = source.relative_to(_state["root"]).as_posix()
    submitted, future = _state["submitted"].get(page.file.src_uri, (None, None))
    try:
        if future and submitted == markdown:
            run = future.result()
        else:  # not submitted, or changed by another plugin since: run the page as it will be shown
            line_offset = _line_offset(source.read_text(encoding="utf-8-sig"), markdown)
            run = engine.verify(
                markdown, page_path, _state["cache"], _state["snippets"], line_offset, _state["execute"],
                _state["runner"].run if _state["execute"] else None,
            )
        rendered = engine.render(run, RENDERERS)
    except engine.PageError as error:
        log.error(str(error))
        return markdown
    for failure in run.failures:
        log.error(failure.report())
    for result in run.uncompared:  # no silent skip: said on every build of this platform
        log.info("docexec: %s:%d ran; its output is compared only on %s", result.page, result.line, ", ".join(result.block.platforms))
    _state["failures"] += run.failures
    _state["pages"] += bool(run.blocks)
    _state["blocks"] += len(run.blocks)
    _state["cached"] += len(run.blocks) if run.cached else 0
    _state["failed"] += len(run.failures)
    if not run.blocks:
        return rendered
    notebooks = notebook.files_for(run, diagram.to_svg) if _state["execute"] else {}
    _keep_notebooks(notebooks, run)
    links = _links(page_path, page.file.src_uri, notebooks)
    if links:  # under the page's title
        head, sep, rest = rendered.partition("\n")
        rendered = f"{head}\n\n{links}\n{sep}{rest}" if head.startswith("# ") else f"{links}\n\n{rendered}"
    return rendered + f"\n\n---\n\n{stamp(run.environment)}\n{{: .torch-stamp }}\n"


def stamp(environment: dict) -> str:
    """The sentence under each page naming the versions of the run: escaped, so it is shown as text."""
    if not environment:
        return "No output on this page was executed in this build (DOCEXEC=off)."
    versions = f"torch {environment['torch']} and Python {environment['python']}"
    escaped = re.sub(r"([\\`*_{}\[\]()#+\-.!|~])", r"\\\1", html.escape(versions, quote=False))
    return f"Every output on this page was printed by {escaped} when the site was built."


def on_serve(server, config, builder):
    if _state["execute"]:
        runner.Runner.start_server()  # the first code edit does not wait for torch's import
    return server


def _close_runner() -> None:
    if _state.get("runner"):
        _state.pop("runner").close()


def on_build_error(error):
    _close_runner()


def on_post_build(config):
    _close_runner()
    annotations.report(_state["failures"], heading="Failing examples in the site build")
    for path, text in _state["chapter_notebooks"].items():
        target = Path(config.site_dir) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    log.info(
        "docexec: %(blocks)d blocks on %(pages)d pages verified (%(cached)d from the cache), %(failed)d failed",
        _state,
    )
