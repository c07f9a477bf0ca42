"""`make bench`: how much executing and verifying the examples costs, as ratios measured in one run.

Times are medians of a few runs on this machine; only the ratios are meant to be compared across machines.
The builds run on a copy of the project in a temporary folder, so the working tree and its cache are untouched.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
COPIED = ["docs", "snippets", "docexec", "tests", "mkdocs.yml", "pytest.ini", "README.md", "CONTRIBUTING.md"]
TARGETS = {"warm / plain": 1.2, "cold / (plain + torch import)": 1.2, "doc tests / cold": 1.5}


def timed(command: list[str], cwd: Path, env: dict | None = None, before=None) -> float:
    """Median wall time of `command`; `before()` runs untimed before each run."""
    times = []
    for _ in range(RUNS):
        if before:
            before()
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})}, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for name in COPIED:
            source = ROOT / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, work / name)
        build = [str(BIN / "mkdocs"), "build", "--strict", "--quiet"]
        cache = work / ".cache"
        page = work / "docs" / "gradients.md"
        original = page.read_text()
        edits = iter(range(10**6))

        def change_one_prose_line():
            page.write_text(original.replace("# Computing gradients", f"# Computing gradients ({next(edits)})", 1))

        figures = {
            "plain build (DOCEXEC=off)": timed(build, work, {"DOCEXEC": "off"}),
            "cold build (empty cache)": timed(build, work, before=lambda: shutil.rmtree(cache, ignore_errors=True)),
            "warm rebuild (one prose line changed)": timed(build, work, before=change_one_prose_line),
            "python -c 'import torch'": timed([sys.executable, "-c", "import torch"], work),
            "doc tests (pages, README, CONTRIBUTING)": timed(
                [sys.executable, "-m", "pytest", "-q", "tests/test_pages.py", "README.md", "CONTRIBUTING.md"], work
            ),
        }
    plain, cold, warm, torch_import, tests = figures.values()
    ratios = {
        "warm / plain": warm / plain,
        "cold / (plain + torch import)": cold / (plain + torch_import),
        "doc tests / cold": tests / cold,
    }
    print(f"medians of {RUNS} runs")
    for name, seconds in figures.items():
        print(f"  {name:42s} {seconds:6.2f} s")
    print("ratios (target)")
    for name, ratio in ratios.items():
        verdict = "ok" if ratio <= TARGETS[name] else "OVER TARGET"
        print(f"  {name:42s} {ratio:6.2f}   (<= {TARGETS[name]})  {verdict}")


if __name__ == "__main__":
    main()
