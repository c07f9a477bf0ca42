"""The thin MkDocs side of the engine: verify and render every page while the site is built.

Named under `hooks:` in mkdocs.yml. Every failing block is logged as an error with its place, so a
strict build reports all of them and then fails. DOCEXEC=off builds without executing anything.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # MkDocs loads hooks by path, not as a package
from docexec import diagram, engine  # noqa: E402

log = logging.getLogger("mkdocs.plugins.docexec")
RENDERERS = {"markdown": lambda text: text, "diagram": diagram.to_svg}
_state: dict = {}


def on_config(config):
    root = Path(config.config_file_path).parent
    snippets = config.mdx_configs.get("pymdownx.snippets", {}).get("base_path", ["snippets"])
    _state.update(
        root=root,
        cache=engine.Cache(root / ".cache" / "docexec"),
        snippets=root / (snippets[0] if isinstance(snippets, list) else snippets),
        execute=os.environ.get("DOCEXEC", "on") != "off",
    )


def on_pre_build(config):
    _state.update(pages=0, blocks=0, cached=0, failed=0)


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
    return rendered


def on_post_build(config):
    log.info(
        "docexec: %(blocks)d blocks on %(pages)d pages verified (%(cached)d from the cache), %(failed)d failed",
        _state,
    )
