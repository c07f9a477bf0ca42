"""Read the Python blocks of a Markdown page, check what they printed, and write pages back.

The pure part of the one engine of the project: parsing, comparing, caching and rewriting. It runs nothing
itself and imports neither torch nor MkDocs nor the runner: `docexec/runner.py` is where a block runs, and
`verify` is handed its `run`. The MkDocs hook and the tests both call `verify`, so a page is parsed, run,
normalised and compared in exactly one way.

Convention (CONTRIBUTING.md has the long version):

    ```python                      executed; options: raises, norun, timeout=N, render="markdown"|"diagram",
    print(1 + 1)                   alt="..." (the text of the figures the block draws), platforms="linux-x86_64 ..."
                                   (its output is compared only there; elsewhere it runs and is listed as not compared)
    ```

    ```text title="Output"         the expected output, right after the block (blank lines between are fine)
    2
    ```
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.metadata
import json
import logging
import math
import os
import platform
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

_HERE = Path(__file__).resolve().parent
# Any change to the code that runs or compares blocks changes the version: the cache never serves an older
# engine's results.
ENGINE_VERSION = hashlib.sha256(
    b"".join((_HERE / name).read_bytes() for name in ("engine.py", "runner.py", "figures.py"))
).hexdigest()[:16]
DEFAULT_TIMEOUT = float(os.environ.get("DOCEXEC_TIMEOUT", "5"))
OUTPUT_INFO = 'text title="Output"'
RENDER_MODES = ("text", "markdown", "diagram")
ENGINE_OPTIONS = {"raises", "norun", "timeout", "render", "alt", "platforms"}  # alt: the text of the figures a block draws
PLATFORMS = ("linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64")  # what `platforms=` may name
HIGHLIGHT_OPTIONS = {"title", "hl_lines", "linenums"}
# Info strings a reader takes for Python, although only ```python runs.
PYTHON_LOOKALIKES = {"python", "py", "py3", "python3", "python2", "pycon", "ipython", "ipython3", "pyi"}

_FENCE_OPEN = re.compile(r"^(?P<indent>[ ]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_OPTION = re.compile(r"""([A-Za-z_][\w-]*)(?:=("[^"]*"|'[^']*'|\S+))?""")
_INCLUDE = re.compile(r"""^(?P<indent>\s*)--8<--\s+(?P<q>["'])(?P<target>[^"']+)(?P=q)\s*$""")
_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")
log = logging.getLogger("docexec")  # outside MkDocs' logger: a warning here never fails a strict build


