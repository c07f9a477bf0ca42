"""Execute the Python blocks of a Markdown page and check what they print.

The one engine of the project: the MkDocs hook and the tests both call it, so a page is parsed, run,
normalised and compared in exactly one way. It imports nothing from MkDocs, and imports torch only
when a page really has to run (a cache hit never does).

Convention (CONTRIBUTING.md has the long version):

    ```python                      executed; options: raises, norun, timeout=N, render="markdown"|"diagram"
    print(1 + 1)
    ```

    ```text title="Output"         the expected output, right after the block (blank lines between are fine)
    2
    ```
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import hashlib
import importlib.metadata
import io
import json
import linecache
import os
import platform
import re
import signal
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

# Any change to this file changes the version, so the cache can never serve results of an older engine.
ENGINE_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
DEFAULT_TIMEOUT = float(os.environ.get("DOCEXEC_TIMEOUT", "5"))
OUTPUT_INFO = 'text title="Output"'
RENDER_MODES = ("text", "markdown", "diagram")
ENGINE_OPTIONS = {"raises", "norun", "timeout", "render", "alt"}  # alt: the text of the figures a block draws
HIGHLIGHT_OPTIONS = {"title", "hl_lines", "linenums"}

_FENCE_OPEN = re.compile(r"^(?P<indent>[ ]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_OPTION = re.compile(r"""([A-Za-z_][\w-]*)(?:=("[^"]*"|'[^']*'|\S+))?""")
_INCLUDE = re.compile(r"""^(?P<indent>\s*)--8<--\s+(?P<q>["'])(?P<target>[^"']+)(?P=q)\s*$""")
_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")


class PageError(Exception):
    """A page that cannot be run as written (unknown fence option, missing snippet)."""


class BlockTimeout(BaseException):
    """Raised inside a block that ran past its timeout (a BaseException, so `except Exception` can't eat it)."""


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
    def expected(self) -> str:
        return normalise("\n".join(self.output.body)) if self.output else ""


def _parse_options(info: str) -> tuple[str, dict[str, str]]:
    lang, _, rest = info.strip().partition(" ")
    return lang, {key: value.strip("\"'") for key, value in _OPTION.findall(rest)}


def _dedent(line: str, indent: str) -> str:
    return line[len(indent) :] if line.startswith(indent) else line.lstrip(" ")


def _fences(lines: list[str]) -> list[Fence]:
    """Every outermost fence of the page, at any indentation (admonitions, details and tabs indent them)."""
    fences, i = [], 0
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i].rstrip("\r\n"))
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = i + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        body = [_dedent(line.rstrip("\r\n"), indent) for line in lines[i + 1 : end]]
        lang, options = _parse_options(opening["info"])
        fences.append(Fence(i, min(end, len(lines) - 1), indent, fence, lang, options, body))
        i = end + 1
    return fences


def _is_output_of(code: Fence, candidate: Fence, lines: list[str]) -> bool:
    between = lines[code.end + 1 : candidate.start]
    return (
        candidate.indent == code.indent
        and candidate.options.get("title") == "Output"
        and all(not line.strip() for line in between)
    )


def parse(text: str, page: str, snippets_dir: Path | None = None, line_offset: int = 0) -> list[Block]:
    """The executable blocks of a page, each paired with its expected-output fence (or None)."""
    lines = text.splitlines(keepends=True)
    fences = _fences(lines)
    blocks = []
    for index, fence in enumerate(fences):
        if fence.lang != "python" or "norun" in fence.options:
            continue
        where = f"{page}:{fence.start + 1 + line_offset}"
        unknown = set(fence.options) - ENGINE_OPTIONS - HIGHLIGHT_OPTIONS
        if unknown:
            raise PageError(f"{where}: unknown fence option(s) {sorted(unknown)}; the engine knows {sorted(ENGINE_OPTIONS)}")
        if fence.options.get("render", "text") not in RENDER_MODES:
            raise PageError(f"{where}: render must be one of {', '.join(RENDER_MODES)}")
        following = fences[index + 1] if index + 1 < len(fences) else None
        output = following if following and _is_output_of(fence, following, lines) else None
        first_line = fence.start + 2 + line_offset
        source, origins = _expand(fence.body, page, first_line, snippets_dir or Path("snippets"), where)
        blocks.append(Block(page, line_offset, fence, output, source, origins))
    return blocks


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
            raise PageError(f"{where}: snippet {name!r} not found in {snippets_dir}/")
        included = path.read_text(encoding="utf-8").splitlines()
        first = 0
        if section:
            marks = [i for i, text in enumerate(included) if f"--8<-- [start:{section}]" in text or f"--8<-- [end:{section}]" in text]
            if len(marks) != 2:
                raise PageError(f"{where}: section {section!r} is not marked in {path}")
            first, included = marks[0] + 1, included[marks[0] + 1 : marks[1]]
        for number_in_file, inner in enumerate(included, first + 1):
            out.append(include["indent"] + inner)
            origins.append((str(path), number_in_file))
    return "\n".join(out) + "\n", origins


