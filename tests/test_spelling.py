"""The spelling check of `make test` (codespell over docs/, README and CONTRIBUTING) passes, and fails on a typo."""

import subprocess
import sys

from conftest import ROOT

COMMAND = [sys.executable, "-m", "codespell_lib"]


def test_the_course_text_is_spelled_right():
    done = subprocess.run([*COMMAND, "docs", "README.md", "CONTRIBUTING.md"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_a_typo_is_reported_with_its_place(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Autograd computes the gradient.\nIt recieves the loss.\n")
    done = subprocess.run([*COMMAND, str(page)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode != 0 and f"{page}:2: recieves ==> receives" in done.stdout
