from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption(
        "--update-outputs",
        action="store_true",
        help="rewrite the expected-output fences of the course pages with what the blocks print now",
    )

# Fixture pages and snippets are read by the tests, never collected (pytest-markdown-docs would run them).
collect_ignore = ["fixtures"]


def pytest_terminal_summary(terminalreporter):
    """No silent skip: every block whose output this platform did not compare (`platforms=` on its fence)."""
    import sys

    from docexec.engine import this_platform

    UNCOMPARED = getattr(sys.modules.get("test_pages"), "UNCOMPARED", [])
    if not UNCOMPARED:
        return
    terminalreporter.section(f"blocks not compared on {this_platform()}")
    for result in UNCOMPARED:
        terminalreporter.line(f"{result.page}:{result.line}: ran, output not compared (checked on {', '.join(result.block.platforms)})")
