"""Failures shown where a pull request's reader looks: on the changed lines and in the run's summary.

GitHub Actions turns a line `::error file=docs/page.md,line=12,title=...::message` printed by a step into an
annotation on that line of the pull request's diff, and renders the Markdown a step appends to the file named by
`GITHUB_STEP_SUMMARY` on the run's page. Outside Actions both functions do nothing, so the build and the tests
can call them unconditionally. Standard library only: no MkDocs, no engine.

    failure = Failure("docs/gradients.md", 84, "Output differs", "the output differs ...", diff)
    emit_error(failure)            # prints the workflow command when GITHUB_ACTIONS=true
    append_summary([failure])      # appends a Markdown section when GITHUB_STEP_SUMMARY is set

GitHub shows at most 10 error annotations per step and 50 per job; the summary lists every failure.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Failure:
    file: str  # the path from the repository's root, with forward slashes: "docs/gradients.md"
    line: int | None  # the first line of the failing block (1-based), or None for the file as a whole
    title: str  # a few words: "Output differs", "Exception", "Timeout"
    message: str  # what went wrong and what to do, any number of lines
    diff: str = ""  # the unified diff (expected -> actual) or the traceback, shown in the summary


def escape_data(text: str) -> str:
    """A workflow command's message, as GitHub unescapes it: %, CR and LF encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (file, title): as data, and also : and , encoded."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_error(failure: Failure) -> str:
    """`::error file=F,line=N,title=T::MESSAGE`, each part escaped; no `line=` when the line is unknown."""
    properties = [f"file={escape_property(failure.file)}"]
    if failure.line is not None:
        properties.append(f"line={int(failure.line)}")
    properties.append(f"title={escape_property(failure.title)}")
    return f"::error {','.join(properties)}::{escape_data(failure.message)}"


def in_actions(environ: Mapping[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get("GITHUB_ACTIONS") == "true"


def emit_error(failure: Failure, *, environ: Mapping[str, str] | None = None, stream: TextIO | None = None) -> bool:
    """Print `failure` as an error annotation on stdout when running in GitHub Actions. True if printed."""
    if not in_actions(environ):
        return False
    out = sys.stdout if stream is None else stream
    out.write(format_error(failure) + "\n")
    out.flush()
    return True


def _fence(text: str) -> str:
    """Backticks enough to fence `text`: one more than its longest run, at least three."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _escape_markdown(text: str) -> str:
    """Plain text for a Markdown paragraph: no HTML, no emphasis, no links; line breaks kept."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"([\\`*_\[\]#|])", r"\\\1", text)
    return "  \n".join(text.splitlines())


def _place(failure: Failure, environ: Mapping[str, str]) -> str:
    place = failure.file if failure.line is None else f"{failure.file}:{failure.line}"
    server, repository, sha = (environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    if not (server and repository and sha):
        return f"`{place}`"
    anchor = "" if failure.line is None else f"#L{failure.line}"
    return f"[`{place}`]({server}/{repository}/blob/{sha}/{failure.file}{anchor})"


def summary_markdown(failures: Iterable[Failure], heading: str, environ: Mapping[str, str] | None = None) -> str:
    """The Markdown section `append_summary` writes: a heading, then each failure with its diff."""
    environ = os.environ if environ is None else environ
    failures = list(failures)
    parts = [f"### {heading} ({len(failures)})\n"]
    for failure in failures:
        parts.append(f"#### {_place(failure, environ)}: {_escape_markdown(failure.title)}\n")
        if failure.message:
            parts.append(_escape_markdown(failure.message) + "\n")
        if failure.diff:
            fence = _fence(failure.diff)
            parts.append(f"{fence}diff\n{failure.diff.rstrip(chr(10))}\n{fence}\n")
    return "\n".join(parts)


def append_summary(
    failures: Iterable[Failure],
    *,
    heading: str = "Failing examples",
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Append a Markdown section listing every failure (a ```diff block each) to $GITHUB_STEP_SUMMARY.

    Nothing is written when there is no failure or no GITHUB_STEP_SUMMARY. True if written."""
    environ = os.environ if environ is None else environ
    failures = list(failures)
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not failures or not path:
        return False
    with open(path, "a", encoding="utf-8") as summary:
        summary.write(summary_markdown(failures, heading, environ) + "\n")
    return True


def from_report(failure) -> Failure:
    """A Failure from one of the engine's (a Result or a Problem: `page`, `line`, `title`, `report()`): the report's
    first line without its place as the message, the rest (diff or traceback) as the diff."""
    first, _, rest = failure.report().partition("\n")
    message = first.split(": ", 1)[1] if first.startswith(f"{failure.page}:") else first
    return Failure(failure.page, failure.line, failure.title, message, rest)


def report(failures, heading: str = "Failing examples") -> list[Failure]:
    """In GitHub Actions, every failure as an annotation on its page's line, then all of them in the step summary;
    elsewhere nothing. Blocks skipped after a failure are left out: their page's failure is the one to fix."""
    shown = [from_report(failure) for failure in failures if getattr(failure, "problem", None) != "skipped"]
    for failure in shown:
        emit_error(failure)
    append_summary(shown, heading=heading)
    return shown
