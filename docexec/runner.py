"""Where a block runs: each page in a process of its own, supervised by the parent.

`Runner` forks one worker per page from a multiprocessing forkserver that has already imported torch, numpy
and matplotlib, so no page can see another's state and a page starts in milliseconds. Up to one worker per
core runs at a time. The worker runs the page's blocks in order and tells the parent which block it starts;
the parent kills a worker whose block passes its timeout, and reports a worker that dies, with the block it
was running. Each block's output is captured at the file-descriptor level (fd 1 and 2), so `print`,
`os.write`, C extensions and subprocesses all land in it, in order.

`run_here` runs a page's blocks in this process instead, the same way: the engine's own unit tests use it.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import hashlib
import io
import linecache
import multiprocessing
import multiprocessing.forkserver
from multiprocessing import popen_forkserver, spawn
import os
import random
import signal
import sys
import tempfile
import threading
import time
import traceback
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from docexec import figures
from docexec.engine import Block, Cache, PageRun, Result, file_hash, normalise, parse, verify

TORCH_THREADS = 1  # the same in every worker, so a printed digit does not depend on the machine's cores
GRACE = 1.0  # seconds past a block's timeout before the parent kills its worker
START_LIMIT = 120.0  # seconds a worker may take to start (the first one waits for the server to import torch)
PRELOAD = ["torch", "torch._dynamo", "numpy", "matplotlib.pyplot", "docexec.runner"]  # torch.func imports torch._dynamo
SERVER_ENVIRONMENT = {"PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
_STOPS_THE_PAGE = {"raised", "timeout", "died", "thread", "skipped"}


class BlockTimeout(BaseException):
    """Raised inside a block that ran past its timeout (a BaseException, so `except Exception` can't eat it)."""


# --------------------------------------------------------------------------------------------- one block


class _BlockStream(io.TextIOBase):
    """sys.stdout and sys.stderr while a block runs: written straight to fd 1 or 2, in order with anything
    else written there. Writes from threads that earlier blocks left running are dropped."""

    def __init__(self, fd: int, earlier_threads: set):
        self._fd = fd
        self._earlier = earlier_threads
        self._out = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), "utf-8", "backslashreplace", write_through=True)

    def write(self, text: str) -> int:
        if threading.current_thread() in self._earlier:
            return len(text)
        return self._out.write(text)

    def flush(self) -> None:
        self._out.flush()

    def fileno(self) -> int:
        return self._fd

    @property
    def buffer(self):  # `sys.stdout.buffer.write(b"...")` works as in a script
        return self._out.buffer

    @property
    def encoding(self) -> str:
        return "utf-8"

    def writable(self) -> bool:
        return True


def _flush_c_streams() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).fflush(None)  # C's printf buffers, when fd 1 is not a terminal


