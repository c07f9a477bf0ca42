"""`make bench`: what executing and verifying the examples costs, and what a page costs a reader.

1. Build and test times as medians of a few runs, and their ratios (the figures to compare across machines).
2. Per page: bytes transferred and requests, measured in Chromium by the browser tests.
3. Per page: Lighthouse's four category scores (mobile, its default; median of BENCH_RUNS runs), against the
   site on 127.0.0.1 served gzip-compressed like GitHub Pages.

Everything runs on a copy of the project in a temporary folder: the working tree and its cache are untouched.
BENCH_RUNS sets the number of runs (default 3); BENCH_LIGHTHOUSE=off skips step 3.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import bench_serve, site_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
COPIED = ["docs", "snippets", "docexec", "tests", "tools", "overrides", "mkdocs.yml", "pytest.ini", "README.md", "CONTRIBUTING.md", "requirements.in", "requirements.txt"]
TARGETS = {"warm / plain": 1.0, "cold / (plain + torch import)": 1.1, "doc tests / cold": 1.0}
HANG_TARGET = 2.0  # seconds past its timeout by which a hung block must be reported
SCORE_TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run"


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


def build_and_test_times(work: Path) -> None:
    build = [str(BIN / "mkdocs"), "build", "--strict", "--quiet"]
    cache = work / ".cache" / "docexec"  # the engine's cache only (mkdocs-jupyter keeps its own beside it)
    page = work / "docs" / "gradients.md"
    original = page.read_text()
    edits = iter(range(10**6))

    def change_one_prose_line():
        sentence = "A tensor only takes part in differentiation if you ask for it."
        page.write_text(original.replace(sentence, f"{sentence} ({next(edits)})", 1))

    figures = {
        "plain build (DOCEXEC=off)": timed(build, work, {"DOCEXEC": "off"}),
        "cold build (empty cache)": timed(build, work, before=lambda: shutil.rmtree(cache, ignore_errors=True)),
        "warm rebuild (one prose line changed)": timed(build, work, before=change_one_prose_line),
    }
    page.write_text(original)  # the doc tests compare the page with its committed notebook
    figures["python -c 'import torch'"] = timed([sys.executable, "-c", "import torch"], work)
    figures["examples alone (torch imported)"] = examples_alone(work)
    figures["doc tests (pages, README, CONTRIBUTING)"] = timed(
        [sys.executable, "-m", "pytest", "-q", "tests/test_pages.py", "README.md", "CONTRIBUTING.md"], work
    )
    plain, cold, warm, torch_import, examples, tests = figures.values()
    ratios = {
        "warm / plain": warm / plain,
        "cold / (plain + torch import)": cold / (plain + torch_import),
        "doc tests / cold": tests / cold,
    }
    print(f"\nBuild and test times (medians of {RUNS} runs)")
    for name, seconds in figures.items():
        print(f"  {name:42s} {seconds:6.2f} s")
    print("Ratios (target)")
    for name, ratio in ratios.items():
        verdict = "ok" if ratio <= TARGETS[name] else "OVER TARGET"
        print(f"  {name:42s} {ratio:6.2f}   (<= {TARGETS[name]})  {verdict}")
    # What the engine adds beyond importing torch and running the examples themselves (no target).
    overhead = cold / (plain + torch_import + examples)
    print(f"  {'cold / (plain + torch import + examples)':42s} {overhead:6.2f}   (the examples run in parallel: below 1 is possible)")
    hung_blocks(work)


HUNG = {
    "a busy loop": "while True:\n    pass",
    "a swallowed timeout": "import time\n\nwhile True:\n    try:\n        time.sleep(10)\n    except BaseException:\n        pass",
    "a C call with signals blocked": "import ctypes, signal\n\nsignal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])\nctypes.CDLL(None).sleep(30)",
}
HUNG_PROBE = """
import json, sys, time
sys.path.insert(0, ".")
from docexec.runner import Runner
runner = Runner(".")
runner.verify("```python\\nimport torch\\n```\\n", "warm-up.md")  # the forkserver is up, as in a build
times = {}
for name, code in json.loads(sys.argv[1]).items():
    start = time.perf_counter()
    run = runner.verify(f"```python timeout=1\\n{code}\\n```\\n", "hung.md")
    assert run.results[0].problem == "timeout", run.results[0].report()
    times[name] = time.perf_counter() - start
