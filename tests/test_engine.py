"""The engine's promises on one page (parsing, comparing, caching, rewriting), each proved on a fixture page in
tests/fixtures/ that breaks it. The blocks run in this process here (`runner.run_here`); what needs a process
per page is proved in test_runner.py."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT
from docexec import diagram, engine
from docexec.runner import run_here
from docexec.mkdocs_hook import RENDERERS

FIXTURES = Path(__file__).parent / "fixtures"


def verify(name: str, **options) -> engine.PageRun:
    text = (FIXTURES / name).read_bytes().decode("utf-8")
    return engine.verify(text, f"fixtures/{name}", snippets_dir=FIXTURES / "snippets", run=run_here, **options)


def reports(run: engine.PageRun) -> str:
    return "\n".join(failure.report() for failure in run.failures)


def test_a_correct_page_passes_and_shares_state_between_its_blocks():
    run = verify("passing.md")
    assert [r.output for r in run.results][1] == "tensor([4., 6.], grad_fn=<MulBackward0>)"
    assert len(run.blocks) == 4 and not run.failures, reports(run)


def test_a_wrong_expected_output_fails_with_place_and_diff():
    run = verify("wrong_output.md")
    assert len(run.failures) == 1
    assert reports(run) == textwrap.dedent(
        """\
        fixtures/wrong_output.md:3: the output differs from the expected output
        --- expected
        +++ actual
        @@ -1,2 +1,2 @@
        -3
        +2
         same
        If the new output is right, run `make update` to write it into the page."""
    )


def test_an_unexpected_exception_names_the_page_line_and_skips_the_rest():
    run = verify("unexpected_exception.md")
    first, second, third = run.results
    assert first.ok and second.problem == "raised" and third.problem == "skipped"
    report = second.report()
    assert report.startswith("fixtures/unexpected_exception.md:10: the block raised an exception")
    # Both frames point into the page, at the page's own line numbers.
    assert 'File "fixtures/unexpected_exception.md", line 12, in <module>\n    helper([1, 2, 3])' in report
    assert 'File "fixtures/unexpected_exception.md", line 5, in helper\n    return values[10]' in report
    assert report.endswith("IndexError: list index out of range")
    assert "fixtures/unexpected_exception.md:15: not run" in third.report()


def test_a_declared_exception_passes_and_a_missing_one_fails():
    good, missing = verify("declared_exception.md").results
    assert good.ok, good.report()
    assert good.output.endswith("RuntimeError: Only Tensors of floating point and complex dtype can require gradients")
    assert missing.problem == "no-exception"
    assert missing.report() == "fixtures/declared_exception.md:15: the block is marked `raises` but raised nothing"


def test_a_block_that_hangs_times_out_with_a_clear_message():
    hung, after = verify("timeout.md").results
    assert hung.problem == "timeout" and after.problem == "skipped"
    assert hung.report() == (
        "fixtures/timeout.md:3: the block did not finish within 0.5 s (allow more with `timeout=N` on its fence)"
    )


def test_blocks_in_admonitions_details_and_tabs_run_and_nested_or_opted_out_fences_do_not():
    run = verify("nested.md")
    assert [r.output for r in run.results] == ["admonition", "details", "tab"]
    assert not run.failures


def test_broken_nested_outputs_are_reported():
    text = (FIXTURES / "nested.md").read_text().replace("    tab\n", "    bat\n")
    run = engine.verify(text, "fixtures/nested.md", run=run_here)
    assert [f.block.line for f in run.failures] == [25]


def test_update_changes_only_output_fences_byte_for_byte():
    run = verify("needs_update.md")
    assert (FIXTURES / "needs_update.expected.md").read_text() == engine.update(run)


def test_update_keeps_windows_line_endings():
    text = (FIXTURES / "needs_update.md").read_text().replace("\n", "\r\n")
    updated = engine.update(engine.verify(text, "fixtures/needs_update.md", run=run_here))
    assert updated == (FIXTURES / "needs_update.expected.md").read_text().replace("\n", "\r\n")


def test_update_of_an_up_to_date_page_is_the_identity():
    expected = (FIXTURES / "needs_update.expected.md").read_text()
    run = engine.verify(expected, "fixtures/needs_update.expected.md", run=run_here)
    assert not run.failures and engine.update(run) == expected


def test_object_addresses_are_normalised():
    run = verify("addresses.md")
    assert not run.failures, reports(run)
    assert engine.normalise("<Foo object at 0x7f3a2b1c>") == "<Foo object at 0x…>"


def test_state_does_not_leak_between_pages():
    assert not verify("leak_first.md").failures
    run = verify("leak_second.md")
    assert not run.failures, reports(run)


def test_each_page_starts_from_the_same_torch_state():
    import torch

    torch.manual_seed(123)
    torch.set_grad_enabled(False)
    page = '```python\nimport torch\nprint(torch.rand(1), torch.is_grad_enabled())\n```\n'
    outputs = [engine.verify(page, "p.md", run=run_here).results[0].output for _ in range(2)]
    assert outputs[0] == outputs[1] == "tensor([0.4963]) True"


def test_rendered_outputs_are_verified_as_text_and_drawn_in_the_page():
    run = verify("rendered.md")
    assert not run.failures, reports(run)
    html = engine.render(run, RENDERERS)
    assert "| `a + b` | AddBackward0 |" in html and '```text title="Output"' not in html
    assert html.count("<svg") == 1 and ">AddBackward0</text>" in html


def test_a_broken_diagram_is_reported_with_its_place():
    text = (FIXTURES / "rendered.md").read_text().replace("n0 --> n1", "n0 -> n1")
    run = engine.verify(text, "fixtures/rendered.md", run=run_here)
    with pytest.raises(engine.PageError, match=r"fixtures/rendered.md:15: cannot render the output as diagram"):
        engine.render(run, RENDERERS)


def test_failures_are_shown_on_the_rendered_page():
    page = engine.render(verify("wrong_output.md"), RENDERERS)
    assert '!!! failure "This example failed when the site was built"' in page
    assert "    -3\n    +2\n" in page


def test_engine_options_are_removed_from_the_rendered_fences():
    page = engine.render(verify("declared_exception.md"), RENDERERS)
    assert "```python raises" not in page and page.count("```python\n") == 2


def test_snippets_are_included_and_their_errors_point_into_the_snippet():
    run = verify("with_snippet.md")
    (result,) = run.results
    assert result.output == "9" and result.problem == "raised"
    helper = FIXTURES / "snippets" / "helper.py"
    assert f'File "{helper}", line 12, in <module>\n    broken()' in result.details
    assert f'File "{helper}", line 9, in broken\n    return 1 / 0' in result.details


def problems(text: str, page: str = "p.md", snippets=FIXTURES / "snippets") -> list[str]:
    return [problem.report() for problem in engine.parse(text, page, snippets)[1]]


def test_a_missing_snippet_or_unknown_option_is_a_problem_with_its_place():
    assert problems('```python\n--8<-- "nope.py"\n```\n') == [f"p.md:1: snippet 'nope.py' not found in {FIXTURES / 'snippets'}/"]
    (found,) = problems("text\n\n```python rasies\n1/0\n```\n")
    assert found.startswith("p.md:3: unknown fence option(s) ['rasies']")


def test_every_ambiguous_fence_is_an_error_at_its_line_and_runs_nothing():
    run = verify("ambiguous.md")
    lines = [problem.line for problem in run.problems]
    assert lines == [3, 7, 11, 15, 19, 23, 34, 46, 51, 56, 60, 64, 68, 76, 80], reports(run)
    assert [result.output for result in run.results] == ["owned"]  # the one unambiguous block
    text = reports(run)
    assert "fixtures/ambiguous.md:3: a fence marked `py` looks like Python" in text
    assert "fixtures/ambiguous.md:15: a fence marked `{.python}` looks like Python" in text
    assert "fixtures/ambiguous.md:34: no python block owns this Output fence" in text
    assert "fixtures/ambiguous.md:51: a python block inside an HTML comment" in text
    assert "fixtures/ambiguous.md:56: timeout must be a positive number of seconds, like timeout=20, not 'abc'" in text
    assert "fixtures/ambiguous.md:60: timeout must be a positive number" in text
    assert "fixtures/ambiguous.md:68: render must be one of text, markdown, diagram, not 'html'" in text
    assert "fixtures/ambiguous.md:76: this Output fence belongs to a `norun` block" in text
    assert "fixtures/ambiguous.md:80: this fence is never closed: add a closing ``` line where its code ends" in text


def test_an_output_fence_with_no_block_before_it_is_an_error():
    assert [problem.line for problem in verify("orphan_first.md").problems] == [1]


def test_problems_are_failures_shown_on_the_page_and_refused_by_update():
    run = verify("ambiguous.md")
    assert run.failures[: len(run.problems)] == run.problems
    assert '!!! failure "This example failed when the site was built"' in engine.render(run, RENDERERS)
    with pytest.raises(engine.PageError, match="fixtures/ambiguous.md:80: this fence is never closed"):
        engine.update(run)


def test_a_syntax_error_is_reported_at_the_pages_own_line_after_the_failures_before_it():
    wrong, broken, after = verify("syntax_error.md").results
    assert not wrong.matches and wrong.problem is None
    assert broken.problem == "raised" and after.problem == "skipped"
    assert 'File "fixtures/syntax_error.md", line 13' in broken.details  # the page's line, not the block's
    assert broken.details.endswith("SyntaxError: expected ':'")


def test_update_gives_an_output_with_a_fence_line_a_longer_fence_and_is_then_the_identity():
    page = 'Text\r\n\r\n```python\r\nprint("```")\r\nprint("````md")\r\n```\r\n'
    updated = engine.update(engine.verify(page, "p.md", run=run_here))
    assert updated == page + '\r\n`````text title="Output"\r\n```\r\n````md\r\n`````\r\n'
    run = engine.verify(updated, "p.md", run=run_here)
    assert not run.failures and engine.update(run) == updated


def test_the_diagram_layout_puts_each_node_below_its_parent():
    svg = diagram.to_svg('flowchart TD\n    a["top"]\n    b(["bottom"])\n    a --> b')
    assert svg.index(">top<") < svg.index(">bottom<")
    assert 'rx="17.0"' in svg  # the rounded tensor node
    with pytest.raises(diagram.DiagramError):
        diagram.to_svg("pie\n")


# --------------------------------------------------------------------------------------------- purity

PURITY_PROBE = """
import json, sys
sys.path.insert(0, {root!r})
from docexec import engine
text = open({page!r}).read()
plain = engine.verify(text, "fixtures/passing.md", execute=False)
refused = ""
try:
    engine.verify(text, "fixtures/passing.md")
