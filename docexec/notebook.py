"""Jupyter notebooks made from a verified page: its prose, its code, and the outputs of the run.

No code is executed here: the cells carry what the engine's run printed, so a notebook can never disagree
with the page it comes from.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from docexec.engine import PageRun, Result

_CONTAINER = re.compile(r'^(?P<indent>[ ]*)(?:[!?]{3}\+?\s+\w[\w-]*|===)(?:\s+"(?P<title>[^"]*)")?\s*$')
SOLUTION_TAG = "solution"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _prose_cells(lines: list[str], depth: int = 0, in_solution: bool = False) -> list[dict]:
    """Prose for Jupyter: admonition, details and tab headers become bold titles, their bodies are dedented.
    `depth` is the indentation of the container the prose starts in (after a block inside one). The prose of
    a "Solution" container becomes cells of its own, tagged like the solution's code."""
    cells, current = [], []

    def flush(tagged: bool) -> None:
        text = "\n".join(current).strip("\n")
        if text:
            metadata = {"tags": [SOLUTION_TAG]} if tagged else {}
            cells.append({"cell_type": "markdown", "metadata": metadata, "source": text})
        current.clear()

    for line in lines:
        container = _CONTAINER.match(line)
        if container:
            flush(in_solution)
            depth, in_solution = len(container["indent"]) + 4, container["title"] == "Solution"
            current.append(f"**{container['title']}**" if container["title"] else "")
            continue
        if line.strip() and _indent(line) < depth:
            flush(in_solution)
            depth, in_solution = 0, False
        current.append(line[depth:] if line.startswith(" " * depth) else line.lstrip(" "))
    flush(in_solution)
    return cells


def _container_title(lines: list[str], line: int, indent: str) -> str | None:
    """The title of the admonition, details block or tab that holds the line indented by `indent`."""
    if not indent:  # at the top level: in no container
        return None
    for above in reversed(lines[:line]):
        container = _CONTAINER.match(above)
        if container and len(container["indent"]) < len(indent):
            return container["title"]
        if above.strip() and _indent(above) < len(indent) and not container:
            return None
    return None


def _outputs(result: Result, svg=None) -> list[dict]:
    mode = result.block.render_mode
    if not result.output:
        outputs = []
    elif mode == "markdown":
        outputs = [{"output_type": "display_data", "metadata": {}, "data": {"text/markdown": result.output}}]
    elif mode == "diagram" and svg:
        outputs = [{"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": svg(result.output), "text/plain": result.output}}]
    else:
        outputs = [{"output_type": "stream", "name": "stdout", "text": result.output + "\n"}]
    for figure in result.figures:  # matplotlib's inline backend shows a figure the same way
        outputs.append({"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": figure, "text/plain": result.block.alt or ""}})
    return outputs


def _code_cell(result: Result, tags: list[str], svg=None) -> dict:
    tags = tags + (["raises-exception"] if result.block.raises else [])
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": tags} if tags else {},
        "outputs": _outputs(result, svg),
        "source": result.block.source.rstrip("\n"),
    }


def _cells(run: PageRun, first_line: int, last_line: int, svg=None) -> list[dict]:
    """Cells for the page's lines [first_line, last_line): prose between blocks, each block with its output."""
    lines = run.text.splitlines()
    cells, cursor, depth, in_solution = [], first_line, 0, False
    for result in run.results:
        code = result.block.code
        if code.start < first_line or code.start >= last_line:
            continue
        cells += _prose_cells(lines[cursor : code.start], depth, in_solution)
        depth = len(code.indent)
        in_solution = _container_title(lines, code.start, code.indent) == "Solution"
        cells.append(_code_cell(result, [SOLUTION_TAG] if in_solution else [], svg))
        end = result.block.output.end if result.block.output else code.end
        cursor = end + 1
    return cells + _prose_cells(lines[cursor:last_line], depth, in_solution)


_HEADING_ATTRIBUTES = re.compile(r"^(#+ .*?)\s*\{\s*[#.:][^}]*\}[ \t]*$", re.MULTILINE)
_PAGE_LINK = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:|#|/)([\w./-]+?)\.md(#[^)\s]*)?\)")


