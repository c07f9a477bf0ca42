"""`make portability` (tools/portability.py): a page whose output depends on the CPU fails it, named by its line;
a page that holds everywhere passes."""

import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from docexec import diagram, engine, notebook
from docexec.runner import Runner

FIXTURE = Path(__file__).parent / "fixtures" / "portability"
pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="the CPU settings are x86-64's")


def project_with(tmp_path: Path, page: str) -> Path:
    """A copy of the fixture project whose pages hold what they print here, with the default setting."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    (root / "snippets").mkdir()
    path = root / "docs" / "cpu.md"
    path.write_text(page, encoding="utf-8")
    runner = Runner(root)
    path.write_text(engine.update(runner.verify(page, "docs/cpu.md", snippets_dir=root / "snippets")), encoding="utf-8")
    run = runner.verify(path.read_text(encoding="utf-8"), "docs/cpu.md", snippets_dir=root / "snippets")
    runner.close()
    assert not run.failures
    for name, text in notebook.files_for(run, diagram.to_svg).items():  # as `make update` writes them
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def portability(root: Path, *settings: str) -> subprocess.CompletedProcess:
    chosen = [part for setting in settings for part in ("--setting", setting)]
    command = [sys.executable, str(ROOT / "tools" / "portability.py"), "--root", str(root), *chosen]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def test_a_page_whose_digits_depend_on_the_cpu_fails_naming_its_line(tmp_path):
    root = project_with(tmp_path, (FIXTURE / "docs" / "cpu.md").read_text(encoding="utf-8"))
    done = portability(root, "default", "MKL_ENABLE_INSTRUCTIONS=SSE4_2", "ATEN_CPU_CAPABILITY=default")
    assert done.returncode == 1, done.stdout + done.stderr
    default = next(line for line in done.stdout.splitlines() if line.startswith("default "))
    assert default.split()[1] == "0", done.stdout  # the setting its outputs were written under agrees
    assert "docs/cpu.md:5: the output differs from the expected output" in done.stdout, done.stdout
    assert "print a property that holds everywhere" in done.stdout


def test_a_page_that_holds_everywhere_passes(tmp_path):
    page = (FIXTURE / "docs" / "cpu.md").read_text(encoding="utf-8")
    portable = page[page.index("This one holds") :]
    root = project_with(tmp_path, "# Portable\n\n" + portable)
    done = portability(root, "default", "MKL_ENABLE_INSTRUCTIONS=SSE4_2", "ATEN_CPU_CAPABILITY=default")
    assert done.returncode == 0, done.stdout + done.stderr
    counts = [line.split()[1] for line in done.stdout.splitlines() if line.startswith(("default ", "MKL_", "ATEN_"))]
    assert counts == ["0", "0", "0"], done.stdout
