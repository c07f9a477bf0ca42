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
