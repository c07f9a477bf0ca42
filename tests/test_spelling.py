"""The spelling check of `make test`: codespell over the course text, in American English.

.codespellrc sets the dictionaries (`clear,rare,en-GB_to_en-US`), so `codespell docs/page.md` run by hand gives
the same answer.
"""

import subprocess
import sys

import pytest

from conftest import ROOT

COMMAND = [sys.executable, "-m", "codespell_lib"]
PATHS = ["docs", "snippets", "README.md", "CONTRIBUTING.md", "mkdocs.yml"]


def codespell(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *args], cwd=cwd, capture_output=True, text=True)


def test_the_course_text_is_spelled_right_in_american_english():
    done = codespell(*PATHS)
    assert done.returncode == 0, done.stdout


def test_a_typo_is_reported_with_its_place(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Autograd computes the gradient.\nIt recieves the loss.\n")
    done = codespell(str(page))
    assert done.returncode != 0 and f"{page}:2: recieves ==> receives" in done.stdout


def test_a_british_spelling_is_reported_with_its_place(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("The graph has a colour per node.\nThat is the default behaviour, then we optimise.\n")
    done = codespell(str(page))  # from the repository's root, so with .codespellrc's dictionaries
    assert done.returncode != 0
    for word, american in [("colour", "color"), ("behaviour", "behavior"), ("optimise", "optimize")]:
        assert f"{page}:{1 if word == 'colour' else 2}: {word} ==> {american}" in done.stdout


def test_the_checked_paths_exist():
    assert all((ROOT / path).exists() for path in PATHS)