@contextlib.contextmanager
def _captured(path: str | None, earlier_threads: set):
    """Send fd 1 and 2 (and sys.stdout, sys.stderr) into one file while the block runs; yields a list that
    holds the text written once the block is over."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()
    _flush_c_streams()
    sink = open(path, "w+b") if path else tempfile.TemporaryFile("w+b")
    saved = os.dup(1), os.dup(2)
    streams = sys.stdout, sys.stderr
    os.dup2(sink.fileno(), 1)
    os.dup2(sink.fileno(), 2)
    sys.stdout, sys.stderr = _BlockStream(1, earlier_threads), _BlockStream(2, earlier_threads)
    written: list[str] = []
    try:
        yield written
    finally:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            with contextlib.suppress(Exception):
                stream.flush()
        _flush_c_streams()
        sys.stdout, sys.stderr = streams
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        sink.seek(0)
        written.append(sink.read().decode("utf-8", "backslashreplace"))
        sink.close()


@contextlib.contextmanager
def _deadline(seconds: float, expired: list):
    """Raise BlockTimeout in the block after `seconds` (SIGALRM also interrupts sleeps), and note that it
    expired, whatever the block does with the exception. Off the main thread there is no alarm: a worker's
    supervisor still kills it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        expired.append(True)
        raise BlockTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _python_default_filters() -> None:
    """The filters of a plain `python script.py`, whatever the host (pytest shows more, MkDocs fewer):
    a reader sees the warnings that running the page as a script would show, once per place."""
    warnings.resetwarnings()
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__", append=True)
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.filterwarnings("ignore", category=category, append=True)
    warnings.simplefilter("default", append=True)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings appear in the output as `Category: message`, without the machine-specific path."""
    sys.stderr.write(f"{category.__name__}: {message}\n")


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
    if isinstance(error, SyntaxError) and error.filename in blocks:
        block = blocks[error.filename]
        if error.lineno and 0 < error.lineno <= len(block.origins):
            error.filename, error.lineno = block.origins[error.lineno - 1]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
    return "".join(lines + traceback.format_exception_only(type(error), error)).rstrip()


def _lingering(earlier_threads: set) -> list[threading.Thread]:
    me = threading.current_thread()
    return [t for t in threading.enumerate() if t.is_alive() and not t.daemon and t not in earlier_threads and t is not me]


def run_block(block: Block, namespace: dict, blocks: dict[str, Block], capture_path: str | None = None, ended=None) -> Result:
    """Run one block in `namespace`; what it wrote to fd 1 and 2 is its output. `ended()` is called as soon as
    the block's own code is over, before its figures are drawn: the supervisor's clock stops there."""
    # Line i of the compiled source is entry i of block.origins; linecache serves the source to warnings,
    # inspect and tracebacks under the same name.
    linecache.cache[block.filename] = (len(block.source), None, block.source.splitlines(True), block.filename)
    earlier_threads = set(threading.enumerate()) - {threading.current_thread()}
    problem, details, expired = None, "", []
    with _captured(capture_path, earlier_threads) as written, warnings.catch_warnings():
        _python_default_filters()
        warnings.showwarning = _show_warning
        try:
            with _deadline(block.timeout, expired):
                exec(compile(block.source, block.filename, "exec"), namespace)
            if block.raises:
                problem = "no-exception"
        except BlockTimeout:
            pass
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # a page may raise anything, SystemExit included
            if block.raises and not expired:
                sys.stdout.write("".join(traceback.format_exception_only(type(error), error)))
            else:
                problem, details = "raised", _traceback(error, blocks)
    if ended:
        ended()
    if expired:
        problem, details = "timeout", _timeout_message(block)
    drawn = figures.collect("f" + hashlib.sha256(block.source.encode()).hexdigest()[:10])  # ids unique on the page
    if problem is None:
        problem, details = _figure_problem(block, drawn) or _thread_problem(earlier_threads) or (None, "")
    return Result(block, normalise(written[0]), problem, details, drawn)


def _timeout_message(block: Block) -> str:
    return f"the block did not finish within {block.timeout:g} s (allow more with `timeout=N` on its fence)"


def _figure_problem(block: Block, drawn: list[str]) -> tuple[str, str] | None:
    if drawn and not block.alt:
        return "figure", f'the block draws {len(drawn)} figure(s) but its fence has no alt="..." text: describe what the figure shows, for readers who cannot see it'
    if block.alt and not drawn:
        return "figure", "the fence has alt=... but the block leaves no figure open: draw one (and do not close or show it), or remove alt"
    return None


def _thread_problem(earlier_threads: set) -> tuple[str, str] | None:
    left = _lingering(earlier_threads)
    if not left:
        return None
    names = ", ".join(thread.name for thread in left)
    return "thread", f"the block left thread(s) running: {names}; join them before the block ends, or start them with daemon=True"


def _run_page(blocks: list[Block], started=None, ended=None, finished=None, capture_folder: str | None = None) -> list[Result]:
    """Run a page's blocks in order in one fresh namespace; after a block that stops the page, the rest are
    skipped. `started(index)`, `ended(index)` and `finished(index, result)` tell a supervisor where it is."""
    namespace = {"__name__": "__main__"}
    by_filename = {block.filename: block for block in blocks}
    results = []
    for index, block in enumerate(blocks):
        if results and results[-1].problem in _STOPS_THE_PAGE:
            result = Result(block, "", "skipped")
        else:
            if started:
                started(index)
            capture = os.path.join(capture_folder, str(index)) if capture_folder else None
            result = run_block(block, namespace, by_filename, capture, ended and (lambda: ended(index)))
        results.append(result)
        if finished:
            finished(index, result)
    return results


def reset_state() -> None:
    """The same starting point for every page: seeds, print options, grad mode, dtype, anomaly mode, threads."""
    import numpy
    import torch

    random.seed(0)
    numpy.random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(TORCH_THREADS)
    torch.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    torch.set_grad_enabled(True)
    torch.autograd.set_detect_anomaly(False)
    figures.setup()


def run_here(blocks: list[Block]) -> tuple[list[Result], dict[str, str]]:
    """Run a page's blocks in this process (for the engine's unit tests): nothing isolates it from others."""
    reset_state()
    return _run_page(blocks), {}


# --------------------------------------------------------------------------------------------- the worker


def _project_files(root: str) -> dict[str, str]:
    """{path: sha256} of the project's own Python files that the page imported (not the engine's, not
    installed packages): the cache is keyed on them too."""
    engine_folder = os.path.dirname(os.path.abspath(__file__))
    found = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not (isinstance(path, str) and os.path.isabs(path) and os.path.isfile(path)):
            continue  # built in, namespace, or not a file (torch.ops says "_ops.py")
        if (
            path.startswith(root + os.sep)
            and not path.startswith(engine_folder + os.sep)
            and "site-packages" not in path
            and os.sep + "." not in path[len(root) :]
        ):
            found[path] = file_hash(path) or ""
    return found


def _worker(connection, blocks: list[Block], root: str, capture_folder: str) -> None:
    """A page's process: a fresh start, the blocks in order, each step told to the parent."""
    os.setpgrp()  # a group of its own: the parent ends it with every process a block started
    os.chdir(root)
    sys.path.insert(0, root)
    faulthandler.enable(file=sys.__stderr__)  # a crash's stack goes to fd 2: the running block's output
    reset_state()
    _run_page(
        blocks,
        started=lambda index: connection.send(("started", index)),
        ended=lambda index: connection.send(("ended", index)),
        finished=lambda index, result: connection.send(("finished", index, result.output, result.problem, result.details, result.figures)),
        capture_folder=capture_folder,
    )
    connection.send(("files", _project_files(root)))
    connection.close()
    os._exit(0)  # threads the page left behind die with it


