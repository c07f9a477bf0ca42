"""The notebooks: made from their pages (tests/test_pages.py checks they are up to date), and the exercise
notebooks executed top to bottom in a real Jupyter kernel, each output compared with the stored one."""

import copy
import json
import re

import nbclient
import nbformat
import pytest

from conftest import ROOT
from docexec import engine, notebook
from docexec.runner import run_here

EXERCISES = sorted((ROOT / "docs" / "exercises").glob("*.ipynb"))


def printed(cell: dict) -> str:
    """What a code cell printed, as the engine would compare it (display outputs by their text)."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif output["output_type"] == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
        else:
            data = output.get("data", {})
            parts.append(data.get("text/markdown") or data.get("text/plain", ""))
    return engine.normalise("".join(parts))


@pytest.mark.parametrize("path", EXERCISES, ids=lambda path: path.name)
def test_exercise_notebook_runs_and_prints_its_stored_outputs(path):
    stored = nbformat.read(path, as_version=4)
    executed = copy.deepcopy(stored)
    nbclient.NotebookClient(executed, timeout=60, kernel_name="python3", allow_errors=True).execute()
    for number, (before, after) in enumerate(zip(stored.cells, executed.cells)):
        if before.cell_type != "code":
            continue
        if "raises-exception" in before.metadata.get("tags", []):
            # Jupyter shows the whole error; the stored output ends with its last line.
            assert printed(after).splitlines()[-1] in printed(before), f"{path.name}, cell {number}"
            continue
        assert printed(after) == printed(before), f"{path.name}, cell {number}:\n{before.source}"


PAGE = '''# A chapter

Prose with $x^2$.

```python
import torch
print(torch.tensor(2.0) ** 2)
```

```text title="Output"
tensor(4.)
```

## Exercises

### Exercise 1: square it

Square three.

??? success "Solution"

    ```python
    print(3 ** 2)
    ```

    ```text title="Output"
    9
    ```

    Nine, because $3 \\cdot 3 = 9$.

### Exercise 2: the end { #the-end }

Nothing to run; see [leaves](gradients.md#leaf-tensors) and [home](index.md).
'''


def test_a_page_becomes_a_chapter_and_an_exercise_notebook():
    run = engine.verify(PAGE, "docs/chapter.md", run=run_here)
    files = notebook.files_for(run)
    assert sorted(files) == ["docs/exercises/chapter.ipynb", "docs/notebooks/chapter.ipynb"]
    chapter = json.loads(files["docs/notebooks/chapter.ipynb"])
    sources = [cell["source"] for cell in chapter["cells"]]
    assert sources[2:4] == ["# A chapter\n\nProse with $x^2$.", "import torch\nprint(torch.tensor(2.0) ** 2)"]
    assert chapter["cells"][3]["outputs"][0]["text"] == "tensor(4.)\n"
    practice = json.loads(files["docs/exercises/chapter.ipynb"])
    cells = [(cell["cell_type"], cell["source"], cell["metadata"].get("tags", [])) for cell in practice["cells"][2:]]
    assert cells == [
        ("markdown", "## Exercise 1: square it\n\nSquare three.", []),
        ("markdown", "**Solution**", ["solution"]),
        ("code", "print(3 ** 2)", ["solution"]),
        ("markdown", "Nine, because $3 \\cdot 3 = 9$.", ["solution"]),  # dedented out of the box
        # the heading's { #id } dropped; links to pages point where the site serves them, from exercises/chapter/
        ("markdown", "## Exercise 2: the end\n\nNothing to run; see [leaves](../../gradients/#leaf-tensors) and [home](../../).", []),
    ]
    assert "[leaves](../gradients/#leaf-tensors)" in sources[-1]  # from notebooks/chapter.ipynb


def test_notebooks_are_byte_stable():
    run = engine.verify(PAGE, "docs/chapter.md", run=run_here)
    assert notebook.files_for(run) == notebook.files_for(engine.verify(PAGE, "docs/chapter.md", run=run_here))


def kept(tmp_path, text: str, change=None):
    """A kept notebook as `make update` wrote it, then changed by `change(cells)`."""
    made = json.loads(text)
    if change:
        change(made["cells"])
    (tmp_path / "docs" / "notebooks").mkdir(parents=True)
    (tmp_path / "docs" / "notebooks" / "chapter.ipynb").write_text(notebook.dumps(made), encoding="utf-8")


def test_a_stale_notebook_names_the_cell_by_its_page_line_and_its_first_differing_line(tmp_path):
    run = engine.verify(PAGE, "docs/chapter.md", run=run_here)
    made = notebook.files_for(run)["docs/notebooks/chapter.ipynb"]
    assert notebook.out_of_date(tmp_path, "docs/notebooks/chapter.ipynb", made, run) == (
        "docs/notebooks/chapter.ipynb is missing: run `make update` to write it"
    )

    def stale_output(cells):
        cells[3]["outputs"][0]["text"] = "tensor(9.)\n"

    kept(tmp_path, made, stale_output)
    line = PAGE.splitlines().index("```python") + 1
    assert notebook.out_of_date(tmp_path, "docs/notebooks/chapter.ipynb", made, run) == (
        f"docs/notebooks/chapter.ipynb is out of date with its page: cell 3 (docs/chapter.md:{line}) output 1 differs: "
        "line 1 is 'tensor(9.)' in the notebook, 'tensor(4.)' from the page; run `make update`"
    )


def test_a_stale_prose_cell_is_named_by_its_page_line(tmp_path):
    run = engine.verify(PAGE, "docs/chapter.md", run=run_here)
    made = notebook.files_for(run)["docs/notebooks/chapter.ipynb"]
    kept(tmp_path, made, lambda cells: cells[-1].update(source="Old text."))
    problem = notebook.out_of_date(tmp_path, "docs/notebooks/chapter.ipynb", made, run)
    line = PAGE.splitlines().index("### Exercise 2: the end { #the-end }") + 1  # the cell's first line
    assert problem.startswith(f"docs/notebooks/chapter.ipynb is out of date with its page: cell {len(json.loads(made)['cells']) - 1} (docs/chapter.md:{line}) has other text: line 1 is 'Old text.' in the notebook"), problem


FIGURE = '<svg width="100pt"><path d="M 10.25 20.5 L 30.75 40"/></svg>'


@pytest.mark.parametrize("figure, stale", [("M 10.26 20.5 L 30.75 40", False), ("M 12.25 20.5 L 30.75 40", True)])
def test_a_figure_is_out_of_date_only_when_it_looks_different(tmp_path, figure, stale):
    run = engine.verify(PAGE, "docs/chapter.md", run=run_here)
    made = json.loads(notebook.files_for(run)["docs/notebooks/chapter.ipynb"])
    made["cells"][3]["outputs"].append({"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": FIGURE, "text/plain": "a line"}})
    text = notebook.dumps(made)
    kept(tmp_path, text, lambda cells: cells[3]["outputs"][1]["data"].update({"image/svg+xml": FIGURE.replace("M 10.25 20.5 L 30.75 40", figure)}))
    problem = notebook.out_of_date(tmp_path, "docs/notebooks/chapter.ipynb", text, run)
    if stale:
        assert problem and "output 2 (image/svg+xml) differs: a figure that looks different" in problem, problem
    else:
        assert problem is None  # a coordinate 1/100 pt off: the same figure to a reader


SITE = ROOT / "site"


@pytest.mark.skipif(not (SITE / "exercises").is_dir(), reason="no built site: run `make build` first")
def test_every_link_of_the_rendered_exercise_notebooks_leads_to_a_page_of_the_site():
    broken = []
    for page in sorted((SITE / "exercises").glob("*/index.html")):
        for target in re.findall(r'<a [^>]*href="([^"]+)"', page.read_text(encoding="utf-8")):
            if re.match(r"[a-z][a-z0-9+.-]*:|#|data:", target):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not (path / "index.html" if path.is_dir() else path).is_file():
                broken.append(f"{page.relative_to(SITE)}: {target}")
    assert broken == []
