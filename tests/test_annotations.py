"""docexec/annotations.py: GitHub's workflow-command format, byte for byte, and the step summary."""

import io
import re

import pytest

from docexec.annotations import (
    Failure,
    append_summary,
    emit_error,
    escape_data,
    escape_property,
    format_error,
    summary_markdown,
)

ACTIONS = {"GITHUB_ACTIONS": "true"}


def unescape(text: str) -> str:
    """What the runner does to a command's values (actions/runner, ActionCommand.Unescape*)."""
    for escaped, plain in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, plain)
    return text


def parse(command: str) -> tuple[str, dict[str, str], str]:
    """A workflow command read the way the runner reads it: `::name k=v,k=v::data`."""
    match = re.fullmatch(r"::(\w+) ([^\r\n]*?)::([^\r\n]*)", command)
    assert match, f"not a one-line workflow command: {command!r}"
    name, properties, data = match.groups()
    pairs = dict(pair.split("=", 1) for pair in properties.split(","))
    return name, {key: unescape(value) for key, value in pairs.items()}, unescape(data)


def test_the_exact_command_for_a_plain_failure():
    failure = Failure("docs/gradients.md", 84, "Output differs", "the output differs from the expected output")
    assert format_error(failure) == (
        "::error file=docs/gradients.md,line=84,title=Output differs::the output differs from the expected output"
    )


@pytest.mark.parametrize(
    ("message", "escaped"),
    [
        ("line one\nline two\n", "line one%0Aline two%0A"),  # LF
        ("windows\r\nline", "windows%0D%0Aline"),  # CR LF
        ("100% of 3 blocks", "100%25 of 3 blocks"),  # percent
        ("already %0A escaped", "already %250A escaped"),  # a literal %0A must not become a newline
        ("expected: 1, got: 2", "expected: 1, got: 2"),  # the message keeps : and , as they are
        ("a::b", "a::b"),  # even a double colon: the message is everything after the first '::'
    ],
)
def test_the_message_is_escaped_as_data(message, escaped):
    assert escape_data(message) == escaped
    assert format_error(Failure("docs/a.md", 1, "T", message)).endswith("::" + escaped)


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("Output: tensor(1.), tensor(2.)", "Output%3A tensor(1.)%2C tensor(2.)"),
        ("50%, then: 100%", "50%25%2C then%3A 100%25"),
        ("%3A", "%253A"),  # percent first: a literal %3A stays a literal
        ("two\nlines\r", "two%0Alines%0D"),
    ],
)
def test_properties_also_escape_colon_and_comma(value, escaped):
    assert escape_property(value) == escaped


def test_title_and_file_with_every_special_character():
    failure = Failure("docs/odd, name:1.md", 7, "Exception: ValueError, again 100%", "x\ny")
    assert format_error(failure) == (
        "::error file=docs/odd%2C name%3A1.md,line=7,title=Exception%3A ValueError%2C again 100%25::x%0Ay"
    )


@pytest.mark.parametrize(
    "message",
    [
        "--- expected\n+++ actual\n@@ -1 +1 @@\n-tensor([12., 27.])\n+tensor([12., 28.])\n",
        "Traceback (most recent call last):\r\n  File \"docs/a.md\", line 3\r\nRuntimeError: a, b: 50%",
        "%%0A%0D%25::,:",
    ],
)
def test_what_the_runner_reads_back_is_what_was_written(message):
    failure = Failure("docs/pitfalls.md", 120, "Output differs: block 3, 2 lines", message)
    name, properties, data = parse(format_error(failure))
    assert name == "error"
    assert properties == {"file": "docs/pitfalls.md", "line": "120", "title": failure.title}
    assert data == message


def test_no_line_property_when_the_line_is_unknown():
    assert format_error(Failure("docs/index.md", None, "Page error", "m")) == (
        "::error file=docs/index.md,title=Page error::m"
    )


def test_emitted_only_inside_github_actions(capsys):
    failure = Failure("docs/graph.md", 3, "Timeout", "the block ran for more than 5 s")
    for environ in ({}, {"GITHUB_ACTIONS": "false"}, {"GITHUB_ACTIONS": "1"}, {"CI": "true"}):
        assert emit_error(failure, environ=environ) is False
    assert capsys.readouterr().out == ""
    assert emit_error(failure, environ=ACTIONS) is True
    assert capsys.readouterr().out == "::error file=docs/graph.md,line=3,title=Timeout::the block ran for more than 5 s\n"


def test_emitted_on_the_stream_given():
    stream = io.StringIO()
    emit_error(Failure("docs/a.md", 2, "T", "one\ntwo"), environ=ACTIONS, stream=stream)
    assert stream.getvalue() == "::error file=docs/a.md,line=2,title=T::one%0Atwo\n"


DIFF = "--- expected\n+++ actual\n@@ -1,2 +1,2 @@\n-tensor([12., 27.])\n+tensor([12., 28.])"


def test_the_summary_lists_every_failure_with_its_diff(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    failures = [
        Failure("docs/gradients.md", 84, "Output differs", "the output differs from the expected output", DIFF),
        Failure("docs/graph.md", 12, "Exception", "RuntimeError: <grad> & co", "Traceback ...\nRuntimeError"),
    ]
    assert append_summary(failures, environ={"GITHUB_STEP_SUMMARY": str(summary)}) is True
    text = summary.read_text()
    assert text.startswith("earlier step\n### Failing examples (2)\n")  # appended, never overwritten
    assert "#### `docs/gradients.md:84`: Output differs\n" in text
    assert "#### `docs/graph.md:12`: Exception\n" in text
    assert f"```diff\n{DIFF}\n```\n" in text
    assert "RuntimeError: &lt;grad&gt; &amp; co" in text  # a message is text, never HTML
    assert text.index("docs/gradients.md") < text.index("docs/graph.md")


def test_the_summary_links_each_place_in_actions():
    environ = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_SHA": "abc123"}
    text = summary_markdown([Failure("docs/a.md", 5, "T", "m", DIFF)], "Failing examples", environ)
    assert "[`docs/a.md:5`](https://github.com/o/r/blob/abc123/docs/a.md#L5)" in text


def test_a_diff_holding_backticks_gets_a_longer_fence():
    diff = "-```python\n+````text"
    text = summary_markdown([Failure("docs/a.md", 1, "T", "m", diff)], "H", {})
    assert f"`````diff\n{diff}\n`````\n" in text


def test_nothing_written_without_a_summary_file_or_without_failures(tmp_path):
    summary = tmp_path / "summary.md"
    assert append_summary([Failure("docs/a.md", 1, "T", "m")], environ={}) is False
    assert append_summary([], environ={"GITHUB_STEP_SUMMARY": str(summary)}) is False
    assert not summary.exists()