# --------------------------------------------------------------------------------------------- the parent

_server_lock = threading.Lock()
_ENGINE_HOME = str(Path(__file__).resolve().parent.parent)


def _context():
    """The forkserver, started once per parent with the modules every page needs already imported."""
    context = multiprocessing.get_context("forkserver")
    with _server_lock:
        if _ENGINE_HOME not in sys.path:  # the server and the workers import docexec from the parent's sys.path
            sys.path.append(_ENGINE_HOME)
        context.set_forkserver_preload(PRELOAD)
        saved = {name: os.environ.get(name) for name in SERVER_ENVIRONMENT}
        os.environ.update(SERVER_ENVIRONMENT)
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    return context


class _Popen(popen_forkserver.Popen):
    """Starts a worker without re-importing the parent's __main__ (the `mkdocs` script, a user's script
    without a main guard): a worker needs only what the forkserver preloaded."""

    def _launch(self, process_obj):
        with _server_lock:
            prepare = spawn.get_preparation_data
            spawn.get_preparation_data = lambda name: {
                key: value for key, value in prepare(name).items() if not key.startswith("init_main_from")
            }
            try:
                super()._launch(process_obj)
            finally:
                spawn.get_preparation_data = prepare


class _Worker(multiprocessing.context.ForkServerProcess):
    _Popen = staticmethod(_Popen)


def _with_output(details: str, capture_folder: str, index: int) -> str:
    """The explanation, and the last lines the block wrote before it was stopped (a crash's stack included)."""
    try:
        text = Path(capture_folder, str(index)).read_bytes().decode("utf-8", "backslashreplace")
    except OSError:
        return details
    lines = normalise(text).splitlines()[-30:]
    return "\n".join([details, "What it wrote before it stopped:", *lines]) if lines else details


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"killed by {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"


