"""The Makefile's promises that can be checked without installing anything.

- It runs on Python 3.11 (3.11.5 or later) only: python3.11, else python3 when that is 3.11. Fake interpreters
  (shell scripts named python3.11 / python3 that report a version) on an otherwise empty PATH show it picking
  the right one, and stopping at once, with what to install, when there is none.
- It installs torch's CPU build first, alone, hash-checked, from PyTorch's index, on Linux only (`make -n`).
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")
COPIED = ["Makefile", "tools/python311.sh", "requirements.txt", "package.json", "package-lock.json"]


@pytest.fixture
def project(tmp_path):
    """A copy of what the Makefile reads, and an empty bin/ that is the whole PATH."""
    for name in COPIED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "uname").symlink_to(shutil.which("uname"))
    return tmp_path


def fake_python(path: Path, version: str) -> Path:
    """An executable that answers any question as an interpreter of `version` would answer the version one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def make(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": str(project / "bin"), "HOME": str(project), "LANG": "C.UTF-8"}
    return subprocess.run([MAKE, "--no-print-directory", *args], cwd=project, env=env, capture_output=True, text=True)


def test_python_3_12_stops_make_at_once_saying_what_to_install(project):
    fake_python(project / "bin" / "python3", "3.12.1")
    done = make(project, "test")
    assert done.returncode != 0
    assert "this course needs Python 3.11 (3.11.5 or later), and found none" in done.stderr
    assert "python3.11: not found" in done.stderr
    assert f"python3 ({project}/bin/python3): Python 3.12.1" in done.stderr
    assert "brew install python@3.11" in done.stderr and "PYTHON=/path/to/python3.11" in done.stderr
    # Nothing ran before the check: no venv, no npm, no recipe line echoed.
    assert not (project / ".venv").exists() and not (project / "node_modules").exists()
    assert done.stdout == ""


def test_python3_11_passes_the_check(project):
    fake_python(project / "bin" / "python3.11", "3.11.9")
    fake_python(project / "bin" / "python3", "3.12.1")
    assert make(project, "python").returncode == 0


def test_python3_is_used_when_it_is_3_11(project):
    python3 = fake_python(project / "bin" / "python3", "3.11.7")
    assert make(project, "python").returncode == 0
    chosen = subprocess.run(
        ["/bin/sh", "tools/python311.sh", "python3.11", "python3"],
        cwd=project, env={"PATH": str(project / "bin")}, capture_output=True, text=True,
    )  # fmt: skip
    assert chosen.returncode == 0 and chosen.stdout.strip() == str(python3)


def test_an_old_3_11_is_refused_and_a_newer_one_found_after_it(project):
    fake_python(project / "bin" / "python3.11", "3.11.2")  # Debian 12's, older than pymdown-extensions accepts
    done = make(project, "python")
    assert done.returncode != 0 and "Python 3.11.2" in done.stderr
    fake_python(project / "bin" / "python3", "3.11.10")
    assert make(project, "python").returncode == 0


def test_python_named_on_the_command_line_is_checked_too(project):
    other = fake_python(project / "elsewhere" / "python", "3.10.13")
    done = make(project, "python", f"PYTHON={other}")
    assert done.returncode != 0 and "Python 3.10.13" in done.stderr
    fake_python(other, "3.11.5")
    assert make(project, "python", f"PYTHON={other}").returncode == 0


def test_a_venv_of_another_python_is_refused(project):
    fake_python(project / "bin" / "python3.11", "3.11.9")
    fake_python(project / ".venv" / "bin" / "python", "3.12.1")
    done = make(project, "test")
    assert done.returncode != 0
    assert ".venv was made with another Python: remove it (rm -rf .venv)" in done.stderr


def dry_run(project: Path, *args: str) -> list[str]:
    fake_python(project / "bin" / "python3.11", "3.11.9")
    done = make(project, "-n", "install", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_on_linux_torch_comes_first_alone_hash_checked_from_the_cpu_index(project):
    lines = dry_run(project, "OS=Linux")
    torch = next(i for i, line in enumerate(lines) if "-r .venv/torch-cpu.txt" in line)
    rest = next(i for i, line in enumerate(lines) if line.endswith("-r requirements.txt"))
    assert torch < rest
    for option in ("--require-hashes", "--no-deps", "--only-binary :all:", "--timeout 15 --retries 1"):
        assert option in lines[torch] and (option == "--no-deps" or option in lines[rest])
    assert "--index-url https://download.pytorch.org/whl/cpu" in lines[torch]
    assert "--index-url" not in lines[rest]  # everything else from PyPI (pip's configured index)


def test_on_macos_torch_comes_from_pypi_with_the_rest(project):
    lines = dry_run(project, "OS=Darwin")
    assert not any("torch-cpu.txt" in line or "download.pytorch.org" in line for line in lines)
    assert any(line.endswith("--require-hashes --only-binary :all: --timeout 15 --retries 1 -r requirements.txt")
               for line in lines)  # fmt: skip


def test_the_torch_step_reads_torch_s_entries_and_nothing_else(project):
    """The awk line that `make install` runs, run here on the real lock: torch's two entries, whole."""
    awk = next(line for line in dry_run(project, "OS=Linux") if line.startswith("awk "))
    (project / ".venv").mkdir()
    subprocess.run(["/bin/sh", "-c", awk], cwd=project, env={"PATH": os.environ["PATH"]}, check=True)
    extracted = (project / ".venv" / "torch-cpu.txt").read_text().splitlines()
    requirements = [line for line in extracted if not line.startswith(" ")]
    assert [line.split(" ;")[0].split("==")[0] for line in requirements] == ["torch", "torch"]
    assert any("+cpu ; sys_platform == 'linux'" in line for line in requirements)
    assert any(line.startswith("    --hash=sha256:") for line in extracted)
    assert not extracted[-1].endswith("\\")  # the last hash line of the last entry, complete
