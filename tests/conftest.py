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