except TypeError as error:
    refused = str(error)
heavy = sorted(name for name in sys.modules if name.split(".")[0] in ("torch", "mkdocs", "multiprocessing") or name == "docexec.runner")
print(json.dumps({{"failures": len(plain.failures), "refused": refused, "imported": heavy}}))
"""


def test_the_engine_imports_no_runner_no_process_no_torch_and_asks_for_a_run():
    code = PURITY_PROBE.format(root=str(ROOT), page=str(FIXTURES / "passing.md"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["failures"] == 0 and found["imported"] == []
    assert "docexec.runner.run_here" in found["refused"]


# --------------------------------------------------------------------------------------------- the cache

CACHE_PROBE = """
import json, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from docexec import engine
from docexec.runner import run_here
text = Path({page!r}).read_text()
run = engine.verify(text, "fixtures/passing.md", engine.Cache(Path({cache!r})), run=run_here)
print(json.dumps({{"cached": run.cached, "torch": "torch" in sys.modules, "failures": len(run.failures)}}))
"""


def probe(cache: Path, page: Path) -> dict:
    code = CACHE_PROBE.format(root=str(ROOT), page=str(page), cache=str(cache))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_cache_hit_imports_no_torch_and_a_code_change_misses(tmp_path):
    page = tmp_path / "page.md"
    page.write_text((FIXTURES / "passing.md").read_text())
    cache = tmp_path / "cache"
    assert probe(cache, page) == {"cached": False, "torch": True, "failures": 0}
    assert probe(cache, page) == {"cached": True, "torch": False, "failures": 0}
    page.write_text(page.read_text().replace("print(x * 2)", "print(x * 2)  # changed"))
    assert probe(cache, page)["cached"] is False


def test_a_prose_change_still_hits_the_cache(tmp_path):
    cache = engine.Cache(tmp_path)
    text = (FIXTURES / "passing.md").read_text()
    assert not engine.verify(text, "p.md", cache, run=run_here).cached
    assert engine.verify(text.replace("in order", "in the order written"), "p.md", cache, run=run_here).cached


def test_failures_are_never_cached(tmp_path):
    cache = engine.Cache(tmp_path)
    text = (FIXTURES / "wrong_output.md").read_text()
    engine.verify(text, "p.md", cache, run=run_here)
    assert not list(tmp_path.iterdir())
    assert not engine.verify(text, "p.md", cache, run=run_here).cached


def test_a_cached_page_still_fails_when_its_expected_output_is_edited(tmp_path):
    cache = engine.Cache(tmp_path)
    text = (FIXTURES / "passing.md").read_text()
    engine.verify(text, "p.md", cache, run=run_here)
    run = engine.verify(text.replace("tensor(13.", "tensor(14."), "p.md", cache, run=run_here)
    assert run.cached and len(run.failures) == 1


def test_a_cache_entry_of_any_wrong_shape_is_a_miss(tmp_path):
    cache = engine.Cache(tmp_path)
    text = (FIXTURES / "passing.md").read_text()
    engine.verify(text, "p.md", cache, run=run_here)
    (entry,) = tmp_path.iterdir()
    good = json.loads(entry.read_text())
    wrong_shapes = ["[]", "null", "{}", '"text"', json.dumps({**good, "outputs": None}),
                    json.dumps({**good, "outputs": [1, 2, 3, 4]}), json.dumps({**good, "figures": {}}),
                    json.dumps({**good, "files": []}), json.dumps({**good, "outputs": good["outputs"][:1]}), "{"]
    for wrong in wrong_shapes:
        entry.write_text(wrong)
        run = engine.verify(text, "p.md", cache, run=run_here)
        assert not run.cached and not run.failures, wrong
    assert engine.verify(text, "p.md", cache, run=run_here).cached  # the last miss stored a good entry again


def test_an_unwritable_cache_folder_is_one_warning_and_the_page_still_runs(tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    cache = engine.Cache(blocked / "cache")
    text = (FIXTURES / "passing.md").read_text()
    for _ in range(2):
        run = engine.verify(text, "p.md", cache, run=run_here)
        assert not run.failures and not run.cached
    assert [record.levelname for record in caplog.records if record.name == "docexec"] == ["WARNING"]


def test_the_versions_come_from_the_key_parts_not_from_the_cache_file(tmp_path):
    cache = engine.Cache(tmp_path)
    text = (FIXTURES / "passing.md").read_text()
    engine.verify(text, "p.md", cache, run=run_here)
    (entry,) = tmp_path.iterdir()
    entry.write_text(entry.read_text()[:-1] + ', "environment": {"torch": "0.0.1<script>"}}')
    run = engine.verify(text, "p.md", cache, run=run_here)
    assert run.cached and run.environment == engine.versions()


# --------------------------------------------------------------------------------------------- the build


def test_a_strict_build_fails_on_a_bad_page_and_reports_every_failure(tmp_path):
    """The real `mkdocs build --strict`, on a site made of two fixture pages, as GitHub Actions runs it: each
    failure is also an annotation on its page's line, and the step summary lists them with their diffs."""
    (tmp_path / "docs").mkdir()
    for name in ("wrong_output.md", "declared_exception.md"):
        (tmp_path / "docs" / name).write_text((FIXTURES / name).read_text())
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: t\nhooks: [{ROOT / 'docexec' / 'mkdocs_hook.py'}]\n"
        "markdown_extensions: [admonition, pymdownx.superfences]\n"
    )
    summary = tmp_path / "summary.md"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert done.returncode != 0
    assert "docs/wrong_output.md:3: the output differs from the expected output" in done.stderr
    assert "-3\n+2" in done.stderr
    assert "docs/declared_exception.md:15: the block is marked `raises` but raised nothing" in done.stderr
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::error ")]
    assert annotations == [
        "::error file=docs/declared_exception.md,line=15,title=No exception::the block is marked `raises` but raised nothing",
        "::error file=docs/wrong_output.md,line=3,title=Output differs::the output differs from the expected output",
    ]
    assert "```diff\n--- expected\n+++ actual\n@@ -1,2 +1,2 @@\n-3\n+2\n same" in summary.read_text()


