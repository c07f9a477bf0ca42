"""The runner's promises: a process per page, time enforced from outside, everything a block writes captured,
crashes and lingering threads named; each proved on a fixture page in tests/fixtures/ that breaks it."""

import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from conftest import ROOT
from docexec import engine, figures
from docexec.mkdocs_hook import RENDERERS
from docexec.runner import GRACE, Runner

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def runner():
    runner = Runner(ROOT)
    yield runner
    runner.close()


def run(runner: Runner, name: str) -> engine.PageRun:
    text = (FIXTURES / name).read_text()
    return runner.verify(text, f"fixtures/{name}", snippets_dir=FIXTURES / "snippets")


def finishes(function, seconds: float = 120):
    """The result of `function()`, failing the test (instead of hanging it) if it does not return in time."""
    results = []
    worker = threading.Thread(target=lambda: results.append(function()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert results, f"did not return within {seconds} s"
    return results[0]


def test_a_block_that_ends_its_process_fails_naming_the_block(runner):
    before, exiting, after = run(runner, "os_exit.md").results
    assert before.ok
    assert exiting.problem == "died" and after.problem == "skipped"
    assert exiting.report().startswith("fixtures/os_exit.md:11: the process running the block ended (exit code 0)")


def test_a_process_that_ends_after_the_last_block_fails_that_block_and_is_not_cached(runner, tmp_path):
    text = (FIXTURES / "exit_after_last_block.md").read_text()
    cache = engine.Cache(tmp_path)
    (last,) = runner.verify(text, "fixtures/exit_after_last_block.md", cache).results
    assert last.problem == "died" and last.output == "last block done"
    assert "the process running the block ended (exit code 3) before the page finished" in last.report()
    assert not list(tmp_path.iterdir())


def test_a_segfault_is_reported_with_its_signal_and_the_crash_stack(runner):
    (crash,) = run(runner, "segfault.md").results
    assert crash.problem == "died"
    assert "fixtures/segfault.md:3: the process running the block ended (killed by SIGSEGV)" in crash.report()
    assert "about to crash" in crash.details and "Fatal Python error: Segmentation fault" in crash.details


@pytest.mark.parametrize("name", ["swallowed_timeout.md", "long_c_call.md"])
def test_a_block_that_ignores_its_timeout_is_killed_by_the_supervisor(runner, name):
    (hung,) = finishes(lambda: run(runner, name)).results
    assert hung.problem == "timeout"
    assert hung.report() == (
        f"fixtures/{name}:3: the block did not finish within 1 s (allow more with `timeout=N` on its fence); it was stopped"
    )


def test_no_state_crosses_pages(runner):
    assert not run(runner, "state_first.md").failures
    second = run(runner, "state_second.md")
    assert not second.failures, "\n".join(failure.report() for failure in second.failures)


def test_the_state_fixtures_do_break_a_runner_without_isolation():
    """Proof that test_no_state_crosses_pages can fail: the same two pages in one process."""
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from docexec import engine
        from docexec.runner import run_here
        pages = [Path({str(FIXTURES)!r}) / name for name in ("state_first.md", "state_second.md")]
        runs = [engine.verify(page.read_text(), page.name, run=run_here) for page in pages]
        sys.stderr.write(str(len(runs[1].failures)))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stderr.strip().splitlines()[-1] == "1"


def test_the_version_stamp_is_shown_as_text_whatever_the_versions_say():
    from docexec.mkdocs_hook import stamp

    sentence = stamp({"torch": "2.13.0+cpu<script>*x*", "python": "3.11.7"})
    assert "<script>" not in sentence and "&lt;script&gt;" in sentence and r"\*x\*" in sentence and r"2\.13\.0\+cpu" in sentence


def test_output_written_past_sys_stdout_is_captured_in_order(runner):
    result = run(runner, "fd_output.md")
    assert not result.failures, result.failures[0].report() if result.failures else ""


def test_a_lingering_thread_is_named_and_a_daemon_thread_cannot_print_into_the_next_block(runner):
    starts, sleeps, leaves = run(runner, "threads.md").results
    assert starts.ok and sleeps.ok  # the daemon thread printed during the second block: not its output
    assert leaves.problem == "thread"
    assert leaves.report() == (
        "fixtures/threads.md:30: the block left thread(s) running: sleeper; join them before the block ends, "
        "or start them with daemon=True"
    )


def sleepers() -> list:
    """The live processes started by orphan_process.md."""
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if process.info["status"] != psutil.STATUS_ZOMBIE and "time.sleep(60)" in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def test_processes_a_page_starts_end_with_it(runner):
    assert not run(runner, "orphan_process.md").failures
    assert sleepers() == []


def test_pages_run_in_parallel_one_worker_per_core(runner):
    assert runner.workers == os.cpu_count()


def test_a_page_that_imports_a_local_module_runs_again_when_the_module_changes(tmp_path):
    (tmp_path / "local_module.py").write_text("VALUE = 1\n")
    page = '```python\nimport local_module\n\nprint(local_module.VALUE)\n```\n\n```text title="Output"\n1\n```\n'
    cache = engine.Cache(tmp_path / "cache")
    project = Runner(tmp_path, workers=1)
    try:
        first = project.verify(page, "p.md", cache)
        assert not first.cached and not first.failures
        assert project.verify(page, "p.md", cache).cached
        (tmp_path / "local_module.py").write_text("VALUE = 2\n")
        changed = project.verify(page, "p.md", cache)
        assert not changed.cached and changed.results[0].output == "2"
    finally:
        project.close()


FIGURE = """
```python{options}
import matplotlib.pyplot as plt

fig, ax = plt.subplots()
ax.plot([1, 2, 3], [3, 1, 2], label="loss")
ax.set_xlabel("step")
ax.legend()
print("drawn")
```

```text title="Output"
drawn
```
"""


def test_a_figure_becomes_inline_svg_the_same_bytes_every_run_and_needs_its_alt_text(runner):
    page = FIGURE.format(options=' alt="A loss that falls, then rises"')
    first, second = (runner.verify(page, "p.md").results[0] for _ in range(2))
    assert first.ok and first.output == "drawn" and len(first.figures) == 1
    assert first.figures == second.figures  # byte-identical from run to run
    svg = first.figures[0]
    assert svg.startswith("<svg ") and "\n" not in svg and "currentColor" in svg and figures.INK not in svg
    assert "<?xml" not in svg and "<style" not in svg and "<metadata" not in svg
    html = engine.render(runner.verify(page, "p.md"), RENDERERS)
    assert '<div class="docexec-figure"><svg role="img" aria-label="A loss that falls, then rises"' in html
    (missing,) = runner.verify(FIGURE.format(options=""), "p.md").results
    assert missing.problem == "figure" and 'no alt="..." text' in missing.report()
    (unused,) = runner.verify('```python alt="a plot"\nx = 1\n```\n', "p.md").results
    assert unused.problem == "figure" and "leaves no figure open" in unused.report()


# --------------------------------------------------------------------------------------------- end to end

EXITING_PAGE = "# Exits\n\n```python\nimport os\n\nos._exit(0)\n```\n"


def test_a_page_that_ends_its_process_fails_the_strict_build_and_the_page_tests(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(EXITING_PAGE)
    (tmp_path / "snippets").mkdir()
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: t\nhooks: [{ROOT / 'docexec' / 'mkdocs_hook.py'}]\n"
        "markdown_extensions: [admonition, pymdownx.superfences]\n"
    )
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=tmp_path, capture_output=True, text=True)
    assert build.returncode != 0 and "docs/index.md:3: the process running the block ended (exit code 0)" in build.stderr

    shutil.copytree(ROOT / "docexec", tmp_path / "docexec", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tests").mkdir()
    for name in ("conftest.py", "test_pages.py"):
        shutil.copy(ROOT / "tests" / name, tmp_path / "tests" / name)
    (tmp_path / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    tests = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_pages.py"], cwd=tmp_path, capture_output=True, text=True)
    assert tests.returncode == 1, tests.stdout
    assert "1 failed" in tests.stdout and "docs/index.md:3: the process running the block ended" in tests.stdout


def test_a_page_changed_by_another_plugin_is_run_again_as_shown(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text('# Changed\n\n```python\nprint("written")\n```\n\n```text title="Output"\nchanged\n```\n')
    (tmp_path / "changer.py").write_text(
        "def on_page_markdown(markdown, **kwargs):\n    return markdown.replace('print(\"written\")', 'print(\"changed\")')\n"
    )
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: t\nhooks: [changer.py, {ROOT / 'docexec' / 'mkdocs_hook.py'}]\n"
        "markdown_extensions: [admonition, pymdownx.superfences]\n"
    )
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=tmp_path, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    assert "changed" in (tmp_path / "site" / "index.html").read_text()


def test_serve_shows_a_failing_or_hung_example_on_its_page_and_recovers_on_the_next_save(tmp_path):
    """`make serve` builds non-strictly: a failure is a box on the page, a hung block is stopped, the server stays
    up, and fixing the page is enough."""
    import socket
    import time
    import urllib.request

    from tools import bench_serve

    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "index.md"
    block = '# Served\n\n```python{options}\n{code}\n```\n\n```text title="Output"\nfixed\n```\n'
    page.write_text(block.format(options="", code='print("broken")'))
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: t\nstrict: true\nhooks: [{ROOT / 'docexec' / 'mkdocs_hook.py'}]\n"
        "markdown_extensions: [admonition, pymdownx.superfences]\n"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        bench_serve.serve_command(port),  # what `make serve` runs
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )

    def shown_once(text: str, seconds: float = 90) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert server.poll() is None, "the server stopped"
            try:
                html = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
                if text in html:
                    return html
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"{text!r} not shown within {seconds} s")

    try:
        shown_once("This example failed when the site was built")
        page.write_text(block.format(options=" timeout=1", code="while True:\n    try:\n        pass\n    except BaseException:\n        pass"))
        shown_once("did not finish within 1 s")
        page.write_text(block.format(options="", code='print("fixed")'))
        deadline = time.monotonic() + 90
        while "This example failed" in shown_once("fixed") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "This example failed" not in shown_once("fixed")
    finally:
        server.kill()
        server.wait()
