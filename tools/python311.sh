#!/bin/sh
# The Makefile's Python check: prints the path of the first of its arguments (commands or paths) that is
# Python 3.11, 3.11.5 or later (pymdown-extensions, pinned in requirements.in, needs 3.11.5), and exits 0.
# Otherwise it says what it found and what to install, on stderr, and exits 1.
#   sh tools/python311.sh python3.11 python3
found=""
for candidate in "$@"; do
  if ! path=$(command -v "$candidate" 2>/dev/null); then
    found="$found  $candidate: not found
"
    continue
  fi
  version=$("$path" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) || version="unknown"
  case "$version" in
    3.11.[5-9] | 3.11.[1-9][0-9]) echo "$path"; exit 0 ;;
  esac
  found="$found  $candidate ($path): Python $version
"
done
{
  echo "make: this course needs Python 3.11 (3.11.5 or later), and found none:"
  printf '%s\n' "$found"
  echo "Install Python 3.11, then run make again:"
  echo "  - macOS: brew install python@3.11, or the installer from https://www.python.org/downloads/"
  echo "  - Linux: your distribution's python3.11 package if it is 3.11.5 or later (Ubuntu: the deadsnakes PPA),"
  echo "    or uv python install 3.11, or pyenv install 3.11"
  echo "Or name one: make test PYTHON=/path/to/python3.11"
} >&2
exit 1
