"""`make portability`: every page run under each CPU setting that a contributor's machine may have, compared with
what the pages and their kept notebooks say. A block whose output depends on the CPU (the last bits of MKL's or
the vectorized kernels' math) shows up here, on this machine, before it fails on someone else's.

Each setting is a fresh process (the math libraries read these variables once, when they load) that runs every
page with the runner of the build and the tests, and reports what differs; this process prints the table.

    python tools/portability.py [--root DIR] [--setting NAME]...
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _numpy_avx512() -> str:
    """The AVX-512 targets numpy dispatches to on this CPU, as NPY_DISABLE_CPU_FEATURES takes them."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return " ".join(name for name in __cpu_dispatch__ if ("AVX512" in name or name == "X86_V4") and __cpu_features__.get(name))


def settings() -> dict[str, dict[str, str]]:
    """{name: environment} of the settings to run here: on x86-64, MKL's and ATen's instruction sets and numpy's
    AVX-512 kernels switched off in turn; on other CPUs only the default (they have no such switches)."""
    found = {"default": {}}
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return found
    for name, value in [
        ("MKL_ENABLE_INSTRUCTIONS", "AVX2"),
        ("MKL_ENABLE_INSTRUCTIONS", "SSE4_2"),
        ("ATEN_CPU_CAPABILITY", "default"),
        ("ATEN_CPU_CAPABILITY", "avx2"),
        ("NPY_DISABLE_CPU_FEATURES", _numpy_avx512()),
    ]:
        if value:
            found[f"{name}={value}"] = {name: value}
    return found


def check(root: Path) -> dict[str, list[str]]:
    """{page: [what differs, first to last]} for every page under root/docs, run as the page tests run it."""
    sys.path.insert(0, str(ROOT))
    from docexec import diagram, notebook
    from docexec.runner import Runner

    pages = sorted((root / "docs").rglob("*.md"))
    names = [path.relative_to(root).as_posix() for path in pages]
    runner = Runner(root)
    futures = runner.submit_all(
        [(path.read_bytes().decode("utf-8"), name, 0) for path, name in zip(pages, names)], snippets_dir=root / "snippets"
    )
    found = {}
    for name, future in zip(names, futures):
        run = future.result()
        differences = [failure.report() for failure in run.failures]
        differences += notebook.stale(root, notebook.files_for(run, diagram.to_svg), run)
        if differences:
            found[name] = differences
    runner.close()
    return found


_PLACE = re.compile(r"\b(\S+\.md:\d+)")


def first_place(page: str, difference: str) -> str:
    """`docs/page.md:LINE: what`, in one line: the first place a difference names, and its first line."""
    first = difference.splitlines()[0]
    place = _PLACE.search(first)
    return first if first.startswith(page) else f"{place[1] if place else page}: {first}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the project whose docs/ to check (default: this one)")
    parser.add_argument("--setting", action="append", help="run only these settings (by name, as the table shows them)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        print(json.dumps(check(arguments.root.resolve())))
        return 0
    chosen = settings()
    if arguments.setting:
        unknown = set(arguments.setting) - set(chosen)
        if unknown:
            parser.error(f"no such setting here: {sorted(unknown)}; this machine has {sorted(chosen)}")
        chosen = {name: chosen[name] for name in arguments.setting}
    print(f"Every page of {arguments.root}/docs under {len(chosen)} CPU settings ({platform.machine()}):\n", flush=True)
    rows, failed = [], False
    for name, variables in chosen.items():
        started = time.monotonic()
        environment = {**os.environ, **variables}
        done = subprocess.run(
            [sys.executable, __file__, "--worker", "--root", str(arguments.root)],
            env=environment, capture_output=True, text=True, cwd=ROOT,
        )
        seconds = time.monotonic() - started
        if done.returncode != 0:
            failed = True
            rows.append((name, "-", f"the run itself failed (exit {done.returncode}):\n{done.stderr[-2000:]}"))
            continue
        differing = json.loads(done.stdout.splitlines()[-1])
        failed = failed or bool(differing)
        rows.append((name, str(len(differing)), f"({seconds:.0f} s)"))
        rows += [("", "", first_place(page, found[0])) for page, found in differing.items()]
    width = max(len(row[0]) for row in rows)
    print(f"{'setting':<{width}}  pages that differ  first difference")
    for setting, count, what in rows:
        print(f"{setting:<{width}}  {count:<17} {what}")
    if failed:
        print("\nAn output or figure that changes with the CPU: print a property that holds everywhere, or round it"
              " (CONTRIBUTING.md, 'Outputs that hold on every machine'); then `make portability` again.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