# --------------------------------------------------------------------------------------------- platforms

PLATFORM_PAGE = """# Digits

```python platforms="linux-x86_64"
print(0.1 + 0.2)
```

```text title="Output"
0.30000000000000004 (as printed on the platform that checks it)
```
"""


def test_a_block_checked_on_other_platforms_runs_is_not_compared_and_is_listed(monkeypatch):
    monkeypatch.setattr(engine, "this_platform", lambda: "macos-arm64")
    run = engine.verify(PLATFORM_PAGE, "docs/digits.md", run=run_here)
    assert not run.failures and [result.line for result in run.uncompared] == [3]
    assert engine.update(run) == PLATFORM_PAGE  # `make update` here does not overwrite what another platform checked
    rendered = engine.render(run, RENDERERS)
    assert "0.30000000000000004 (as printed on the platform that checks it)" in rendered  # the page's checked output
    assert "It is checked on Linux x86_64." in rendered and 'platforms=' not in rendered


def test_on_a_platform_it_names_the_block_is_compared(monkeypatch):
    monkeypatch.setattr(engine, "this_platform", lambda: "linux-x86_64")
    run = engine.verify(PLATFORM_PAGE, "docs/digits.md", run=run_here)
    assert not run.uncompared and [failure.line for failure in run.failures] == [3]
    assert "+0.30000000000000004" in reports(run)


