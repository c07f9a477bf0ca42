"""Jupyter notebooks made from a verified page: its prose, its code, and the outputs of the run.

No code is executed here: the cells carry what the engine's run printed, so a notebook can never disagree
with the page it comes from.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from docexec import figures
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
    text = result.shown
    if not text:
        outputs = []
    elif mode == "markdown":
        outputs = [{"output_type": "display_data", "metadata": {}, "data": {"text/markdown": text}}]
    elif mode == "diagram" and svg:
        outputs = [{"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": svg(text), "text/plain": text}}]
    else:
        outputs = [{"output_type": "stream", "name": "stdout", "text": text + "\n"}]
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


def stale(root: Path, files: dict[str, str], run: PageRun) -> list[str]:
    """The messages for the kept notebooks of `files` (from `files_for(run)`) that are missing or out of date."""
    return [problem for path, text in files.items() if (problem := out_of_date(root, path, text, run))]


def out_of_date(root: Path, path: str, text: str, run: PageRun | None = None) -> str | None:
    """The message for a kept notebook that is missing or differs from `text` (made from `run`), else None.
    Figures are compared as a reader sees them (`figures.same_figure`); the message names the first cell that
    differs, by its line in the page, and its first differing line."""
    file = root / path
    if not file.is_file():
        return f"{path} is missing: run `make update` to write it"
    kept = file.read_text(encoding="utf-8")
    if kept == text:
        return None
    made = json.loads(text)
    try:
        kept = json.loads(kept)
        difference = _first_difference(kept["cells"], made["cells"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"{path} is not a notebook as `make update` writes it: run `make update` to write it again"
    if difference is None:
        if {**kept, "cells": None} == {**made, "cells": None}:
            return None  # only figures that differ below what a reader can see
        return f"{path}: its notebook metadata is out of date: run `make update`"
    index, what = difference
    return f"{path} is out of date with its page: {_place(run, path, made['cells'], index)} {what}; run `make update`"


def _first_difference(kept: list[dict], made: list[dict]) -> tuple[int, str] | None:
    """(index of the first made cell that the kept notebook does not have as made, what differs) or None."""
    for index, cell in enumerate(made):
        if index >= len(kept):
            return index, "is missing from the kept notebook"
        old = kept[index]
        if old.get("cell_type") != cell["cell_type"] or old.get("source") != cell["source"]:
            return index, "has other text: " + _first_line_difference(_text(old.get("source", "")), cell["source"])
        if old.get("metadata") != cell["metadata"]:
            return index, f"has other metadata: {old.get('metadata')} in the notebook, {cell['metadata']} from the page"
        outputs = _output_difference(old.get("outputs", []), cell.get("outputs", []))
        if outputs:
            return index, outputs
    if len(kept) > len(made):
        return len(made), "is in the kept notebook but no longer in the page"
    return None


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value  # Jupyter may store text as a list of lines


def _output_difference(kept: list[dict], made: list[dict]) -> str | None:
    if len(kept) != len(made):
        return f"has {len(kept)} output(s) in the notebook and {len(made)} from the run"
    for number, (old, new) in enumerate(zip(kept, made), 1):
        if "text" in new:
            if _text(old.get("text", "")) != new["text"]:
                return f"output {number} differs: " + _first_line_difference(_text(old.get("text", "")), new["text"])
            continue
        for kind, value in new.get("data", {}).items():
            was = _text(old.get("data", {}).get(kind, ""))
            same = figures.same_figure(was, value) if kind == "image/svg+xml" else was == value
            if not same:
                what = "a figure that looks different" if kind == "image/svg+xml" else _first_line_difference(was, value)
                return f"output {number} ({kind}) differs: {what}"
        if old.get("output_type") != new["output_type"] or set(old.get("data", {})) != set(new.get("data", {})):
            return f"output {number} is of another kind"
    return None


def _first_line_difference(kept: str, made: str) -> str:
    kept_lines, made_lines = kept.splitlines(), made.splitlines()
    for number, (old, new) in enumerate(zip(kept_lines, made_lines), 1):
        if old != new:
            return f"line {number} is {old!r} in the notebook, {new!r} from the page"
    number = min(len(kept_lines), len(made_lines)) + 1
    if len(kept_lines) > len(made_lines):
        return f"line {number} {kept_lines[number - 1]!r} is in the notebook only"
    return f"line {number} {made_lines[number - 1]!r} is missing from the notebook"


def _gist(line: str) -> str:
    """A line as it reads in both the page and a notebook: no heading marks or { #id }, text before any link."""
    line = re.sub(r"\s*\{[^}]*\}$", "", line.strip().lstrip("#").strip())
    return line.split("](")[0][:40]


def _place(run: PageRun | None, path: str, cells: list[dict], index: int) -> str:
    """`docs/page.md:LINE`, the page line a made cell comes from: a code cell's block, or the first line of a
    prose cell found in the page between the blocks around it."""
    if index < 2:
        return f"cell {index} (the notebook's own {'title' if index == 0 else 'set-up'} cell)"
    if run is None:
        return f"cell {index}"
    lines = run.text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "## Exercises"), 0) if "/exercises/" in path else 0
    results = [result for result in run.results if result.block.code.start >= start]
    ordinal = sum(cell["cell_type"] == "code" for cell in cells[2 : index + 1])  # code cells up to this one
    if cells[index]["cell_type"] == "code" and 0 < ordinal <= len(results):
        return f"cell {index} ({run.page}:{results[ordinal - 1].line})"
    low = results[ordinal - 1].block.code.end if ordinal else start
    high = results[ordinal].block.code.start if ordinal < len(results) else len(lines)
    wanted = {_gist(line) for line in cells[index]["source"].splitlines()} - {""}
    offset = results[0].block.line_offset if results else 0
    for number in range(low, high):
        if _gist(lines[number]) in wanted:
            return f"cell {index} ({run.page}:{number + 1 + offset})"
    return f"cell {index} (the prose of {run.page} after line {low + 1 + offset})"