class Runner:
    """Runs each page in a fresh process, up to `workers` at a time (default: one per core)."""

    def __init__(self, root: Path, workers: int | None = None):
        self.root = str(Path(root).resolve())
        self.workers = workers or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="docexec-page")

    def submit(self, text: str, page: str, cache: Cache | None = None, snippets_dir: Path | None = None, line_offset: int = 0) -> Future:
        """Start verifying a page now; the Future holds its PageRun."""
        return self._pool.submit(verify, text, page, cache, snippets_dir, line_offset, True, self.run)

    def submit_all(self, pages: list[tuple], cache: Cache | None = None, snippets_dir: Path | None = None) -> list[Future]:
        """Start verifying every page, given as (text, page, line_offset), the costliest first so that a long page
        does not start last; the Futures come back in the order of `pages`."""

        def cost(item):  # a page's blocks' time limits: a fair guess of what it will take, before any run
            return sum(block.timeout for block in parse(item[0], item[1], snippets_dir, item[2])[0])

        futures = {}
        for index in sorted(range(len(pages)), key=lambda i: -cost(pages[i])):
            text, page, line_offset = pages[index]
            futures[index] = self.submit(text, page, cache, snippets_dir, line_offset)
        return [futures[index] for index in range(len(pages))]

    @staticmethod
    def start_server() -> None:
        """Start the forkserver (it imports torch) in the background now, before the first page needs it."""
        threading.Thread(target=_context, name="docexec-forkserver", daemon=True).start()

    def verify(self, text: str, page: str, cache: Cache | None = None, snippets_dir: Path | None = None, line_offset: int = 0) -> PageRun:
        return self.submit(text, page, cache, snippets_dir, line_offset).result()

    def run(self, blocks: list[Block]) -> tuple[list[Result], dict[str, str]]:
        """Run one page's blocks in a worker of their own, enforcing each block's timeout from here."""
        context = _context()
        receiver, sender = context.Pipe(duplex=False)
        with tempfile.TemporaryDirectory(prefix="docexec-") as capture_folder:
            process = _Worker(target=_worker, args=(sender, blocks, self.root, capture_folder), daemon=True)
            process.start()
            sender.close()
            try:
                results, files = self._supervise(process, receiver, blocks, capture_folder)
            finally:
                with contextlib.suppress(OSError):
                    os.killpg(process.pid, signal.SIGKILL)  # the worker and anything its blocks left running
                process.join()
                receiver.close()
        return [result or Result(block, "", "skipped") for block, result in zip(blocks, results)], files

    def _supervise(self, process, receiver, blocks, capture_folder):
        results: list[Result | None] = [None] * len(blocks)
        running, deadline = 0, time.monotonic() + START_LIMIT  # running: the block the worker is in, or next
        while True:
            if not receiver.poll(max(deadline - time.monotonic(), 0)):  # `run` kills the worker
                if running == len(blocks):  # every block is done; the worker hung while it was ending
                    return results, None
                details = _timeout_message(blocks[running]) + "; it was stopped"
                results[running] = Result(blocks[running], "", "timeout", _with_output(details, capture_folder, running))
                return results, None
            try:
                message = receiver.recv()
            except EOFError:  # the worker ended without its last message: the block it was in (or the last) ended it
                process.join()
                index = min(running, len(blocks) - 1)
                details = (
                    f"the process running the block ended ({_death(process.exitcode)}) before the page finished: "
                    "a block must not end its process (os._exit, a crash in C code, the kernel killing it)"
                )
                output = results[index].output if results[index] else ""
                results[index] = Result(blocks[index], output, "died", _with_output(details, capture_folder, index))
                return results, None
            if message[0] == "started":
                running = message[1]
                deadline = time.monotonic() + blocks[running].timeout + GRACE
            elif message[0] == "ended":  # the block's code is over: drawing its figures is not its time
                deadline = time.monotonic() + START_LIMIT
            elif message[0] == "finished":
                index, output, problem, details, drawn = message[1:]
                results[index] = Result(blocks[index], output, problem, details, drawn)
                running, deadline = index + 1, time.monotonic() + START_LIMIT
            else:
                return results, message[1]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