print(json.dumps(times))
"""


def hung_blocks(work: Path) -> None:
    """Seconds from a page's submission to the report of its block that hangs past timeout=1 (medians)."""
    runs = []
    for _ in range(RUNS):
        done = subprocess.run([sys.executable, "-c", HUNG_PROBE, json.dumps(HUNG)], cwd=work, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"A block that hangs with timeout=1, reported after (target <= 1 + {HANG_TARGET:g} s), {os.cpu_count()} workers")
    for name in HUNG:
        seconds = statistics.median(run[name] for run in runs)
        verdict = "ok" if seconds <= 1 + HANG_TARGET else "OVER TARGET"
        print(f"  {name:42s} {seconds:6.2f} s  {verdict}")


EXAMPLES_ALONE = """
import sys, time
from pathlib import Path
sys.path.insert(0, ".")
import torch
from docexec import engine
start = time.perf_counter()
for page in sorted(Path("docs").rglob("*.md")):
    engine.verify(page.read_text(), page.as_posix(), snippets_dir=Path("snippets"))
print(time.perf_counter() - start)
"""


def examples_alone(work: Path) -> float:
    """Seconds to run every page's examples once torch is imported: the cost of the examples themselves,
    first uses of lazily imported parts of torch included (torch.func's jacrev imports torch._dynamo)."""
    times = []
    for _ in range(RUNS):
        done = subprocess.run([sys.executable, "-c", EXAMPLES_ALONE], cwd=work, capture_output=True, text=True, check=True)
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def page_weights(work: Path) -> list[str]:
    """Run the browser tests on the copy's built site; they record each page's weight. Returns the pages."""
    subprocess.run([str(BIN / "mkdocs"), "build", "--strict", "--quiet"], cwd=work, check=True, capture_output=True)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:markdown-docs", "-o", "addopts=", "tests/test_browser.py", "-k", "real_browser"],
        cwd=work, capture_output=True, text=True,
    )
    if done.returncode != 0:
        print(done.stdout[-3000:])
    weights = json.loads((work / "site-report" / "page-weight.json").read_text())
    print("\nPage weight in Chromium (bytes transferred, gzip-compressed as GitHub Pages serves them)")
    print(f"  {'page':28s} {'requests':>8s} {'KiB':>8s}")
    for page, weight in sorted(weights.items()):
        print(f"  {page:28s} {weight['requests']:8d} {weight['bytes'] / 1024:8.0f}")
    return sorted(weights)


def lighthouse(work: Path, pages: list[str]) -> None:
    base, server = site_server.serve(work / "site")
    print(f"\nLighthouse 12.2.3 (mobile: simulated slow 4G, 4x CPU slowdown), median of {RUNS} runs, target in brackets")
    print("  " + f"{'page':28s}" + "".join(f"{name:>16s}" for name in SCORE_TARGETS))
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    report = work / "lighthouse.json"
    for page in pages:
        url = f"{base}/{'' if page == 'home' else page + '/'}"
        command = [
            str(ROOT / "node_modules" / ".bin" / "lighthouse"), url, "--quiet", "--output=json",
            f"--output-path={report}", f"--chrome-flags={CHROMIUM_FLAGS}",
            "--only-categories=" + ",".join(SCORE_TARGETS),
        ]
        runs = []
        for _ in range(RUNS):  # Lighthouse's own advice: the median of several runs
            subprocess.run(command, env=env, capture_output=True, check=True)
            categories = json.loads(report.read_text())["categories"]
            runs.append([round(categories[name]["score"] * 100) for name in SCORE_TARGETS])
        scores = [round(statistics.median(column)) for column in zip(*runs)]
        cells = "".join(
            f"{score:>10d} ({target:>3d})" + ("!" if score < target else " ")
            for score, target in zip(scores, SCORE_TARGETS.values())
        )
        print(f"  {page:28s}{cells}")
    server.shutdown()
    print("  (! marks a score below its target)")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for name in COPIED:
            source = ROOT / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, work / name)
        (work / "node_modules").symlink_to(ROOT / "node_modules")
        build_and_test_times(work)
        print(f"\n`make serve`: from a save of {bench_serve.PAGE} to the page served (medians of {RUNS} saves)")
        for name, (seconds, target) in bench_serve.serve_times(work, RUNS).items():
            print(f"  {name:42s} {seconds:6.2f} s" + (f"  (<= {target:.2f} s) {'ok' if seconds <= target else 'OVER TARGET'}" if target else ""))
        pages = page_weights(work)
        if os.environ.get("BENCH_LIGHTHOUSE", "on") != "off":
            lighthouse(work, pages)


if __name__ == "__main__":
    main()
