"""`make serve` rebuilds only what a save changed: `mkdocs serve --dirty`, made to serve what a full build makes.

With --dirty, MkDocs renders only the files whose output is older than their source; alone, that serves a wrong
site. This hook, first under `hooks:` in mkdocs.yml (its events run after the plugins' and before the other
hooks'), keeps what the last build made and corrects the rebuild:
- a file is rebuilt when its source changed since the last build read it (MkDocs' own rule loses a save made
  while a build runs);
- a change to mkdocs.yml (the nav), to snippets/ (the abbreviations on every page, included code) or
  overrides/, or a file added or removed, rebuilds everything from an empty folder; snippets/ and overrides/
  are watched too;
- links to anchors are checked on every page, the pages not rebuilt with the anchors and links of their last
  render, so a heading renamed on one page reports the links to it on the others;
- the search index keeps every page (Material's own merge keeps one page alone when that page is the home page);
- mkdocs-jupyter's cache is left alone in a partial rebuild (it would evict every notebook not rendered).
The docexec hook runs only the pages MkDocs rebuilds. `mkdocs build` and `mkdocs serve` without --dirty are
untouched.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from mkdocs.structure.files import InclusionLevel
from mkdocs.utils import clean_directory

_serving: dict = {}  # {"on": True} under `mkdocs serve --dirty`
_last: dict = {}  # what the last complete build read and made: sources, settings, anchors, search
_build: dict = {}  # the build under way


def on_startup(command, dirty):
    _serving["on"] = command == "serve" and dirty
    if _serving["on"]:  # MkDocs warns on every rebuild that a dirty one is inaccurate: this hook makes it accurate
        logging.getLogger("mkdocs.commands.build").addFilter(lambda record: "'dirty' build" not in record.getMessage())


def _folders(config) -> list[Path]:
    root = Path(config.config_file_path).parent
    snippets = config.mdx_configs.get("pymdownx.snippets", {}).get("base_path", [])
    folders = [root / folder for folder in ([snippets] if isinstance(snippets, str) else snippets)]
    return folders + ([Path(config.theme.custom_dir)] if config.theme.custom_dir else [])


def on_serve(server, config, builder):
    if _serving.get("on"):
        for folder in _folders(config):
            if folder.is_dir():
                server.watch(str(folder))
    return server


def _mtime(path: str | None) -> int | None:
    try:
        return os.stat(path).st_mtime_ns if path else None
    except OSError:
        return None


def _settings(config) -> dict[str, int | None]:
    files = [Path(config.config_file_path)] + [path for folder in _folders(config) for path in folder.rglob("*")]
    return {str(path): _mtime(str(path)) for path in files}


def on_pre_build(config):
    search = config.plugins.get("material/search")
    if _serving.get("on") and search is not None:
        search.search_index_prev = None  # on_post_build merges the index instead


def on_files(files, config):
    """Decide what this build renders: MkDocs asks each file `is_modified()` in a dirty build."""
    if not _serving.get("on"):
        return files
    sources = {file.src_uri: _mtime(file.abs_src_path) for file in files}
    settings = _settings(config)
    full = not _last or sources.keys() != _last["sources"].keys() or settings != _last["settings"]
    if full and _last:
        clean_directory(config.site_dir)
    for file in files:
        changed = full or sources[file.src_uri] is None or sources[file.src_uri] != _last["sources"][file.src_uri]
        file.is_modified = lambda changed=changed: changed
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None and not full:
        jupyter.config["cache"] = False  # else it evicts the cached render of every notebook this build skips
    _build.update(sources=sources, settings=settings, full=full, files=files)
    return files


def on_env(env, config, files):
    """Give the pages this build does not render the anchors and links of their last render: MkDocs then checks
    every link to an anchor, as a full build does."""
    if not _serving.get("on") or _build["full"]:
        return env
    for file in files.documentation_pages(inclusion=InclusionLevel.is_in_serve):
        if file.page is None or file.is_modified() or file.src_uri not in _last["anchors"]:
            continue
        anchors, links = _last["anchors"][file.src_uri]
        file.page.present_anchor_ids = anchors
        file.page.links_to_anchors = {
            files.get_file_from_path(target): dict(found) for target, found in links.items() if files.get_file_from_path(target)
        }
    return env


def _merged_search(path: Path, pages: list, built: set[str]) -> dict[str, list]:
    """{page URL: its search entries}: this build's entries for the pages it built, the last build's for the rest."""
    index = json.loads(path.read_text(encoding="utf-8"))
    fresh: dict[str, list] = {}
    for entry in index["docs"]:
        fresh.setdefault(entry["location"].partition("#")[0], []).append(entry)
    entries = {url: (fresh if url in built else _last.get("search", {})).get(url, []) for url in (page.url for page in pages)}
    index["docs"] = [entry for page_entries in entries.values() for entry in page_entries]
    path.write_text(json.dumps(index, separators=(",", ":")), encoding="utf-8")  # as Material writes it
    return entries


def on_post_build(config):
    if not _serving.get("on"):
        return
    files = _build.pop("files")
    served = files.documentation_pages(inclusion=InclusionLevel.is_in_serve)  # what MkDocs builds under serve
    pages = [file.page for file in served if file.page is not None]
    anchors = {
        page.file.src_uri: (page.present_anchor_ids, {file.src_uri: found for file, found in (page.links_to_anchors or {}).items()})
        for page in pages
    }
    index = Path(config.site_dir, "search", "search_index.json")
    built = {page.url for page in pages if page.file.is_modified()}
    search = _merged_search(index, pages, built) if index.is_file() else {}
    _last.update(sources=_build["sources"], settings=_build["settings"], anchors=anchors, search=search)


def on_build_error(error):
    _build.clear()  # the next build compares with the last complete one