def _as_on_site(markdown: str, up: str) -> str:
    """Markdown that reads the same in Jupyter: no `{ #id }` after headings, and links to other pages of the
    course (`gradients.md#leaf-tensors`) pointing at where those pages are served (`../gradients/#leaf-tensors`,
    from a notebook `up` folders below the site's root)."""
    markdown = _HEADING_ATTRIBUTES.sub(r"\1", markdown)

    def link(match: re.Match) -> str:
        page = "" if match[1] == "index" else match[1].removesuffix("/index") + "/"
        return f"]({up}{page}{match[2] or ''})"

    return _PAGE_LINK.sub(link, markdown)


def _notebook(cells: list[dict], header: str, up: str) -> dict:
    for cell in cells:
        if cell["cell_type"] == "markdown":
            cell["source"] = _as_on_site(cell["source"], up)
    setup = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": "import torch\n\n_ = torch.manual_seed(0)  # every page of the course starts from this seed",
    }
    intro = {"cell_type": "markdown", "metadata": {}, "source": header}
    return {
        "cells": [intro, setup, *cells],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def dumps(notebook: dict) -> str:
    """Stable text: the same page always gives the same bytes (cell ids are derived from positions)."""
    for index, cell in enumerate(notebook["cells"]):
        cell["id"] = f"cell-{index}"
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def chapter(run: PageRun, stamp: str, svg=None) -> dict:
    """The whole page as a notebook."""
    header = f"*From the course* Autograd, for real: `{run.page}`. {stamp}"
    return _notebook(_cells(run, 0, len(run.text.splitlines()), svg), header, up="../")  # served as notebooks/<page>.ipynb


def exercises(run: PageRun, stamp: str) -> dict | None:
    """The page's `## Exercises` section as a notebook (solution cells tagged `solution`), or None."""
    lines = run.text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == "## Exercises"]
    if not starts:
        return None
    title = next((line[2:].strip() for line in lines if line.startswith("# ")), run.page)
    header = f"# Exercises: {title}\n\n*From the course* Autograd, for real: `{run.page}`. {stamp}"
    cells = _cells(run, starts[0] + 1, len(lines))
    for cell in cells:  # the section's ### headings become ## under the notebook's own # title
        if cell["cell_type"] == "markdown":
            cell["source"] = re.sub(r"^#(#+) ", r"\1 ", cell["source"], flags=re.MULTILINE)
    return _notebook(cells, header, up="../../")  # rendered by mkdocs-jupyter at exercises/<page>/


def stamp(environment: dict) -> str:
    """One sentence naming the versions that produced the outputs: the torch release without its local build
    tag (`+cpu`) and the minor Python version, so a kept notebook is the same on every platform."""
    if not environment:
        return "Outputs not executed in this build."
    python = ".".join(environment["python"].split(".")[:2])
    torch = environment["torch"].split("+")[0]
    return f"Outputs produced with torch {torch} and Python {python}."


def files_for(run: PageRun, svg=None) -> dict[str, str]:
    """The notebooks kept in docs/ for a page, {path: text}: the chapter in docs/notebooks/ and its exercises
    in docs/exercises/. `make update` writes them; the tests check them all, the build the exercises."""
    if not run.blocks or run.page.endswith("index.md"):
        return {}
    folder, _, name = run.page.rpartition("/")
    stem = name.removesuffix(".md")
    versions = stamp(run.environment)
    files = {f"{folder}/notebooks/{stem}.ipynb": dumps(chapter(run, versions, svg))}
    practice = exercises(run, versions)
    if practice:
        files[f"{folder}/exercises/{stem}.ipynb"] = dumps(practice)
    return files


def out_of_date(root: Path, path: str, text: str) -> str | None:
    """The message for a kept notebook that is missing or differs from `text`, else None."""
    file = root / path
    if file.is_file() and file.read_text(encoding="utf-8") == text:
        return None
    return f"{path} is missing or out of date with its page: run `make update`"