# --------------------------------------------------------------------------------------------- running


@dataclass
class Result:
    block: Block
    output: str  # normalised: what the block printed (+ the exception line of a `raises` block)
    problem: str | None = None  # "raised", "timeout", "no-exception", "skipped" or None
    details: str = ""  # the traceback or explanation of a problem

    @property
    def matches(self) -> bool:
        return self.output == self.block.expected

    @property
    def ok(self) -> bool:
        return self.problem is None and self.matches

    def report(self) -> str:
        """What went wrong, where, and what to run: in words a contributor can act on."""
        where = f"{self.block.page}:{self.block.line}"
        if self.problem == "raised":
            return f"{where}: the block raised an exception (mark the fence `raises` if that is intended)\n{self.details}"
        if self.problem == "timeout":
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


def normalise(text: str) -> str:
    """Only what is truly nondeterministic (object addresses), plus trailing white space."""
    text = _ADDRESS.sub("at 0x…", text)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def reset_state() -> None:
    """The same starting point for every page: seeds, print options, grad mode, dtype, anomaly mode."""
    import random

    import torch

    random.seed(0)
    torch.manual_seed(0)
    torch.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    torch.set_grad_enabled(True)
    torch.autograd.set_detect_anomaly(False)


@contextlib.contextmanager
def _deadline(seconds: float):
    """Raise BlockTimeout in this thread after `seconds`: SIGALRM in the main thread (it also interrupts
    sleeps), an asynchronous exception in any other (`mkdocs serve` rebuilds in a worker thread)."""
    if threading.current_thread() is threading.main_thread():

        def on_alarm(signum, frame):
            raise BlockTimeout

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return
    thread = ctypes.c_ulong(threading.get_ident())
    timer = threading.Timer(
        seconds, lambda: ctypes.pythonapi.PyThreadState_SetAsyncExc(thread, ctypes.py_object(BlockTimeout))
    )
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _python_default_filters() -> None:
    """The filters of a plain `python script.py`, whatever the host (pytest shows more, MkDocs fewer):
    a reader sees the warnings that running the page as a script would show, once per place."""
    warnings.resetwarnings()
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__", append=True)
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.filterwarnings("ignore", category=category, append=True)
    warnings.simplefilter("default", append=True)


def _warning_printer(stream):
    """Warnings appear in the output as `Category: message`, without the machine-specific path."""

    def show(message, category, filename, lineno, file=None, line=None):
        stream.write(f"{category.__name__}: {message}\n")

    return show


def _traceback(error: BaseException, blocks: dict[str, Block]) -> str:
    """The traceback from the page's own frames on, with the page's file and line numbers."""
    frames = []
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == __file__:
            continue
        block = blocks.get(frame.filename)
        if block and 0 < frame.lineno <= len(block.origins):
            path, line = block.origins[frame.lineno - 1]
            text = block.source.splitlines()[frame.lineno - 1].strip()
            frame = traceback.FrameSummary(path, line, frame.name, line=text)
        frames.append(frame)
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
    return "".join(lines + traceback.format_exception_only(type(error), error)).rstrip()


def _run_block(block: Block, namespace: dict, blocks: dict[str, Block]) -> Result:
    # Line i of the compiled source is entry i of block.origins; linecache serves the source to warnings
    # and inspect under the same name.
    linecache.cache[block.filename] = (len(block.source), None, block.source.splitlines(True), block.filename)
    code = compile(block.source, block.filename, "exec")
    buffer = io.StringIO()
    problem, details = None, ""
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer), warnings.catch_warnings():
        _python_default_filters()
        warnings.showwarning = _warning_printer(buffer)
        try:
            with _deadline(block.timeout):
                exec(code, namespace)
            if block.raises:
                problem = "no-exception"
        except BlockTimeout:
            problem = "timeout"
            details = f"the block did not finish within {block.timeout:g} s (allow more with `timeout=N` on its fence)"
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # a page may raise anything, SystemExit included
            if block.raises:
                buffer.write("".join(traceback.format_exception_only(type(error), error)))
            else:
                problem, details = "raised", _traceback(error, blocks)
    return Result(block, normalise(buffer.getvalue()), problem, details)


def run_blocks(blocks: list[Block]) -> list[Result]:
    """Run a page's blocks in order in one fresh namespace; after a crash or timeout the rest are skipped."""
    if not blocks:
        return []
    reset_state()
    namespace = {"__name__": "__main__"}
    by_filename = {block.filename: block for block in blocks}
    results = []
    for block in blocks:
        if results and results[-1].problem in ("raised", "timeout", "skipped"):
            results.append(Result(block, "", "skipped"))
        else:
            results.append(_run_block(block, namespace, by_filename))
    return results


# --------------------------------------------------------------------------------------------- caching