def test_a_block_that_fails_is_a_failure_on_every_platform(monkeypatch):
    monkeypatch.setattr(engine, "this_platform", lambda: "macos-arm64")
    run = engine.verify(PLATFORM_PAGE.replace("print(0.1 + 0.2)", "1 / 0"), "docs/digits.md", run=run_here)
    assert [failure.problem for failure in run.failures] == ["raised"] and not run.uncompared


def test_platforms_must_name_known_platforms():
    run = engine.verify(PLATFORM_PAGE.replace("linux-x86_64", "windows"), "docs/digits.md", run=run_here)
    assert reports(run).startswith("docs/digits.md:3: platforms names the platforms whose output is checked, among linux-x86_64")
    assert engine.this_platform() in engine.PLATFORMS


def test_make_test_lists_every_block_it_did_not_compare(monkeypatch):
    """conftest.py's summary, fed as tests/test_pages.py feeds it: no block goes uncompared in silence."""
    import sys
    import types

    import conftest

    monkeypatch.setattr(engine, "this_platform", lambda: "macos-arm64")
    run = engine.verify(PLATFORM_PAGE, "docs/digits.md", run=run_here)
    monkeypatch.setitem(sys.modules, "test_pages", types.SimpleNamespace(UNCOMPARED=run.uncompared))
    lines = []
    reporter = types.SimpleNamespace(section=lambda title: lines.append(f"== {title}"), line=lines.append)
    conftest.pytest_terminal_summary(reporter)
    assert lines == [
        "== blocks not compared on macos-arm64",
        "docs/digits.md:3: ran, output not compared (checked on linux-x86_64)",
    ]