def this_platform() -> str:
    """The platform as `platforms=` names it: the system and the CPU, e.g. linux-x86_64 or macos-arm64."""
    system = {"darwin": "macos"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower().replace("amd64", "x86_64")
    if machine in ("arm64", "aarch64"):
        machine = "arm64" if system == "macos" else "aarch64"  # how each system names its own CPU
    return f"{system}-{machine}"


class PageError(Exception):
    """A page that cannot be rewritten or rendered as written."""


# --------------------------------------------------------------------------------------------- parsing


@dataclass
class Fence:
    start: int  # index of the opening line in the page's lines
    end: int  # index of the closing line
    indent: str
    fence: str  # the fence characters, e.g. ``` or ````
    lang: str
    options: dict[str, str]
    body: list[str]  # content lines, without the fence's indentation
    closed: bool = True
    in_comment: bool = False  # inside an HTML comment: shown to nobody


@dataclass
class Block:
    page: str  # path shown in messages, e.g. docs/gradients.md
    line_offset: int  # lines of the file before the text that was parsed (front matter)
    code: Fence
    output: Fence | None
    source: str  # the code with snippet includes expanded
    origins: list[tuple[str, int]]  # for each line of `source`: (file, line) it came from

    @property
    def line(self) -> int:
        return self.code.start + 1 + self.line_offset

    @property
    def filename(self) -> str:
        """The name the block is compiled under: frames carry it, `origins` maps it back to the page."""
        return f"<{self.page}:{self.line}>"

    @property
    def raises(self) -> bool:
        return "raises" in self.code.options

    @property
    def render_mode(self) -> str:
        return self.code.options.get("render", "text")

    @property
    def timeout(self) -> float:
        return float(self.code.options.get("timeout", DEFAULT_TIMEOUT))

    @property
    def alt(self) -> str | None:
        return self.code.options.get("alt")

    @property
    def platforms(self) -> list[str]:
        """Where the output is compared: every platform, unless the fence names some."""
        return self.code.options["platforms"].split() if "platforms" in self.code.options else list(PLATFORMS)

    @property
    def compared(self) -> bool:
        """Whether this platform compares the block's output (it runs, and must not fail, everywhere)."""
        return this_platform() in self.platforms

    @property
    def expected(self) -> str:
        return normalise("\n".join(self.output.body)) if self.output else ""


@dataclass
class Problem:
    """A page that is wrong as written, found without running it: a place and what to do."""

    page: str
    line: int
    message: str
    problem: str = "page"
    title = "Page problem"

    def report(self) -> str:
        return f"{self.page}:{self.line}: {self.message}"


def _parse_info(info: str) -> tuple[str, dict[str, str]]:
    info = info.strip()
    if info.startswith("{"):  # attribute-list style: {.python title="x"}
        inner = info.strip("{} ")
        classes = [word for word in inner.split() if word.startswith(".")]
        return (f"{{{classes[0]}}}" if classes else ""), dict(_OPTION.findall(" ".join(w for w in inner.split() if not w.startswith("."))))
    lang, _, rest = info.partition(" ")
    return lang, {key: value.strip("\"'") for key, value in _OPTION.findall(rest)}


def _dedent(line: str, indent: str) -> str:
    return line[len(indent) :] if line.startswith(indent) else line.lstrip(" ")


def fences(lines: list[str]) -> list[Fence]:
    """Every outermost fence of the page, at any indentation (admonitions, details and tabs indent them),
    marked when it is never closed or sits inside an HTML comment."""
    fences, i, in_comment = [], 0, False
    while i < len(lines):
        line = lines[i].rstrip("\r\n")
        opening = _FENCE_OPEN.match(line)
        if opening and not (opening["fence"][0] == "`" and "`" in opening["info"]):
            indent, fence = opening["indent"], opening["fence"]
            closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
            end = i + 1
            while end < len(lines) and not closing.match(lines[end].rstrip("\r\n")):
                end += 1
            body = [_dedent(text.rstrip("\r\n"), indent) for text in lines[i + 1 : end]]
            lang, options = _parse_info(opening["info"])
            closed = end < len(lines)
            fences.append(Fence(i, min(end, len(lines) - 1), indent, fence, lang, options, body, closed, in_comment))
            i = end + 1
            continue
        if not in_comment and "<!--" in line:
            in_comment = "-->" not in line[line.rindex("<!--") :]
        elif in_comment and "-->" in line:
            in_comment = "<!--" in line[line.rindex("-->") :]
        i += 1
    return fences


def _is_output(fence: Fence) -> bool:
    return fence.options.get("title") == "Output"


def _follows(code: Fence, candidate: Fence, lines: list[str]) -> bool:
    between = lines[code.end + 1 : candidate.start]
    return candidate.indent == code.indent and all(not line.strip() for line in between)


def _option_problems(fence: Fence) -> list[str]:
    problems = []
    unknown = set(fence.options) - ENGINE_OPTIONS - HIGHLIGHT_OPTIONS
    if unknown:
        problems.append(f"unknown fence option(s) {sorted(unknown)}; the engine knows {sorted(ENGINE_OPTIONS)}")
    if fence.options.get("render", "text") not in RENDER_MODES:
        problems.append(f"render must be one of {', '.join(RENDER_MODES)}, not {fence.options['render']!r}")
    if "timeout" in fence.options:
        try:
            seconds = float(fence.options["timeout"])
        except ValueError:
            seconds = math.nan
        if not (0 < seconds < math.inf):
            problems.append(f"timeout must be a positive number of seconds, like timeout=20, not {fence.options['timeout']!r}")
    named = fence.options.get("platforms", PLATFORMS[0]).split()
    if not named or set(named) - set(PLATFORMS):
        problems.append(f"platforms names the platforms whose output is checked, among {', '.join(PLATFORMS)}, not {fence.options['platforms']!r}")
    if "alt" in fence.options and not fence.options["alt"].strip():
        problems.append('alt must describe the figure in words, like alt="The loss falls to 0.01 in 200 steps"')
    return problems


def parse(text: str, page: str, snippets_dir: Path | None = None, line_offset: int = 0) -> tuple[list[Block], list[Problem]]:
    """The executable blocks of a page, each paired with its expected-output fence (or None), and the problems
    that make the page ambiguous: they are errors, and the blocks that have one do not run."""
    lines = text.splitlines(keepends=True)
    found = fences(lines)
    blocks, problems, owned = [], [], set()

    def problem(fence: Fence, message: str) -> None:
        problems.append(Problem(page, fence.start + 1 + line_offset, message))

    for index, fence in enumerate(found):
        following = found[index + 1] if index + 1 < len(found) else None
        output = following if following and _is_output(following) and _follows(fence, following, lines) else None
        if not fence.closed:
            problem(fence, f"this fence is never closed: add a closing {fence.indent}{fence.fence} line where its code ends")
            continue
        python_like = fence.lang.strip("{.}").lower() in PYTHON_LOOKALIKES
        if not python_like or "norun" in fence.options:
            if python_like and output and not fence.in_comment:
                owned.add(output.start)
                problem(output, "this Output fence belongs to a `norun` block, so nothing checks it: delete it, or drop `norun`")
            continue
        if output:
            owned.add(output.start)
        if fence.in_comment:
            problem(fence, "a python block inside an HTML comment would run unseen and change what the visible blocks print: move it out of the comment, or delete it")
            continue
        if fence.lang != "python":
            problem(fence, f"a fence marked `{fence.lang}` looks like Python to a reader but is not run: write ```python to run and check it, or add `norun` to show it unrun")
            continue
        where = f"{page}:{fence.start + 1 + line_offset}"
        wrong = _option_problems(fence)
        try:
            source, origins = _expand(fence.body, page, fence.start + 2 + line_offset, snippets_dir or Path("snippets"), where)
        except PageError as error:
            wrong.append(str(error))
        for message in wrong:
            problem(fence, message)
        if not wrong:
            blocks.append(Block(page, line_offset, fence, output, source, origins))
    for fence in found:
        if _is_output(fence) and fence.start not in owned and not fence.in_comment:
            problem(fence, "no python block owns this Output fence: it must come right after its ```python block, with only blank lines between (move it there, or delete it)")
    problems.sort(key=lambda problem: problem.line)
    return blocks, problems


def _expand(body: list[str], page: str, first_line: int, snippets_dir: Path, where: str):
    """Inline pymdownx.snippets includes (`--8<-- "file.py"` or `"file.py:section"`), remembering origins."""
    out, origins = [], []
    for number, line in enumerate(body, first_line):
        include = _INCLUDE.match(line)
        if not include:
            out.append(line)
            origins.append((page, number))
            continue
        name, _, section = include["target"].partition(":")
        path = snippets_dir / name
        if not path.is_file():
            raise PageError(f"snippet {name!r} not found in {snippets_dir}/")
        included = path.read_text(encoding="utf-8").splitlines()
        first = 0
        if section:
            marks = [i for i, text in enumerate(included) if f"--8<-- [start:{section}]" in text or f"--8<-- [end:{section}]" in text]
            if len(marks) != 2:
                raise PageError(f"section {section!r} is not marked in {path}")
            first, included = marks[0] + 1, included[marks[0] + 1 : marks[1]]
        for number_in_file, inner in enumerate(included, first + 1):
            out.append(include["indent"] + inner)
            origins.append((str(path), number_in_file))
    return "\n".join(out) + "\n", origins


# --------------------------------------------------------------------------------------------- results


@dataclass
class Result:
    block: Block
    output: str  # normalised: what the block printed (+ the exception line of a `raises` block)
    problem: str | None = None  # "raised", "timeout", "died", "thread", "figure", "no-exception", "skipped" or None
    details: str = ""  # the traceback or explanation of a problem
    figures: list[str] = field(default_factory=list)  # SVG of each matplotlib figure the block left open

    @property
    def matches(self) -> bool:
        """The output is the expected one, or this platform does not compare it (see Block.compared)."""
        return self.output == self.block.expected or not self.block.compared

    @property
    def shown(self) -> str:
        """The output the page and its notebook show: this run's, or, for a block whose output this platform
        does not compare and that did not fail, the output checked where it is compared."""
        return self.output if self.block.compared or not self.ok else self.block.expected

    @property
    def ok(self) -> bool:
        return self.problem is None and self.matches

    @property
    def line(self) -> int:
        return self.block.line

    @property
    def page(self) -> str:
        return self.block.page

    @property
    def title(self) -> str:
        """A few words for the kind of failure (a CI annotation's title)."""
        return _TITLES.get(self.problem, "Output differs")

    def report(self) -> str:
        """What went wrong, where, and what to run: in words a contributor can act on."""
        where = f"{self.block.page}:{self.block.line}"
        if self.problem == "raised":
            return f"{where}: the block raised an exception (mark the fence `raises` if that is intended)\n{self.details}"
        if self.problem in ("timeout", "died", "thread", "figure"):
            return f"{where}: {self.details}"
        if self.problem == "no-exception":
            return f"{where}: the block is marked `raises` but raised nothing"
        if self.problem == "skipped":
            return f"{where}: not run, because an earlier block of the page failed"
        diff = difflib.unified_diff(
            self.block.expected.splitlines(), self.output.splitlines(), "expected", "actual", lineterm=""
        )
        return (
            f"{where}: the output differs from the expected output\n"
            + "\n".join(diff)
            + "\nIf the new output is right, run `make update` to write it into the page."
        )


_TITLES = {
    "raised": "Exception",
    "timeout": "Timeout",
    "died": "Process ended",
    "thread": "Thread left running",
    "figure": "Figure without alt text",
    "no-exception": "No exception",
    "skipped": "Not run",
}


def normalise(text: str) -> str:
    """Only what is truly nondeterministic (object addresses), plus trailing white space."""
    text = _ADDRESS.sub("at 0x…", text)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


# A runner takes a page's blocks and returns their results and the project files the run imported,
# {absolute path: sha256}, or None when it could not learn them (the page is then not cached).
# `docexec.runner` has two: in this process, and in a fresh process per page.
RunBlocks = Callable[[list[Block]], "tuple[list[Result], dict[str, str] | None]"]


# --------------------------------------------------------------------------------------------- caching


def torch_version() -> str:
    """Read from the package metadata: a cache lookup must not import torch."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "none"


def versions() -> dict:
    """The versions that produce the outputs: the same parts as the cache key, never read from the cache."""
    return {"torch": torch_version(), "python": platform.python_version()}


def cache_key(blocks: list[Block]) -> str:
    """Everything that can change what the blocks print, except the project files they import (see Cache)."""
    parts = [ENGINE_VERSION, sys.version, torch_version()]
    parts += [json.dumps([block.source, sorted(block.code.options.items())]) for block in blocks]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def file_hash(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _is_list_of(value, kind) -> bool:
    return isinstance(value, list) and all(isinstance(item, kind) for item in value)


@dataclass
class Cache:
    """One JSON file per page in `folder`; a page is stored only when every block of it passed. An entry of
    any wrong shape is a miss; a folder that cannot be written is one warning, and the build goes on."""

    folder: Path
    writable: bool = True

    def _file(self, page: str) -> Path:
        return self.folder / (re.sub(r"[^\w.-]", "_", page) + ".json")

    def get(self, page: str, key: str, blocks: int) -> dict | None:
        """{"outputs": [...], "figures": [[...], ...]} stored for this page, key and number of blocks, if every
        project file the stored run imported is unchanged; else None."""
        try:
            stored = json.loads(self._file(page).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not (
            isinstance(stored, dict)
            and stored.get("key") == key
            and _is_list_of(stored.get("outputs"), str)
            and len(stored["outputs"]) == blocks
            and isinstance(stored.get("figures"), list)
            and len(stored["figures"]) == blocks
            and all(_is_list_of(figures, str) for figures in stored["figures"])
            and isinstance(stored.get("files"), dict)
            and all(isinstance(path, str) and isinstance(digest, str) for path, digest in stored["files"].items())
        ):
            return None
        if any(file_hash(path) != digest for path, digest in stored["files"].items()):
            return None
        return stored

    def put(self, page: str, key: str, results: list[Result], files: dict[str, str]) -> None:
        if not self.writable:
            return
        stored = {
            "key": key,
            "outputs": [result.output for result in results],
            "figures": [result.figures for result in results],
            "files": files,
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._file(page).write_text(json.dumps(stored), encoding="utf-8")
        except OSError as error:
            self.writable = False
            log.warning("docexec: cannot write the cache in %s (%s); going on without it", self.folder, error)


# --------------------------------------------------------------------------------------------- a page


@dataclass
class PageRun:
    page: str
    text: str
    blocks: list[Block]
    results: list[Result]
    environment: dict = field(default_factory=dict)  # versions that produced the outputs; empty if none ran
    cached: bool = False
    problems: list[Problem] = field(default_factory=list)
    failures: list = field(init=False)  # Problems first, then the Results that are not ok

    def __post_init__(self):
        self.failures = [*self.problems, *(result for result in self.results if not result.ok)]

    @property
    def uncompared(self) -> list[Result]:
        """The blocks that ran but whose output this platform does not compare (`platforms=`)."""
        return [result for result in self.results if not result.block.compared and result.problem is None]


def is_cached(text: str, page: str, cache: Cache, snippets_dir: Path | None = None, line_offset: int = 0) -> bool:
    """Whether `verify` would take every block of the page from the cache (or has nothing to run)."""
    blocks, _ = parse(text, page, snippets_dir, line_offset)
    return not blocks or cache.get(page, cache_key(blocks), len(blocks)) is not None


def verify(
    text: str,
    page: str,
    cache: Cache | None = None,
    snippets_dir: Path | None = None,
    line_offset: int = 0,
    execute: bool = True,
    run: RunBlocks | None = None,
) -> PageRun:
    """Parse, run (or take from the cache) and compare every block of one page. `run` runs the blocks; the
    engine has none of its own: `docexec.runner.run_here` runs them in this process (the engine's unit tests),
    a `docexec.runner.Runner`'s `run` in a fresh process per page (the build, the page tests). With
    execute=False nothing runs and each block is taken to print its expected output (a plain build)."""
    blocks, problems = parse(text, page, snippets_dir, line_offset)
    if not execute:
        return PageRun(page, text, blocks, [Result(block, block.expected) for block in blocks], problems=problems)
    if not blocks:
        return PageRun(page, text, blocks, [], problems=problems)
    key = cache_key(blocks) if cache else None
    stored = cache.get(page, key, len(blocks)) if cache else None
    if stored:
        results = [Result(block, output, figures=figures) for block, output, figures in zip(blocks, stored["outputs"], stored["figures"])]
        return PageRun(page, text, blocks, results, versions(), cached=True, problems=problems)
    if run is None:
        raise TypeError(
            f"{page}: verify needs `run` to run the page's blocks: docexec.runner.run_here (in this process) "
            "or a docexec.runner.Runner's run (a process per page)"
        )
    results, files = run(blocks)
    page_run = PageRun(page, text, blocks, results, versions(), problems=problems)
    if cache and files is not None and all(result.ok for result in results):
        cache.put(page, key, results, files)
    return page_run


# --------------------------------------------------------------------------------------------- rewriting


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def fence_for(body: str) -> str:
    """Backticks enough to fence `body`: one more than its longest line of backticks, and at least three."""
    longest = max((len(match) for match in re.findall(r"^\s*(`{3,})", body, flags=re.MULTILINE)), default=2)
    return "`" * (longest + 1)


def _fence_lines(indent: str, info: str, body: str, newline: str) -> list[str]:
    fence = fence_for(body)
    inner = [(indent + line if line else "") + newline for line in body.split("\n")]
    return [f"{indent}{fence}{info}{newline}", *inner, f"{indent}{fence}{newline}"]


def _rewrite(text: str, results: list[Result], replacement) -> str:
    """Replace, for each result, the lines from its code fence to its output fence (or to the end of the code
    fence when it has none) by `replacement(result, span, newline)`; from the end, so indices stay valid."""
    newline = _newline(text)
    lines = text.splitlines(keepends=True)
    unterminated = bool(lines) and not lines[-1].endswith(("\n", "\r"))
    if unterminated:
        lines[-1] += newline
    for result in reversed(results):
        code, output = result.block.code, result.block.output
        end = output.end if output else code.end
        lines[code.start : end + 1] = replacement(result, lines[code.start : end + 1], newline)
    joined = "".join(lines)
    return joined[: -len(newline)] if unterminated else joined


def update(run: PageRun) -> str:
    """The page text with each output fence set to what its block printed; nothing else changes.
    Blocks that failed otherwise keep their fences: there is no trustworthy output to write. A page with
    problems (an unclosed fence, an orphan Output fence...) is refused: where its outputs go is ambiguous."""
    if run.problems:
        raise PageError("\n".join(problem.report() for problem in run.problems))
    changed = [result for result in run.results if result.problem is None and not result.matches]

    def replacement(result: Result, span: list[str], newline: str) -> list[str]:
        code, output = result.block.code, result.block.output
        code_lines = span[: code.end - code.start + 1]
        if not result.output:
            return code_lines
        fenced = _fence_lines(code.indent, OUTPUT_INFO, result.output, newline)
        if output is None:
            return [*code_lines, newline, *fenced]
        return [*span[: output.start - code.start], *fenced]

    return _rewrite(run.text, changed, replacement)


def _failure_box(indent: str, report: str, newline: str) -> list[str]:
    return [
        f'{indent}!!! failure "This example failed when the site was built"{newline}',
        newline,
        *_fence_lines(indent + "    ", "text", report, newline),
        newline,
    ]


def _platforms_note(indent: str, block: Block, newline: str) -> list[str]:
    where = ", ".join(name.replace("-", " ").replace("macos", "macOS").replace("linux", "Linux") for name in block.platforms)
    return [
        f'{indent}!!! note "The last digits depend on the machine"{newline}',
        newline,
        f"{indent}    The exact last bits of this output depend on the CPU and its math library. It is checked on {where}.{newline}",
        newline,
    ]


def render(run: PageRun, renderers: dict) -> str:
    """The page as the site shows it: engine options dropped from code fences, each output fence replaced by
    this run's output (passed through `renderers[mode]` for render="markdown"/"diagram"), the block's figures
    under it (`renderers["figure"](svg, alt)`), and a failure box under each block that failed (at the top
    for the page's own problems)."""

    def replacement(result: Result, span: list[str], newline: str) -> list[str]:
        block = result.block
        indent = block.code.indent
        kept = " ".join(f'{k}="{v}"' if v else k for k, v in block.code.options.items() if k in HIGHLIGHT_OPTIONS)
        out = [f"{indent}{block.code.fence}python {kept}".rstrip() + newline]
        out += span[1 : block.code.end - block.code.start + 1] + [newline]
        shown = result.shown
        if shown and (block.render_mode == "text" or not result.ok):
            out += [*_fence_lines(indent, OUTPUT_INFO, shown, newline), newline]
        elif shown:
            try:
                rendered = renderers[block.render_mode](shown)
            except ValueError as error:
                raise PageError(f"{block.page}:{block.line}: cannot render the output as {block.render_mode}: {error}")
            out += [(indent + line if line else "") + newline for line in rendered.split("\n")] + [newline]
        for svg in result.figures:
            out += [indent + renderers["figure"](svg, block.alt or "") + newline, newline]
        if "platforms" in block.code.options:
            out += _platforms_note(indent, block, newline)
        if not result.ok:
            out += _failure_box(indent, result.report(), newline)
        return out

    rendered = _rewrite(run.text, run.results, replacement)
    if run.problems:
        newline = _newline(rendered)
        box = _failure_box("", "\n".join(problem.report() for problem in run.problems), newline)
        head, sep, rest = rendered.partition("\n")
        rendered = f"{head}{sep}{newline}{''.join(box)}{rest}" if head.startswith("# ") else "".join(box) + rendered
    return rendered
