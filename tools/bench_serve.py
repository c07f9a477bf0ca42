"""`make serve` after a save: the seconds from the save to the changed page being served.

The command is the one `make serve` runs (read with `make -n`), on a free port, in a copy of the site. A page
is saved with one prose line changed, then with one code line changed (a new comment: the page runs again), and
the served page is fetched over HTTP until the change shows. `make bench` prints `serve_times`; the test of
`make serve` (tests/test_serve_hook.py) drives the same `served` server.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ["docs", "snippets", "docexec", "overrides", "mkdocs.yml"]  # what `make serve` reads
PAGE, URL = "docs/gradients.md", "/gradients/"


def prose_edit(text: str, words: str) -> str:
    """The page with a paragraph of `words` under its title: a prose edit, whatever the page says."""
    title, newline, rest = text.partition("\n")
    return f"{title}{newline}\n{words}\n{rest}"


def code_edit(text: str, words: str) -> str:
    """The page with a comment of `words` atop its first python block: its code changed, its output not."""
    return text.replace("```python\n", f"```python\n# {words}\n", 1)

RUN_PROBE = """
import sys, time
from pathlib import Path
sys.path.insert(0, ".")
from docexec.runner import Runner
runner = Runner(".")
runner.verify("```python\\nimport torch\\n```\\n", "warm-up.md")  # the forkserver is up, as it is under serve
start = time.perf_counter()
runner.verify(Path(sys.argv[1]).read_text(), sys.argv[1], snippets_dir=Path("snippets"))
print(time.perf_counter() - start)
"""


def copy_site(target: Path) -> None:
    """What `make serve` reads, and the engine's cache when there is one (a stale entry is a miss)."""
    for name in SITE + [".cache/docexec"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy(source, target / name)


def serve_command(port: int) -> list[str]:
    """`make serve`'s mkdocs command, run by this interpreter and on `port`."""
    recipe = subprocess.run(["make", "-s", "-n", "-o", ".venv/.installed", "serve"], cwd=ROOT, capture_output=True, text=True, check=True)
    words = shlex.split(next(line for line in recipe.stdout.splitlines() if "mkdocs serve" in line), comments=True)
    arguments = words[words.index("serve") :]
    arguments[arguments.index("--dev-addr") + 1] = f"127.0.0.1:{port}"
    return [sys.executable, "-m", "mkdocs", *arguments]


class Server:
    def __init__(self, process: subprocess.Popen, base: str, log: Path):
        self.process, self.base, self.log = process, base, log

    def page(self, path: str) -> str:
        return urllib.request.urlopen(self.base + path, timeout=60).read().decode()

    def shown(self, path: str, text: str, seconds: float = 120, absent: str | None = None) -> str:
        """The page once it contains `text` (and not `absent`), fetched every 20 ms."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server stopped:\n" + self.log.read_text()[-3000:]
            with contextlib.suppress(OSError):
                html = self.page(path)
                if text in html and not (absent and absent in html):
                    return html
            time.sleep(0.02)
        raise AssertionError(f"{text!r} not shown on {path} within {seconds} s; the server's log:\n" + self.log.read_text()[-3000:])

    def save(self, path: Path, text: str, url: str, shown: str, absent: str | None = None) -> float:
        """Write `text` into the file; seconds until the page at `url` shows `shown` (and not `absent`)."""
        start = time.perf_counter()
        path.write_text(text, encoding="utf-8")
        self.shown(url, shown, absent=absent)
        return time.perf_counter() - start


@contextlib.contextmanager
def served(site: Path, env: dict | None = None):
    """`make serve`'s command serving `site`, up once its first build is done."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = site / "serve.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            serve_command(port), cwd=site, stdout=output, stderr=subprocess.STDOUT,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        server.shown("/", "</html>", seconds=600)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def page_run_time(site: Path, runs: int) -> float:
    """Median seconds the page's blocks take to run uncached, in a worker of a started forkserver."""
    times = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", RUN_PROBE, PAGE], cwd=site, capture_output=True, text=True, check=True)
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def serve_times(site: Path, runs: int = 3) -> dict[str, tuple[float, float | None]]:
    """{what: (median seconds, target or None)} for saves of docs/gradients.md under `make serve`, in `site`
    (a copy of the project: its page is restored afterwards)."""
    page = site / PAGE
    original = page.read_text(encoding="utf-8")
    prose, code = [], []
    try:
        with served(site) as server:
            server.shown(URL, "Computing gradients")
            for edit in range(runs):
                time.sleep(1)  # the previous rebuild is over: each save starts from a served site
                marker = f"(prose edit {edit})"
                prose.append(server.save(page, prose_edit(original, marker), URL, marker))
            for edit in range(runs):
                time.sleep(1)
                marker = f"code edit {edit}"
                code.append(server.save(page, code_edit(original, marker), URL, marker))
    finally:
        page.write_text(original, encoding="utf-8")
    run = page_run_time(site, runs)
    return {
        "prose save -> page served": (statistics.median(prose), 1.5),
        "code save -> page served": (statistics.median(code), run + 1.5),
        f"{PAGE} run alone (uncached)": (run, None),
    }


if __name__ == "__main__":  # the serve figures alone: python tools/bench_serve.py
    with tempfile.TemporaryDirectory() as folder:
        copy_site(Path(folder))
        for name, (seconds, target) in serve_times(Path(folder), int(os.environ.get("BENCH_RUNS", "3"))).items():
            print(f"  {name:42s} {seconds:6.2f} s" + (f"  (<= {target:.2f} s)" if target else ""))