def torch_version() -> str:
    """Read from the package metadata: a cache lookup must not import torch."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "none"


def cache_key(blocks: list[Block]) -> str:
    """Everything that can change what the blocks print."""
    parts = [ENGINE_VERSION, sys.version, torch_version()]
    parts += [json.dumps([block.source, sorted(block.code.options.items())]) for block in blocks]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@dataclass
class Cache:
    """One JSON file per page in `folder`; a page is stored only when every block of it passed."""

    folder: Path

    def _file(self, page: str) -> Path:
        return self.folder / (re.sub(r"[^\w.-]", "_", page) + ".json")

    def get(self, page: str, key: str) -> dict | None:
        """{"outputs": [...], "environment": {...}} stored for this page and key, or None."""
        try:
            stored = json.loads(self._file(page).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return stored if stored.get("key") == key else None

    def put(self, page: str, key: str, outputs: list[str], environment: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stored = {"key": key, "outputs": outputs, "environment": environment}
        self._file(page).write_text(json.dumps(stored), encoding="utf-8")


# --------------------------------------------------------------------------------------------- a page


def environment() -> dict:
    """The versions that produced a run, as the run saw them (torch is imported by then)."""
    import torch

    return {"torch": torch.__version__, "python": platform.python_version()}


@dataclass
class PageRun:
    page: str
    text: str
    blocks: list[Block]
    results: list[Result]
    environment: dict = field(default_factory=dict)  # versions that produced the outputs; empty if none ran
    cached: bool = False
    failures: list[Result] = field(init=False)

    def __post_init__(self):
        self.failures = [result for result in self.results if not result.ok]


def verify(
    text: str,
    page: str,
    cache: Cache | None = None,
    snippets_dir: Path | None = None,
    line_offset: int = 0,
    execute: bool = True,
) -> PageRun:
    """Parse, run (or take from the cache) and compare every block of one page. With execute=False nothing
    runs and each block is taken to print its expected output (a plain build, for the benchmark)."""
    blocks = parse(text, page, snippets_dir, line_offset)
    if not execute:
        return PageRun(page, text, blocks, [Result(block, block.expected) for block in blocks])
    key = cache_key(blocks) if cache and blocks else None
    stored = cache.get(page, key) if key else None
    if stored and len(stored["outputs"]) == len(blocks):
        results = [Result(block, output) for block, output in zip(blocks, stored["outputs"])]
        return PageRun(page, text, blocks, results, stored["environment"], cached=True)
    results = run_blocks(blocks)
    run = PageRun(page, text, blocks, results, environment() if blocks else {})
    if key and not run.failures:
        cache.put(page, key, [result.output for result in run.results], run.environment)
    return run


# --------------------------------------------------------------------------------------------- rewriting


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _fence_lines(indent: str, info: str, body: str, newline: str) -> list[str]:
    inner = [(indent + line if line else "") + newline for line in body.split("\n")]
    return [f"{indent}```{info}{newline}", *inner, f"{indent}```{newline}"]


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
    Blocks that failed otherwise keep their fences: there is no trustworthy output to write."""
    changed = [result for result in run.results if result.problem is None and not result.matches]

    def replacement(result: Result, span: list[str], newline: str) -> list[str]:
        code, output = result.block.code, result.block.output
        code_lines = span[: code.end - code.start + 1]
        if not result.output:
            return code_lines
        if output is None:
            return [*code_lines, newline, *_fence_lines(code.indent, OUTPUT_INFO, result.output, newline)]
        body = _fence_lines(output.indent, "", result.output, newline)[1:-1]
        return [*span[: output.start - code.start + 1], *body, span[-1]]

    return _rewrite(run.text, changed, replacement)


def render(run: PageRun, renderers: dict) -> str:
    """The page as the site shows it: engine options dropped from code fences, each output fence replaced by
    this run's output (passed through `renderers[mode]` for render="markdown"/"diagram"), and a failure box
    under each block that failed."""

    def replacement(result: Result, span: list[str], newline: str) -> list[str]:
        block = result.block
        indent = block.code.indent
        kept = " ".join(f'{k}="{v}"' if v else k for k, v in block.code.options.items() if k in HIGHLIGHT_OPTIONS)
        out = [f"{indent}{block.code.fence}python {kept}".rstrip() + newline]
        out += span[1 : block.code.end - block.code.start + 1] + [newline]
        if result.output and (block.render_mode == "text" or not result.ok):
            out += [*_fence_lines(indent, OUTPUT_INFO, result.output, newline), newline]
        elif result.output:
            try:
                rendered = renderers[block.render_mode](result.output)
            except ValueError as error:
                raise PageError(f"{block.page}:{block.line}: cannot render the output as {block.render_mode}: {error}")
            out += [(indent + line if line else "") + newline for line in rendered.split("\n")] + [newline]
        if not result.ok:
            out += [f'{indent}!!! failure "This example failed when the site was built"{newline}', newline]
            out += _fence_lines(indent + "    ", "text", result.report(), newline)
        return out

    return _rewrite(run.text, run.results, replacement)
